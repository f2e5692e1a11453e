"""Report periods: local calendar dates (month, quarter, half-year, year, custom) and their UTC bounds.

A period is a closed range of local dates in the province's zone; queries use the half-open
UTC range [start of the first day, start of the day after the last).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PERIOD_KINDS: dict[str, str] = {
    "thang": "tháng",
    "quy": "quý",
    "6thang": "6 tháng",
    "nam": "năm",
}

_ROMAN = ("I", "II", "III", "IV")
_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def parse_local_date(text: str) -> date:
    """Parse 2026-11-23 or 23/11/2026; raise ValueError with a Vietnamese message otherwise."""
    value = text.strip()
    match = _ISO.match(value)
    parts: tuple[int, int, int] | None = None
    if match:
        parts = (int(match[1]), int(match[2]), int(match[3]))
    else:
        match = _DMY.match(value)
        if match:
            parts = (int(match[3]), int(match[2]), int(match[1]))
    try:
        if parts is None:
            raise ValueError
        return date(*parts)
    except ValueError:
        raise ValueError(
            f"Ngày «{text}» không hợp lệ. Nhập ngày có thật theo dạng 2026-11-23 hoặc 23/11/2026."
        ) from None


def format_date(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


@dataclass(frozen=True)
class Period:
    """Local dates `first`..`last` (both included) with a Vietnamese label for report titles."""

    first: date
    last: date
    label: str

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(
                f"Ngày kết thúc {format_date(self.last)} trước ngày bắt đầu {format_date(self.first)}. "
                "Hãy đổi lại hai ngày cho đúng thứ tự."
            )

    @classmethod
    def custom(cls, first: date, last: date) -> Period:
        return cls(first, last, f"Từ ngày {format_date(first)} đến ngày {format_date(last)}")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def each_day(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(self.days)]

    def utc_bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) in UTC: local midnight of `first` to local midnight after `last`."""
        return day_start(self.first, tz), day_start(self.last + timedelta(days=1), tz)


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant of local midnight starting `day`."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return day_start(day, tz), day_start(day + timedelta(days=1), tz)


def named_period(kind: str, year: int, index: int | None = None) -> Period:
    """Month (thang 1-12), quarter (quy 1-4), half-year (6thang 1-2) or year (nam) of `year`."""
    if kind not in PERIOD_KINDS:
        raise ValueError(f"Loại kỳ báo cáo «{kind}» không có. Chọn một trong: {', '.join(PERIOD_KINDS)}.")
    if not 1900 <= year <= 9999:
        raise ValueError(f"Năm {year} không hợp lệ. Nhập năm có bốn chữ số, ví dụ 2026.")
    if kind == "nam":
        return Period(date(year, 1, 1), date(year, 12, 31), f"Năm {year}")
    limits = {"thang": 12, "quy": 4, "6thang": 2}
    if index is None or not 1 <= index <= limits[kind]:
        raise ValueError(
            f"Kỳ {PERIOD_KINDS[kind]} số «{index}» không hợp lệ. "
            f"Nhập số thứ tự từ 1 đến {limits[kind]} (--index)."
        )
    months_per = {"thang": 1, "quy": 3, "6thang": 6}[kind]
    first_month = (index - 1) * months_per + 1
    last_month = first_month + months_per - 1
    first = date(year, first_month, 1)
    last = date(year, last_month, calendar.monthrange(year, last_month)[1])
    if kind == "thang":
        label = f"Tháng {index} năm {year}"
    elif kind == "quy":
        label = f"Quý {_ROMAN[index - 1]} năm {year}"
    else:
        label = f"6 tháng {'đầu' if index == 1 else 'cuối'} năm {year}"
    return Period(first, last, label)


def months_within(period: Period) -> list[date]:
    """First days of the calendar months that lie wholly inside `period`."""
    months: list[date] = []
    cursor = period.first if period.first.day == 1 else _next_month(period.first)
    while True:
        last = date(cursor.year, cursor.month, calendar.monthrange(cursor.year, cursor.month)[1])
        if last > period.last:
            return months
        months.append(cursor)
        cursor = _next_month(cursor)


def month_days(month: date) -> list[date]:
    count = calendar.monthrange(month.year, month.month)[1]
    return [date(month.year, month.month, d) for d in range(1, count + 1)]


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def resolve_period(
    date_from: str | None, date_to: str | None, kind: str | None, year: str | int | None, index: str | int | None
) -> Period:
    """A period from free text: from/to dates, or kind + year (+ index); ValueError in Vietnamese otherwise."""
    if kind:
        if date_from or date_to:
            raise ValueError("Chọn một cách: hoặc từ ngày/đến ngày, hoặc kỳ báo cáo (tháng, quý…), không dùng cả hai.")
        if year in (None, ""):
            raise ValueError("Thiếu năm: báo cáo theo kỳ cần năm, ví dụ 2026.")
        try:
            year_n = int(year)
            index_n = None if index is None or index == "" else int(index)
        except ValueError:
            raise ValueError(f"Năm «{year}» và số thứ tự kỳ «{index}» phải là số nguyên.") from None
        return named_period(kind, year_n, index_n)
    if not date_from or not date_to:
        raise ValueError(
            "Thiếu kỳ báo cáo: nhập từ ngày và đến ngày (ví dụ 01/11/2026 và 30/11/2026), "
            "hoặc chọn kỳ tháng, quý, 6 tháng, năm."
        )
    return Period.custom(parse_local_date(date_from), parse_local_date(date_to))
