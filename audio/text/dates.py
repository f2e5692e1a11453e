"""Dates and times of day: 28/9/2021, 18/01/2021, 2021-09-28, tháng 12/2026, 12/2026, 'từ 24/9', Quý II/2024,
17h30, 17h, 17:30; ranges with a dash ('07:00–20:00', '24/9 - 30/9') are read 'X đến Y'.

A full date always says 'ngày' (28/9/2021 -> 'ngày hai mươi tám tháng chín năm ...') without
doubling one already written; April is 'tháng tư'.
"""

from __future__ import annotations

import re
from functools import partial

from audio.text.numbers import Dialect, cardinal, month, roman_to_int
from audio.text.rules import Context, has_digit, padded

_DASH = r"\s*[-–—]\s*"
_END = r"(?![\w/]|[.,-]\d)"


def _dmy(i: int) -> str:
    return rf"(?P<d{i}>\d{{1,2}})(?P<s{i}>[/.-])(?P<m{i}>\d{{1,2}})(?P=s{i})(?P<y{i}>\d{{4}})"


def _time(i: int) -> str:
    return rf"(?P<h{i}>\d{{1,2}})(?:(?P<u{i}>[hg])(?P<mh{i}>\d{{2}})?|:(?P<mc{i}>\d{{2}})(?::(?P<sc{i}>\d{{2}}))?)"


_ISO = re.compile(rf"(?<![\w/.,-])(?:(?P<cue>[Nn]gày)\s+)?(?P<y>\d{{4}})-(?P<m>\d{{1,2}})-(?P<d>\d{{1,2}}){_END}")
_FULL = re.compile(rf"(?<![\w/.,-])(?:(?P<cue>[Nn]gày)\s+)?{_dmy(1)}(?:{_DASH}(?:[Nn]gày\s+)?{_dmy(2)})?{_END}")
_MONTH_YEAR = re.compile(
    rf"(?<![\w/.,-])(?:(?P<cue>[Tt]háng)\s+)?(?P<m>\d{{1,2}})/(?P<y>\d{{4}})"
    rf"(?:{_DASH}(?:[Tt]háng\s+)?(?P<m2>\d{{1,2}})/(?P<y2>\d{{4}}))?{_END}"
)
# A day/month is a date after a cue word or in a range; bare, only if it ends the phrase
# ('Hạn nộp: 30/6.'): '15/19 tiêu chí' is a ratio and '3/4 số hộ' a fraction (see quantities.py).
_DAY_MONTH = re.compile(
    rf"(?<![\w/.,-])(?P<d>\d{{1,2}})/(?P<m>\d{{1,2}})(?:{_DASH}(?:[Nn]gày\s+)?(?P<d2>\d{{1,2}})/(?P<m2>\d{{1,2}}))?{_END}"
)
# The cue is looked for before a day/month found first: trying it at every position is slow.
_DAY_CUE_BEFORE = re.compile(r"(?<!\w)(ngày|từ|đến|sáng|chiều|tối|trưa|đêm|hôm|và)\s+$", re.IGNORECASE)
_PHRASE_END = re.compile(r"\s*(?:$|[.,;:!?)\]]|năm\b)")
_QUARTER = re.compile(r"(?<!\w)(?P<cue>(?i:quý))\s+(?P<q>I{1,3}|IV|[1-4])\s?/\s?(?P<y>\d{4})(?![\w/]|[.,]\d)")
_TIME = re.compile(rf"(?<![\w:.,/])(?:{_time(1)})(?:{_DASH}{_time(2)})?(?![\w:]|[.,]\d)")


def _valid(day: str | None, mon: str) -> bool:
    return 1 <= int(mon) <= 12 and (day is None or 1 <= int(day) <= 31)


def _date(day: str, mon: str, year: str | None, dialect: Dialect, cue: str = "ngày") -> str:
    words = f"{cue} {cardinal(int(day), dialect)} tháng {month(int(mon), dialect)}"
    return words + (f" năm {cardinal(int(year), dialect)}" if year else "")


def _iso(match: re.Match[str], ctx: Context) -> str:
    d, m, y = match.group("d", "m", "y")
    if not _valid(d, m):
        return match.group(0)
    return padded(match, _date(d, m, y, ctx.dialect, match.group("cue") or "ngày"))


def _full(match: re.Match[str], ctx: Context) -> str:
    d1, m1, y1, d2, m2, y2 = match.group("d1", "m1", "y1", "d2", "m2", "y2")
    if not _valid(d1, m1) or (d2 is not None and not _valid(d2, m2)):
        return match.group(0)
    spoken = _date(d1, m1, y1, ctx.dialect, match.group("cue") or "ngày")
    if d2 is not None:
        spoken += " đến " + _date(d2, m2, y2, ctx.dialect)
    return padded(match, spoken)


def _month_year(match: re.Match[str], ctx: Context) -> str:
    m1, y1, m2, y2 = match.group("m", "y", "m2", "y2")
    if not _valid(None, m1) or (m2 is not None and not _valid(None, m2)):
        return match.group(0)
    cue = match.group("cue") or "tháng"
    spoken = f"{cue} {month(int(m1), ctx.dialect)} năm {cardinal(int(y1), ctx.dialect)}"
    if m2 is not None:
        spoken += f" đến tháng {month(int(m2), ctx.dialect)} năm {cardinal(int(y2), ctx.dialect)}"
    return padded(match, spoken)


def _day_month(match: re.Match[str], ctx: Context) -> str:
    d1, m1, d2, m2 = match.group("d", "m", "d2", "m2")
    if not _valid(d1, m1) or (d2 is not None and not _valid(d2, m2)):
        return match.group(0)
    cue = _DAY_CUE_BEFORE.search(match.string, max(0, match.start() - 8), match.start())
    if cue is None and d2 is None:
        fraction = int(d1) < int(m1) <= 4
        if fraction or not _PHRASE_END.match(match.string, match.end()):
            return match.group(0)
    spoken = _date(d1, m1, None, ctx.dialect)
    if cue and cue.group(1).lower() == "ngày":
        spoken = spoken[len("ngày ") :]  # the 'ngày' written before it is kept
    if d2 is not None:
        spoken += " đến " + _date(d2, m2, None, ctx.dialect)
    return padded(match, spoken)


def _quarter(match: re.Match[str], ctx: Context) -> str:
    written = match.group("q")
    number = int(written) if written.isdecimal() else roman_to_int(written) or 0
    return padded(
        match,
        f"{match.group('cue')} {cardinal(number, ctx.dialect)} năm {cardinal(int(match.group('y')), ctx.dialect)}",
    )


def _clock(hours: str, minutes: str | None, seconds: str | None, dialect: Dialect) -> str | None:
    if int(hours) > 24 or (minutes and int(minutes) > 59) or (seconds and int(seconds) > 59):
        return None
    spoken = f"{cardinal(int(hours), dialect)} giờ"
    if minutes and int(minutes):
        spoken += f" {cardinal(int(minutes), dialect)} phút"
    if seconds and int(seconds):
        spoken += f" {cardinal(int(seconds), dialect)} giây"
    return spoken


def _time_of_day(match: re.Match[str], i: int, dialect: Dialect) -> str | None:
    hours, unit = match.group(f"h{i}", f"u{i}")
    if unit == "g" and match.group(f"mh{i}") is None:
        return None  # '5g' is five grams; '17g30' is a (Southern) time
    minutes = match.group(f"mh{i}") or match.group(f"mc{i}")
    return _clock(hours, minutes, match.group(f"sc{i}"), dialect)


def _times(match: re.Match[str], ctx: Context) -> str:
    first = _time_of_day(match, 1, ctx.dialect)
    second = _time_of_day(match, 2, ctx.dialect) if match.group("h2") else ""
    if first is None or second is None:
        return match.group(0)
    return padded(match, first + (f" đến {second}" if second else ""))


def speak_dates(text: str, ctx: Context) -> str:
    """Replace written dates and times of day by their spoken form."""
    if not has_digit(text):
        return text
    for pattern, speak in (
        (_ISO, _iso),
        (_FULL, _full),
        (_QUARTER, _quarter),
        (_MONTH_YEAR, _month_year),
        (_DAY_MONTH, _day_month),
        (_TIME, _times),
    ):
        text = pattern.sub(partial(speak, ctx=ctx), text)
    return text
