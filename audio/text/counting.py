"""Numbers whose reading depends on the word before them: months (tháng 4 -> tháng tư), ordinals
(lần thứ 4 -> lần thứ tư, thứ 1 -> thứ nhất), Roman numerals after counting words (Quý II, khóa XII,
Chương III) or heading a line ('I. MỤC ĐÍCH'), and list markers ('a)', '1)').

A Roman numeral here is read only after a cue word or at the start of a line followed by '.', so
initials (Nguyễn Văn X) are never mistaken for numbers; multi-letter ones without a cue (XII at
the start of a line that continues 'khóa') are left to the ALL-CAPS rule in abbreviations.py.
"""

from __future__ import annotations

import re

from audio.text.letters import LETTER_NAMES
from audio.text.numbers import cardinal, month, ordinal, roman_to_int
from audio.text.rules import Context, padded

_MONTH = re.compile(r"(?<!\w)(?P<cue>(?i:tháng))\s+(?P<m>\d{1,2})(?:\s*[-–—]\s*(?P<m2>\d{1,2}))?(?![\w/]|[.,]\d)")
_ORDINAL = re.compile(r"(?<!\w)(?P<cue>(?i:thứ|hạng))\s+(?P<n>\d{1,3}|[IVX]+)(?![\w/]|[.,]\d)")
_CUES = (
    "quý|khóa|khoá|chương|phần|mục|đại hội|thế kỷ|thế kỉ|điều|phụ lục|kỳ họp|kỳ|kì|tập|cấp|loại|"
    "vùng|giai đoạn|đợt|khu vực|bậc|lần|số"
)
# Found by the numeral first, then the cue is looked for just before it: numerals are rare, cues are not.
_ROMAN = re.compile(r"(?<!\w)[IVX]+(?!\w)")
_CUE_BEFORE = re.compile(rf"(?<!\w)(?:{_CUES})\s+$", re.IGNORECASE)
_HEADING = re.compile(r"^(?P<r>[IVX]+)[.)](?=\s|$)")
_LIST_LETTER = re.compile(r"^(?P<l>[a-zđ])\)(?=\s)")
_LIST_NUMBER = re.compile(r"^(?P<n>\d{1,3})\)(?=\s)")


def _months(match: re.Match[str], ctx: Context) -> str:
    first, second = match.group("m", "m2")
    if not 1 <= int(first) <= 12 or (second is not None and not 1 <= int(second) <= 12):
        return match.group(0)
    spoken = f"{match.group('cue')} {month(int(first), ctx.dialect)}"
    if second is not None:
        spoken += f" đến tháng {month(int(second), ctx.dialect)}"
    return padded(match, spoken)


def _ordinals(match: re.Match[str], ctx: Context) -> str:
    written = match.group("n")
    value = int(written) if written.isdecimal() else roman_to_int(written)
    if not value:
        return match.group(0)
    return padded(match, f"{match.group('cue')} {ordinal(value, ctx.dialect)}")


def _roman_after_cue(match: re.Match[str], ctx: Context) -> str:
    value = roman_to_int(match.group(0))
    before = match.string[max(0, match.start() - 16) : match.start()]
    if value is None or not _CUE_BEFORE.search(before):
        return match.group(0)
    return padded(match, cardinal(value, ctx.dialect))


def speak_counting(text: str, ctx: Context) -> str:
    """Replace month numbers, ordinals, counted Roman numerals and line-start list markers."""
    heading = _HEADING.match(text)
    if heading and (value := roman_to_int(heading.group("r"))):
        text = cardinal(value, ctx.dialect) + "." + text[heading.end() :]
    text = _LIST_LETTER.sub(lambda m: LETTER_NAMES[m.group("l").upper()] + ",", text)
    text = _LIST_NUMBER.sub(lambda m: cardinal(int(m.group("n")), ctx.dialect) + ",", text)
    text = _ROMAN.sub(lambda m: _roman_after_cue(m, ctx), text)
    text = _ORDINAL.sub(lambda m: _ordinals(m, ctx), text)
    return _MONTH.sub(lambda m: _months(m, ctx), text)
