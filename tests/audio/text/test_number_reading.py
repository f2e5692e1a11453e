"""Cardinals, decimals, digit strings, ordinals, months and Roman numerals read the Vietnamese way."""

from __future__ import annotations

import random
import re

import pytest
from vietnamese_numbers import parse_cardinal

from audio.text.numbers import (
    NORTH,
    SOUTH,
    cardinal,
    dialect_for,
    digits,
    month,
    numeral,
    ordinal,
    roman_to_int,
)

CARDINALS = [
    (0, "không"),
    (1, "một"),
    (4, "bốn"),
    (5, "năm"),
    (10, "mười"),
    (11, "mười một"),
    (14, "mười bốn"),
    (15, "mười lăm"),
    (20, "hai mươi"),
    (21, "hai mươi mốt"),
    (24, "hai mươi tư"),
    (25, "hai mươi lăm"),
    (50, "năm mươi"),
    (55, "năm mươi lăm"),
    (91, "chín mươi mốt"),
    (100, "một trăm"),
    (101, "một trăm linh một"),
    (104, "một trăm linh bốn"),
    (105, "một trăm linh năm"),
    (110, "một trăm mười"),
    (111, "một trăm mười một"),
    (115, "một trăm mười lăm"),
    (121, "một trăm hai mươi mốt"),
    (1000, "một nghìn"),
    (1005, "một nghìn không trăm linh năm"),
    (1015, "một nghìn không trăm mười lăm"),
    (1722, "một nghìn bảy trăm hai mươi hai"),
    (2021, "hai nghìn không trăm hai mươi mốt"),
    (2024, "hai nghìn không trăm hai mươi tư"),
    (2030, "hai nghìn không trăm ba mươi"),
    (15_000, "mười lăm nghìn"),
    (50_000, "năm mươi nghìn"),
    (1_000_000, "một triệu"),
    (1_000_005, "một triệu không trăm linh năm"),
    (1_001_000, "một triệu không trăm linh một nghìn"),
    (2_500_000, "hai triệu năm trăm nghìn"),
    (1_200_000_000, "một tỷ hai trăm triệu"),
    (1_000_000_021, "một tỷ không trăm hai mươi mốt"),
    (1_000_000_000_000, "một nghìn tỷ"),
    (-5, "âm năm"),
]


@pytest.mark.parametrize(("number", "spoken"), CARDINALS, ids=[str(n) for n, _ in CARDINALS])
def test_cardinal_follows_vietnamese_reading_rules(number: int, spoken: str) -> None:
    assert cardinal(number) == spoken


def test_southern_dialect_says_le_and_ngan() -> None:
    assert cardinal(105, SOUTH) == "một trăm lẻ năm"
    assert cardinal(2021, SOUTH) == "hai ngàn không trăm hai mươi mốt"
    assert cardinal(1_000_005, SOUTH) == "một triệu không trăm lẻ năm"


def test_unknown_variant_is_refused_in_vietnamese() -> None:
    with pytest.raises(ValueError, match="Biến thể vùng miền không hợp lệ: 'west'.*'north'.*'south'"):
        dialect_for("west")
    assert dialect_for("central") is NORTH


def test_sampled_integers_round_trip_through_speech() -> None:
    rng = random.Random(20240928)
    samples = set(range(0, 2_100)) | {rng.randrange(0, 1_000_001) for _ in range(20_000)}
    samples |= {rng.randrange(0, 10**13) for _ in range(2_000)}
    for n in sorted(samples):
        for dialect in (NORTH, SOUTH):
            spoken = cardinal(n, dialect)
            assert not re.search(r"\d", spoken)
            assert parse_cardinal(spoken) == n, (n, spoken)


def test_sampled_integers_obey_the_special_unit_words() -> None:
    rng = random.Random(7)
    for n in [rng.randrange(0, 1_000_001) for _ in range(5_000)]:
        words = cardinal(n).split()
        for before, word in zip(["^", *words], words, strict=False):
            if word == "mốt":  # 21, 31 ... never 11 or 101
                assert before == "mươi", (n, words)
            if word == "lăm":  # 15, 25 ... never 105
                assert before in ("mười", "mươi"), (n, words)
            if word == "tư":  # 24, 34 ... but 14 is mười bốn
                assert before == "mươi", (n, words)
            if word == "linh":  # only between trăm and a lone unit
                assert before == "trăm", (n, words)


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("50.000", "năm mươi nghìn"),
        ("1.500.000", "một triệu năm trăm nghìn"),
        ("98,5", "chín mươi tám phẩy năm"),
        ("1,25", "một phẩy hai mươi lăm"),
        ("0,05", "không phẩy không năm"),
        ("3,125", "ba phẩy một hai năm"),
        ("1.234,5", "một nghìn hai trăm ba mươi tư phẩy năm"),
        ("1.2", "một chấm hai"),
        ("01", "một"),
        ("0269", "không hai sáu chín"),
    ],
)
def test_written_numbers_use_dots_for_thousands_and_commas_for_decimals(written: str, spoken: str) -> None:
    assert numeral(written) == spoken


def test_digits_are_read_one_by_one() -> None:
    assert digits("1022") == "một không hai hai"
    assert digits("0912") == "không chín một hai"


@pytest.mark.parametrize(("n", "spoken"), [(1, "nhất"), (2, "hai"), (4, "tư"), (6, "sáu"), (14, "mười bốn")])
def test_ordinals_after_thu(n: int, spoken: str) -> None:
    assert ordinal(n) == spoken


@pytest.mark.parametrize(("n", "spoken"), [(1, "một"), (4, "tư"), (9, "chín"), (11, "mười một"), (12, "mười hai")])
def test_month_names_say_tu_for_april_and_mot_for_january(n: int, spoken: str) -> None:
    assert month(n) == spoken


@pytest.mark.parametrize(
    ("roman", "value"),
    [("I", 1), ("II", 2), ("IV", 4), ("IX", 9), ("XII", 12), ("XIV", 14), ("XVI", 16), ("XXI", 21), ("MMXXI", 2021)],
)
def test_well_formed_roman_numerals(roman: str, value: int) -> None:
    assert roman_to_int(roman) == value


@pytest.mark.parametrize("text", ["", "IIII", "VV", "IC", "ABC", "xii"])
def test_malformed_roman_numerals_are_not_numbers(text: str) -> None:
    assert roman_to_int(text) is None
