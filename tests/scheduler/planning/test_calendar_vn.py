"""Vietnamese public holidays, including the lunar Tết, and the policy entries built from them."""

from __future__ import annotations

from datetime import date, time

import pytest

from scheduler.calendar_vn import (
    holiday_windows,
    holidays_in_week,
    hung_kings_day,
    public_holidays,
    tet_day,
    tet_days,
    with_holidays,
)
from scheduler.domain import IsoWeek, Policy
from scheduler.planning.windows import parse_windows


def test_tet_2027_falls_on_6_february_with_eve_on_the_5th() -> None:
    assert tet_day(2027) == date(2027, 2, 6)
    assert list(tet_days(2027)) == [date(2027, 2, 5), date(2027, 2, 6), date(2027, 2, 7), date(2027, 2, 8)]
    assert tet_days(2027)[date(2027, 2, 5)] == "Giao thừa Tết Nguyên Đán"


def test_lunar_dates_move_between_years() -> None:
    assert tet_day(2026) == date(2026, 2, 17)
    assert hung_kings_day(2027) == date(2027, 4, 16)


def test_public_holidays_2027_have_fixed_and_lunar_days_with_vietnamese_names() -> None:
    days = public_holidays(2027)
    for fixed in (date(2027, 1, 1), date(2027, 4, 30), date(2027, 5, 1), date(2027, 9, 2)):
        assert fixed in days
    assert date(2027, 2, 6) in days and date(2027, 4, 16) in days
    assert days[date(2027, 9, 2)] == "Quốc khánh"
    assert all(name and name.isprintable() for name in days.values())


def test_iso_week_53_of_2026_spans_new_year_and_finds_1_january_2027() -> None:
    assert holidays_in_week(IsoWeek(2026, 53)) == {date(2027, 1, 1): "Tết Dương lịch"}


def test_tet_week_2027_holds_the_eve_and_first_days() -> None:
    found = holidays_in_week(IsoWeek(2027, 5))
    assert {date(2027, 2, 5), date(2027, 2, 6), date(2027, 2, 7)} <= found.keys()


def test_policy_mapping_of_date_to_spec_becomes_replacement_windows() -> None:
    found = holiday_windows({"2027-02-06": "CN 07:00-07:30", "07/02/2027": ""})
    assert found == {date(2027, 2, 6): parse_windows("CN 07:00-07:30"), date(2027, 2, 7): ()}


def test_list_of_dates_all_get_the_given_windows() -> None:
    windows = parse_windows("T2 06:00-06:20")
    assert holiday_windows([date(2027, 2, 6), "2027-02-08"], windows) == {
        date(2027, 2, 6): windows,
        date(2027, 2, 8): windows,
    }


@pytest.mark.parametrize(
    ("mapping", "bad"), [({"2027-02-30": ""}, "«2027-02-30»"), ({"2027-02-06": "T9 07:00-08:00"}, "«T9»")]
)
def test_bad_holiday_entry_is_rejected_naming_the_value(mapping: dict[str, str], bad: str) -> None:
    with pytest.raises(ValueError, match=bad):
        holiday_windows(mapping)


def test_with_holidays_adds_every_public_holiday_and_keeps_explicit_entries() -> None:
    own = {date(2027, 2, 6): parse_windows("CN 08:00-08:30")}
    festive = parse_windows("T2-CN 06:00-06:30")
    policy = with_holidays(Policy(holidays=own), date(2027, 1, 1), date(2027, 12, 31), festive)
    assert policy.holidays[date(2027, 2, 6)] == own[date(2027, 2, 6)]
    assert policy.holidays[date(2027, 9, 2)] == festive
    assert policy.holidays[date(2027, 1, 1)][0].start == time(6, 0)
