"""Properties of the normalizer that must hold for any text: no digits or acronyms left, idempotent,
one output line per input line, the same result through normalize() and normalize_lines()."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from vietnamese_numbers import parse_cardinal

from audio.text import Lexicon, normalize, normalize_lines

# Copies of ../shared/seeds, kept in the repository so the suite runs from any clone.
SEEDS = Path(__file__).resolve().parents[2] / "data" / "seeds"
SEED_FILES = sorted(SEEDS.glob("*.txt"))
assert SEED_FILES, f"seed documents missing from {SEEDS}"

ALL_CAPS_WORD = re.compile(r"\b[^\W\d_]*[A-ZĐ][^\W\d_]*[A-ZĐ][^\W\d_]*\b")


@pytest.fixture(scope="module")
def corpus() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in SEED_FILES)


@pytest.fixture(scope="module")
def spoken_corpus(corpus: str) -> str:
    return normalize(corpus)


def test_no_digit_survives_in_the_seed_documents(spoken_corpus: str) -> None:
    assert re.findall(r".{0,30}\d.{0,30}", spoken_corpus) == []


def test_no_acronym_survives_in_the_seed_documents(spoken_corpus: str) -> None:
    assert ALL_CAPS_WORD.findall(spoken_corpus) == []


def test_only_pause_punctuation_survives_in_the_seed_documents(spoken_corpus: str) -> None:
    assert set(re.findall(r"[^\w\s]", spoken_corpus)) <= set(".,;:!?-“”\"'")


def test_normalize_is_idempotent_on_its_own_output(spoken_corpus: str) -> None:
    again = normalize(spoken_corpus)
    changed = [(a, b) for a, b in zip(spoken_corpus.split("\n"), again.split("\n"), strict=True) if a != b]
    assert changed == []


@pytest.mark.parametrize("variant", ["north", "south"])
def test_normalize_lines_keeps_one_line_per_input_line(corpus: str, variant: str) -> None:
    lines = corpus.splitlines()
    spoken = normalize_lines(lines, variant=variant)
    assert len(spoken) == len(lines)
    assert [bool(s) for s in spoken] == [bool(line.strip()) for line in lines]


def test_normalize_lines_matches_normalize(corpus: str, spoken_corpus: str) -> None:
    assert normalize_lines(corpus.split("\n")) == spoken_corpus.split("\n")


def test_normalize_lines_drops_line_endings_but_not_lines() -> None:
    assert normalize_lines(["Năm 2024\r\n", "\n", "Quý II\n"]) == [
        "Năm hai nghìn không trăm hai mươi tư",
        "",
        "Quý hai",
    ]


def test_normalize_keeps_line_breaks_and_handles_windows_endings() -> None:
    assert normalize("Ngày 4\r\n\r\nTháng 4\n") == "Ngày bốn\n\nTháng tư\n"


def test_empty_and_blank_text_stay_empty() -> None:
    assert normalize("") == ""
    assert normalize("   \t ") == ""
    assert normalize_lines([]) == []


def test_sampled_integers_in_text_are_fully_spoken() -> None:
    rng = random.Random(2021)
    samples = [0, 1, 10, 11, 15, 21, 24, 100, 101, 105, 1000, 2021, 1_000_000]
    samples += [rng.randrange(0, 1_000_001) for _ in range(1500)]
    for n in samples:
        spoken = normalize(f"có {n} hộ")
        assert spoken.startswith("có ") and spoken.endswith(" hộ"), (n, spoken)
        assert not re.search(r"\d", spoken), (n, spoken)
        assert parse_cardinal(spoken[3:-3]) == n, (n, spoken)


def test_sampled_thousand_grouped_amounts_are_read_as_one_number() -> None:
    rng = random.Random(5)
    for n in [rng.randrange(1000, 10**12) for _ in range(500)]:
        written = f"{n:,}".replace(",", ".")
        spoken = normalize(f"{written} đồng")
        assert parse_cardinal(spoken.removesuffix(" đồng")) == n, (written, spoken)


def test_unknown_variant_is_refused_with_a_vietnamese_message() -> None:
    with pytest.raises(ValueError, match="Biến thể vùng miền không hợp lệ"):
        normalize("năm 2024", variant="west")
    with pytest.raises(ValueError, match="Biến thể vùng miền không hợp lệ"):
        normalize_lines(["năm 2024"], variant="")


def test_central_variant_reads_with_northern_number_words() -> None:
    # audio.settings allows "central" (an espeak-ng voice); its number words are the Northern ones.
    assert normalize("105 hộ", variant="central") == "một trăm linh năm hộ"


def test_lexicon_argument_replaces_the_default_one() -> None:
    custom = Lexicon({"HTX": "hợp tác xã nông nghiệp"})
    assert normalize("HTX Ia Grai, UBND xã", lexicon=custom) == "hợp tác xã nông nghiệp Ia Grai, u bê en nờ dê xã"


def test_spelled_and_expanded_output_is_stable_for_every_default_entry() -> None:
    for key, expansion in Lexicon.default().items():
        spoken = normalize(key)
        assert normalize(spoken) == spoken, (key, spoken)
        assert not re.search(r"\d", spoken), (key, spoken)
        assert expansion.split()[0].lower() in spoken.lower(), (key, spoken)


FRAGMENT_TEXT = (
    "Quyết định số 38/QĐ-UBND ngày 18/01/2021 của UBND tỉnh; 17h30 0912 345 678 98,5% 50.000đ (0269) 3/4 24/9 -5 "
    "IV XII Quý thứ tháng lần khóa http://dichvucong.gialai.gov.vn/x vanthu@gialai.gov.vn km/h m² °C 1.2.3 1,2,3 "
    "12/2026 2021-2025 2021– –2025 ./. ** ### - ( ) / & % @ … CB,CC,VC Sở TT&TT Đài PT-TH (CCHC) CCHC TTHC "
    "PAR INDEX ICT Đ/c V/v b/c KT. TM. P. 01 02 6 tháng, năm 2024 I. a) 1) ĐT: hotline đường dây nóng 1022"
)


def test_random_mixtures_of_seed_fragments_leave_no_digits_and_are_idempotent() -> None:
    rng = random.Random(1)
    fragments = FRAGMENT_TEXT.split()
    for _ in range(3000):
        text = " ".join(rng.choice(fragments) for _ in range(rng.randrange(1, 12)))
        spoken = normalize(text)
        assert not re.search(r"\d", spoken), (text, spoken)
        assert normalize(spoken) == spoken, (text, spoken)
