"""Report periods: Vietnamese date input, named periods, local-midnight bounds in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from scheduler.reports.periods import (
    Period,
    months_within,
    named_period,
    parse_local_date,
    resolve_period,
)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize("text", ["2026-11-23", "23/11/2026", " 23/11/2026 "])
def test_both_iso_and_vietnamese_day_month_year_dates_are_read(text: str) -> None:
    assert parse_local_date(text) == date(2026, 11, 23)


def test_single_digit_day_and_month_are_read() -> None:
    assert parse_local_date("1/2/2026") == date(2026, 2, 1)


@pytest.mark.parametrize("text", ["31/11/2026", "2026-02-30", "11/23/2026", "hôm nay", "23-11-2026", ""])
def test_impossible_or_foreign_dates_are_refused_in_vietnamese(text: str) -> None:
    with pytest.raises(ValueError, match="không hợp lệ") as info:
        parse_local_date(text)
    assert f"«{text}»" in str(info.value)
    assert "23/11/2026" in str(info.value)  # says what to type instead


def test_end_before_start_is_refused_with_both_dates() -> None:
    with pytest.raises(ValueError) as info:
        Period.custom(date(2026, 11, 30), date(2026, 11, 1))
    assert "01/11/2026" in str(info.value) and "30/11/2026" in str(info.value)


def test_period_bounds_are_local_midnights_in_utc() -> None:
    start, end = Period.custom(date(2026, 11, 1), date(2026, 11, 30)).utc_bounds(TZ)
    assert start == datetime(2026, 10, 31, 17, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 30, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "index", "first", "last", "label"),
    [
        ("thang", 2, date(2026, 2, 1), date(2026, 2, 28), "Tháng 2 năm 2026"),
        ("quy", 4, date(2026, 10, 1), date(2026, 12, 31), "Quý IV năm 2026"),
        ("quy", 1, date(2026, 1, 1), date(2026, 3, 31), "Quý I năm 2026"),
        ("6thang", 1, date(2026, 1, 1), date(2026, 6, 30), "6 tháng đầu năm 2026"),
        ("6thang", 2, date(2026, 7, 1), date(2026, 12, 31), "6 tháng cuối năm 2026"),
        ("nam", None, date(2026, 1, 1), date(2026, 12, 31), "Năm 2026"),
    ],
)
def test_named_periods_cover_their_calendar_span(kind: str, index: int | None, first: date, last: date,
                                                 label: str) -> None:
    period = named_period(kind, 2026, index)
    assert (period.first, period.last, period.label) == (first, last, label)


def test_leap_february_has_29_days() -> None:
    assert named_period("thang", 2028, 2).last == date(2028, 2, 29)


@pytest.mark.parametrize(("kind", "index"), [("thang", 13), ("quy", 5), ("6thang", 3), ("thang", None), ("tuan", 1)])
def test_out_of_range_period_index_is_refused(kind: str, index: int | None) -> None:
    with pytest.raises(ValueError, match="không"):
        named_period(kind, 2026, index)


def test_whole_months_inside_a_custom_period() -> None:
    period = Period.custom(date(2026, 1, 15), date(2026, 4, 30))
    assert months_within(period) == [date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)]
    assert months_within(Period.custom(date(2026, 1, 2), date(2026, 1, 30))) == []


def test_resolve_period_reads_named_period_from_text() -> None:
    assert resolve_period(None, None, "quy", "2026", "3").label == "Quý III năm 2026"
    assert resolve_period("01/11/2026", "2026-11-30", None, None, None).days == 30


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("01/11/2026", None, None, None, None), "Thiếu kỳ báo cáo"),
        ((None, None, "quy", None, "1"), "Thiếu năm"),
        (("01/11/2026", "30/11/2026", "quy", "2026", "1"), "không dùng cả hai"),
        ((None, None, "thang", "năm nay", "1"), "số nguyên"),
    ],
)
def test_resolve_period_explains_what_is_missing(args: tuple[str | None, ...], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        resolve_period(*args)
