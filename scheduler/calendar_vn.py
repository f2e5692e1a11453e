"""Vietnamese public holidays (incl. lunar Tết) and helpers to turn them into planner holiday windows.

Official days off come from the `holidays` package (`holidays.VN`, Vietnamese names, including the
government's Tết bridge days); the traditional lunar dates (Giao thừa, mùng 1–3 Tết, Giỗ Tổ Hùng Vương)
are computed with `lunardate` so they are right for any year.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, timedelta

import holidays
from lunardate import LunarDate

from scheduler.domain import IsoWeek, Policy, WeeklyWindow
from scheduler.planning.windows import parse_windows


def tet_day(year: int) -> date:
    """Mùng 1 Tết Nguyên Đán (first day of the lunar year that starts in solar `year`)."""
    solar: date = LunarDate(year, 1, 1).to_solar_date()
    return solar


def tet_days(year: int) -> dict[date, str]:
    """The traditional Tết days: Giao thừa (lunar New Year's Eve) and mùng 1, 2, 3 Tết."""
    first = tet_day(year)
    return {
        first - timedelta(days=1): "Giao thừa Tết Nguyên Đán",
        first: "Mùng một Tết Nguyên Đán",
        first + timedelta(days=1): "Mùng hai Tết Nguyên Đán",
        first + timedelta(days=2): "Mùng ba Tết Nguyên Đán",
    }


def hung_kings_day(year: int) -> date:
    """Giỗ Tổ Hùng Vương, 10th day of the 3rd lunar month."""
    solar: date = LunarDate(year, 3, 10).to_solar_date()
    return solar


def public_holidays(year: int) -> dict[date, str]:
    """Days off in `year`, date -> Vietnamese name: the official list plus the traditional Tết days."""
    official = holidays.country_holidays("VN", years=year, language="vi")
    days: dict[date, str] = {day: str(name) for day, name in official.items()}
    for day, name in tet_days(year).items():
        days.setdefault(day, name)
    days.setdefault(hung_kings_day(year), "Ngày Giỗ Tổ Hùng Vương")
    return dict(sorted(days.items()))


def holidays_between(first: date, last: date) -> dict[date, str]:
    """Public holidays from `first` to `last` inclusive."""
    found: dict[date, str] = {}
    for year in range(first.year, last.year + 1):
        found.update({d: n for d, n in public_holidays(year).items() if first <= d <= last})
    return dict(sorted(found.items()))


def holidays_in_week(week: IsoWeek) -> dict[date, str]:
    """Public holidays falling in an ISO week (which may span two years)."""
    days = week.days()
    return holidays_between(days[0], days[-1])


def parse_day(text: str | date) -> date:
    """`2027-02-06` or `06/02/2027` -> date; ValueError in Vietnamese otherwise."""
    if isinstance(text, date):
        return text
    value = text.strip()
    try:
        if "/" in value:
            day, month, year = (int(p) for p in value.split("/"))
            return date(year, month, day)
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"Ngày nghỉ lễ «{text}» không hợp lệ. "
            "Dùng dạng NĂM-THÁNG-NGÀY (2027-02-06) hoặc NGÀY/THÁNG/NĂM (06/02/2027)."
        ) from None


def holiday_windows(
    days: Mapping[date | str, str | Iterable[WeeklyWindow] | None] | Iterable[date | str],
    windows: Iterable[WeeklyWindow] = (),
) -> dict[date, tuple[WeeklyWindow, ...]]:
    """`Policy.holidays` entries: replacement windows per date (an empty tuple means silence).

    `days` is either a mapping date -> window spec (as stored in a policy, e.g.
    {"2027-02-06": "T2-CN 07:00-07:30"}, "" for silence) or a list of dates that all get `windows`.
    """
    found: dict[date, tuple[WeeklyWindow, ...]] = {}
    if isinstance(days, Mapping):
        for key, value in days.items():
            if value is None or isinstance(value, str):
                spec = value or ""
                try:
                    replacement = parse_windows(spec)
                except ValueError as error:
                    raise ValueError(f"Ngày nghỉ lễ {key}: {error}") from None
            else:
                replacement = tuple(value)
            found[parse_day(key)] = replacement
    else:
        replacement = tuple(windows)
        for key in days:
            found[parse_day(key)] = replacement
    return dict(sorted(found.items()))


def with_holidays(policy: Policy, first: date, last: date, windows: Iterable[WeeklyWindow] = ()) -> Policy:
    """A copy of `policy` whose public holidays between `first` and `last` use `windows` instead.

    Dates already present in `policy.holidays` keep their own replacement.
    """
    added = holiday_windows(list(holidays_between(first, last)), windows)
    added.update(policy.holidays)
    return replace(policy, holidays=dict(sorted(added.items())))
