"""Week boundaries, midnight-crossing windows, ISO week 53 and holidays (Tết 2027)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from scheduler.calendar_vn import holidays_in_week, tet_days, with_holidays
from scheduler.domain import IsoWeek, Policy
from scheduler.planning import plan_week
from scheduler.planning.windows import parse_windows
from tests.scheduler.planning.builders import QUIET_FREE, at, bulletin, local, plays, request, station


def test_week_starts_monday_midnight_local_which_is_sunday_17_utc() -> None:
    plan = plan_week(request([station(spec="T2 00:00-00:30")], [bulletin("B1", plays=1)]))
    (item,) = plan.items["S1"]
    assert item.start == datetime(2026, 11, 22, 17, 0, tzinfo=UTC)
    assert local(item.start).strftime("%a %d/%m %H:%M") == "Mon 23/11 00:00"


def test_midnight_crossing_window_belongs_to_the_day_it_starts() -> None:
    # Sunday 23:30-00:30: this week's occurrence runs into next Monday; last week's spill is not ours.
    plan = plan_week(request([station(spec="CN 23:30-00:30")], [bulletin("B1", plays=3, seconds=1200)]))
    slot = plan.sessions["S1"][0]
    assert slot.day == date(2026, 11, 29)
    assert (slot.start, slot.end) == (at(date(2026, 11, 29), 23, 30), at(date(2026, 11, 30), 0, 30))
    (item,) = plays(plan, "S1", "B1")  # once per session
    assert item.start == at(date(2026, 11, 29), 23, 30)


def test_items_after_midnight_in_a_crossing_session_continue_the_same_session() -> None:
    spec = "T2-CN 23:50-00:20"
    plan = plan_week(request([station(spec=spec)], [bulletin(f"B{i}", plays=7, seconds=300) for i in range(5)]))
    monday = [i for i in plan.items["S1"] if at(date(2026, 11, 23), 23, 50) <= i.start < at(date(2026, 11, 24), 0, 20)]
    assert len(monday) == 5
    assert local(monday[-1].start).date() == date(2026, 11, 24)
    assert len({i.bulletin for i in monday}) == 5


def test_iso_week_53_spans_the_year_change() -> None:
    week = IsoWeek(2026, 53)
    assert week.monday() == date(2026, 12, 28)
    old_year = bulletin("CU", plays=7, valid=(date(2026, 12, 1), date(2026, 12, 31)))
    new_year = bulletin("MOI", plays=7, valid=(date(2027, 1, 1), date(2027, 1, 31)))
    plan = plan_week(request([station(spec="T2-CN 05:30-06:00")], [old_year, new_year], week=week))
    assert [local(i.start).date().day for i in plays(plan, "S1", "CU")] == [28, 29, 30, 31]
    assert [local(i.start).date() for i in plays(plan, "S1", "MOI")] == [date(2027, 1, d) for d in (1, 2, 3)]
    assert plan.items["S1"][0].start == datetime(2026, 12, 27, 22, 30, tzinfo=UTC)


def test_week_after_week_53_is_week_1_of_the_next_year() -> None:
    assert IsoWeek(2026, 53).next() == IsoWeek(2027, 1)
    b1 = bulletin("B1", plays=1, valid=(date(2027, 1, 1), date(2027, 1, 31)))
    plan = plan_week(request([station(spec="T2 05:30-06:00")], [b1], week=IsoWeek(2027, 1)))
    assert local(plan.items["S1"][0].start).date() == date(2027, 1, 4)


def test_tet_2027_replacement_windows_come_from_the_lunar_calendar() -> None:
    week = IsoWeek(2027, 5)  # 1..7 February 2027
    festive = parse_windows("CN 07:00-07:30")  # the day label does not matter on a holiday
    tet = sorted(d for d in tet_days(2027) if d <= date(2027, 2, 7))
    policy = with_holidays(QUIET_FREE, min(tet), max(tet), festive)
    s1 = station(spec="T2-CN 05:30-06:00", policy=policy)
    spring = bulletin("XUAN", plays=7, seconds=120, valid=(date(2027, 1, 20), date(2027, 2, 20)))
    plan = plan_week(request([s1], [spring], week=week))
    by_day = {local(i.start).date(): local(i.start).strftime("%H:%M") for i in plays(plan, "S1", "XUAN")}
    assert by_day == {
        date(2027, 2, 1): "05:30",
        date(2027, 2, 2): "05:30",
        date(2027, 2, 3): "05:30",
        date(2027, 2, 4): "05:30",
        date(2027, 2, 5): "07:00",
        date(2027, 2, 6): "07:00",
        date(2027, 2, 7): "07:00",
    }
    assert set(holidays_in_week(week)) >= set(tet)


def test_holiday_with_no_windows_is_silent() -> None:
    quiet_day = date(2026, 11, 25)
    policy = Policy(quiet_before=None, quiet_after=None, holidays={quiet_day: ()})
    plan = plan_week(request([station(policy=policy)], [bulletin("B1", plays=14)]))
    assert all(local(i.start).date() != quiet_day for i in plan.items["S1"])
    assert len(plays(plan, "S1", "B1")) == 12
