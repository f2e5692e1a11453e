"""Where one week's programme meets the next, sessions past midnight, relays already under way, silences.

A session belongs to the local date it starts on: its week owns it, and a bulletin may air in it
iff that date lies within the bulletin's validity (docs/planner.md, "Midnight and week boundaries").
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from scheduler.calendar_vn import holiday_windows
from scheduler.domain import PlannedItem
from scheduler.planning import Plan, plan_week, windows
from scheduler.planning.verify import find_violations
from tests.scheduler.planning.builders import QUIET_FREE, WEEK, at, bulletin, day, local, plays, request, station

NEXT = WEEK.next()
NEXT_MONDAY = NEXT.monday()  # 30 Nov 2026


def overlaps(first: list[PlannedItem], second: list[PlannedItem]) -> list[tuple[PlannedItem, PlannedItem]]:
    return [(a, b) for a in first for b in second if a.start < b.end and b.start < a.end]


def test_consecutive_weeks_never_overlap_when_sunday_runs_into_a_holiday_monday() -> None:
    # Sunday 23:30-00:30 every week; next Monday is a holiday whose replacement session starts at 00:00.
    policy = replace(QUIET_FREE, holidays=holiday_windows({NEXT_MONDAY: "T2 00:00-00:30"}))
    s1 = station(spec="CN 23:30-00:30", policy=policy)
    bulletins = [bulletin(f"B{i}", plays=2, seconds=210, valid=(date(2026, 11, 1), date(2026, 12, 31)))
                 for i in range(16)]  # fmt: skip  (enough to fill both sessions past midnight)
    this_week = plan_week(request([s1], bulletins))
    next_week = plan_week(request([s1], bulletins, week=NEXT))
    assert overlaps(this_week.items["S1"], next_week.items["S1"]) == []
    # The Monday session gives way to last week's Sunday session, and the plan says so.
    assert all(i.start >= at(NEXT_MONDAY, 0, 30) for i in next_week.items["S1"])
    assert any("tuần trước" in note for note in next_week.notes)


def test_a_plan_leaves_room_for_the_neighbouring_weeks_stored_items() -> None:
    # Next week was built when its Monday had a 00:00 session; since then this week got a Sunday
    # session running past midnight. The stored next-week items stay where they are.
    before = station(spec="T2 00:00-00:40")
    bulletins = [bulletin(f"B{i}", plays=3, seconds=300) for i in range(4)]
    next_week = plan_week(request([before], bulletins, week=NEXT))
    assert next_week.items["S1"]
    after = station(spec="CN 23:30-00:30")
    this_request = request([after], bulletins, neighbours={"S1": next_week.items["S1"]})
    this_week = plan_week(this_request)
    assert this_week.items["S1"] and overlaps(this_week.items["S1"], next_week.items["S1"]) == []
    assert find_violations(this_week, this_request) == []


def test_a_bulletin_valid_until_sunday_may_use_sundays_session_past_midnight() -> None:
    sunday = day(6)
    plan = plan_week(request([station(spec="CN 23:30-00:30")], [bulletin("B1", plays=1, valid=(day(0), sunday))]))
    (item,) = plays(plan, "S1", "B1")
    assert local(item.start).date() == sunday and plan.shortfalls == []


def test_a_bulletin_valid_from_monday_does_not_air_in_sundays_session_after_midnight() -> None:
    # The session of Sunday 29/11 belongs to Sunday, even its part after midnight.
    late = bulletin("B1", plays=1, seconds=60, valid=(NEXT_MONDAY, date(2026, 12, 31)))
    req = request([station(spec="CN 23:30-00:30")], [late])
    plan = plan_week(req)
    assert plays(plan, "S1", "B1") == []
    assert [s.reasons for s in plan.shortfalls] == [("not_yet_valid",)]
    assert find_violations(plan, req) == []


def test_the_checker_uses_the_sessions_start_date_for_validity() -> None:
    sunday = day(6)
    req = request([station(spec="CN 23:50-00:30")], [bulletin("B1", plays=1, seconds=1800, valid=(day(0), sunday))])
    plan = plan_week(req)
    (item,) = plays(plan, "S1", "B1")
    assert local(item.end).date() == NEXT_MONDAY  # it ends after midnight …
    assert find_violations(plan, req) == []  # … and is still valid: the session is Sunday's


def test_overlapping_windows_are_noted_with_the_language_that_is_lost_and_refused_at_input() -> None:
    spec = "T2 05:30-06:30; T2 06:00-07:00 lang-buoi=jra"
    plan = plan_week(request([station(spec=spec, languages=("vi", "jra"))], [bulletin("B1", plays=1)]))
    (note,) = [n for n in plan.notes if "gộp" in n]
    assert "«jra»" in note and "05:30" in note and "06:00" in note
    try:
        windows.check_windows(spec)
    except ValueError as exc:
        assert "trùng giờ" in str(exc)
    else:
        raise AssertionError("overlapping windows were accepted")


def _relay_plan(now_local: tuple[int, int]) -> tuple[Plan, list[PlannedItem]]:
    spec = "T2-CN 17:00-17:30; T2-CN 17:00-17:15 tiep-song=https://vov.vn/live/vov1"
    wednesday = day(2)
    now = at(wednesday, *now_local)
    plan = plan_week(request([station(spec=spec)], [bulletin("B1", plays=3)], now=now))
    relays = [i for i in plan.items["S1"] if i.kind == "relay" and local(i.start).date() == wednesday]
    return plan, relays


def test_a_relay_already_under_way_is_kept_on_a_first_mid_week_plan() -> None:
    _plan, relays = _relay_plan((17, 5))
    assert [(local(r.start).strftime("%H:%M"), local(r.end).strftime("%H:%M")) for r in relays] == [("17:00", "17:15")]
    assert relays[0].stream_url == "https://vov.vn/live/vov1"


def test_a_relay_starting_within_the_horizon_is_kept_on_a_first_plan_and_one_over_is_not() -> None:
    _plan, soon = _relay_plan((16, 50))  # starts in 10 minutes, inside the 30-minute horizon
    assert len(soon) == 1
    _plan, over = _relay_plan((17, 20))  # ended five minutes ago
    assert over == []


def test_a_bulletin_placed_before_a_mid_session_relay_leaves_the_gap_before_it() -> None:
    # 05:30-06:00 with a relay 05:40-05:50: a 10-minute bulletin would fill 05:30-05:40 exactly, leaving
    # no silence before the relay; it must not be placed there (nor after the relay: 9m58s remain).
    spec = "T2 05:30-06:00; T2 05:40-05:50 tiep-song=https://vov.vn/live/vov1"
    req = request([station(spec=spec)], [bulletin("B1", plays=1, seconds=600), bulletin("B2", plays=1, seconds=590)])
    plan = plan_week(req)
    (relay,) = [i for i in plan.items["S1"] if i.kind == "relay"]
    before = [i for i in plan.items["S1"] if i.kind == "bulletin" and i.end <= relay.start]
    assert [i.bulletin for i in before] == ["B2"]  # 9m50s fits with its 2 s of silence
    assert all(relay.start - i.end >= timedelta(milliseconds=QUIET_FREE.gap_ms) for i in before)
    assert plays(plan, "S1", "B1") == []
    assert find_violations(plan, req) == []
