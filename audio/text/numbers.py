"""Vietnamese number reading: cardinals, decimals, digit strings, ordinals, months, Roman numerals.

Reading rules (Northern / Southern): 21 hai mươi mốt, 11 mười một, 15 mười lăm, 24 hai mươi tư,
14 mười bốn, 105 một trăm linh/lẻ năm, 2021 hai nghìn/ngàn không trăm hai mươi mốt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DIGIT_WORDS: tuple[str, ...] = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")

# Above this many digits a bare number is an identifier (account, ID card), not a quantity.
MAX_CARDINAL_DIGITS = 15


@dataclass(frozen=True)
class Dialect:
    """The words that differ between Northern and Southern announcers."""

    name: str
    linh: str  # the empty tens place before a unit: 105 = một trăm linh năm / một trăm lẻ năm
    thousand: str  # nghìn / ngàn


NORTH = Dialect("north", "linh", "nghìn")
SOUTH = Dialect("south", "lẻ", "ngàn")
# Central announcers (the espeak-ng "central" voice) read numbers with the Northern words.
_DIALECTS = {"north": NORTH, "central": NORTH, "south": SOUTH}


def dialect_for(variant: str) -> Dialect:
    """The dialect for a variant name; a clear Vietnamese ValueError for anything else."""
    try:
        return _DIALECTS[variant]
    except (KeyError, TypeError):
        raise ValueError(
            f"Biến thể vùng miền không hợp lệ: {variant!r}. Hãy dùng 'north' (giọng Bắc: linh, nghìn) "
            "hoặc 'south' (giọng Nam: lẻ, ngàn)."
        ) from None


def _below_thousand(n: int, dialect: Dialect, with_hundreds: bool) -> list[str]:
    """0 < n < 1000; with_hundreds reads 'không trăm' for a group that follows a higher one."""
    hundreds, rest = divmod(n, 100)
    tens, units = divmod(rest, 10)
    words: list[str] = []
    if hundreds or with_hundreds:
        words += [DIGIT_WORDS[hundreds], "trăm"]
    if tens == 0:
        if units:
            if words:
                words.append(dialect.linh)
            words.append(DIGIT_WORDS[units])
    elif tens == 1:
        words.append("mười")
        if units:
            words.append("lăm" if units == 5 else DIGIT_WORDS[units])
    else:
        words += [DIGIT_WORDS[tens], "mươi"]
        if units:
            words.append({1: "mốt", 4: "tư", 5: "lăm"}.get(units, DIGIT_WORDS[units]))
    return words


def _positive(n: int, dialect: Dialect, follows_higher: bool) -> list[str]:
    if n >= 1_000_000_000:
        high, low = divmod(n, 1_000_000_000)
        words = _positive(high, dialect, follows_higher) + ["tỷ"]
        return words + _positive(low, dialect, True) if low else words
    words = []
    for value, scale in ((n // 1_000_000, "triệu"), (n // 1000 % 1000, dialect.thousand), (n % 1000, "")):
        if value:
            words += _below_thousand(value, dialect, with_hundreds=follows_higher)
            if scale:
                words.append(scale)
            follows_higher = True
    return words


def cardinal(n: int, dialect: Dialect = NORTH) -> str:
    """The spoken cardinal of any integer: cardinal(2021) == 'hai nghìn không trăm hai mươi mốt'."""
    if n < 0:
        return "âm " + cardinal(-n, dialect)
    if n == 0:
        return DIGIT_WORDS[0]
    return " ".join(_positive(n, dialect, follows_higher=False))


def digits(text: str) -> str:
    """Read a string of digits one by one (phone numbers, identifiers): '1022' -> 'một không hai hai'."""
    return " ".join(DIGIT_WORDS[int(ch)] for ch in text if ch.isdecimal())


def integer(text: str, dialect: Dialect = NORTH) -> str:
    """A written integer: '01' -> 'một', but '0269' or very long runs are read digit by digit."""
    if (len(text) >= 3 and text.startswith("0")) or len(text) > MAX_CARDINAL_DIGITS:
        return digits(text)
    return cardinal(int(text), dialect)


def fraction_digits(text: str, dialect: Dialect = NORTH) -> str:
    """The part after the decimal comma: '5' năm, '25' hai mươi lăm, '05' không năm, '125' một hai năm."""
    if len(text) > 2:
        return digits(text)
    stripped = text.lstrip("0")
    zeros = [DIGIT_WORDS[0]] * (len(text) - len(stripped))
    return " ".join(zeros + ([cardinal(int(stripped), dialect)] if stripped else []))


_GROUPED = re.compile(r"\d{1,3}(?:\.\d{3})+")
_DOTTED = re.compile(r"\d+(?:\.\d+)+")


def numeral(text: str, dialect: Dialect = NORTH) -> str:
    """Read a written Vietnamese number: '50.000' (dots group thousands), '98,5' (comma = decimal mark).

    A dotted run that is not thousand groups ('1.2', section numbers) is read with 'chấm'.
    """
    whole, _, frac = text.partition(",")
    if _GROUPED.fullmatch(whole):
        spoken = cardinal(int(whole.replace(".", "")), dialect)
    elif _DOTTED.fullmatch(whole):
        spoken = " chấm ".join(integer(part, dialect) for part in whole.split("."))
    else:
        spoken = integer(whole, dialect)
    if not frac:
        return spoken
    # More than one comma ('1,2,3') is a list written without spaces, not a decimal.
    parts = [fraction_digits(p, dialect) if i == 0 else integer(p, dialect) for i, p in enumerate(frac.split(","))]
    return spoken + " phẩy " + " phẩy ".join(parts)


def ordinal(n: int, dialect: Dialect = NORTH) -> str:
    """After 'thứ': 1 nhất, 4 tư, otherwise the cardinal (thứ hai, thứ mười bốn)."""
    return {1: "nhất", 4: "tư"}.get(n) or cardinal(n, dialect)


def month(n: int, dialect: Dialect = NORTH) -> str:
    """After 'tháng': April is 'tư'; January is 'một' (tháng giêng is only for the lunar calendar)."""
    return "tư" if n == 4 else cardinal(n, dialect)


_ROMAN = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def roman_to_int(text: str) -> int | None:
    """The value of a well-formed Roman numeral ('XII' -> 12), or None if it is not one."""
    if not text or not _ROMAN.fullmatch(text):
        return None
    total = 0
    for ch, nxt in zip(text, text[1:] + " ", strict=True):
        value = _ROMAN_VALUES[ch]
        total += -value if nxt != " " and _ROMAN_VALUES[nxt] > value else value
    return total
