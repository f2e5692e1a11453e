"""Re-planning a week that is under way: pins survive, the no-change horizon is respected."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from scheduler.domain import Priority
from scheduler.planning import plan_week
from scheduler.planning.verify import find_violations
from tests.scheduler.planning.builders import at, bulletin, bulletins_of, day, plays, request, station

BULLETINS = [bulletin(f"B{i}", plays=4, seconds=60 + 20 * i) for i in range(5)]


def test_locked_item_survives_a_replan_at_its_time_and_counts_toward_its_quota() -> None:
    first = plan_week(request([station()], BULLETINS))
    pinned = replace(plays(first, "S1", "B2")[1], locked=True)
    # The bulletin list changes (a new priority bulletin), which reshuffles everything else.
    urgent = bulletin("UT", priority=Priority.PRIORITY, plays=7, seconds=90)
    req = request([station()], [*BULLETINS, urgent], existing={"S1": [pinned]})
    second = plan_week(req)
    assert pinned in second.items["S1"]
    assert len(plays(second, "S1", "B2")) == 4
    assert second.planned_counts[("S1", "B2")] == 4
    assert find_violations(second, req) == []


def test_locked_item_reserves_its_time_even_outside_the_windows() -> None:
    first = plan_week(request([station()], BULLETINS))
    item = plays(first, "S1", "B0")[0]
    moved = replace(item, start=at(day(2), 12, 0), end=at(day(2), 12, 1), locked=True)
    second = plan_week(request([station()], BULLETINS, existing={"S1": [moved]}))
    assert moved in second.items["S1"]
    assert len(plays(second, "S1", "B0")) == 4


def test_items_inside_the_no_change_horizon_are_kept_exactly() -> None:
    before = plan_week(request([station()], BULLETINS))
    now = at(day(2), 17, 5)  # Wednesday, during the evening session
    horizon = timedelta(minutes=30)
    urgent = bulletin("UT", priority=Priority.PRIORITY, plays=3, seconds=45)
    req = request([station()], [*BULLETINS, urgent], now=now, existing=before.items, horizon=horizon)
    after = plan_week(req)
    frozen = [i for i in before.items["S1"] if i.start < now + horizon]
    assert frozen == [i for i in after.items["S1"] if i.start < now + horizon]
    assert all(i.start >= now + horizon for i in plays(after, "S1", "UT"))
    assert find_violations(after, req) == []


def test_plays_already_aired_count_so_quotas_are_not_exceeded() -> None:
    before = plan_week(request([station()], BULLETINS))
    now = at(day(3), 12, 0)  # Thursday noon: Mon-Thu mornings have aired
    after = plan_week(request([station()], BULLETINS, now=now, existing=before.items))
    for b in BULLETINS:
        assert len(plays(after, "S1", b.code)) == b.plays_per_week


def test_nothing_new_is_planned_before_now_plus_horizon() -> None:
    now = at(day(5), 17, 5)  # Saturday evening session under way; nothing was planned before
    req = request([station()], BULLETINS, now=now, horizon=timedelta(minutes=15))
    plan = plan_week(req)
    assert plan.items["S1"][0].start >= now + timedelta(minutes=15)
    # Three sessions are left (Saturday's tail, Sunday morning and evening) for quotas of four.
    assert {len(plays(plan, "S1", b.code)) for b in BULLETINS} == {3}
    assert {s.reasons for s in plan.shortfalls} == {("horizon",)}


def test_new_priority_bulletin_is_not_put_after_kept_normal_items_of_a_started_session() -> None:
    before = plan_week(request([station(spec="T2-CN 17:00-17:30")], BULLETINS))
    now = at(day(0), 16, 50)  # the Monday session starts inside the horizon
    urgent = bulletin("UT", priority=Priority.PRIORITY, plays=7, seconds=30)
    req = request([station(spec="T2-CN 17:00-17:30")], [*BULLETINS, urgent], now=now, existing=before.items)
    after = plan_week(req)
    monday = [i for i in bulletins_of(after, "S1") if at(day(0), 17) <= i.start < at(day(0), 17, 30)]
    assert monday and all(i.bulletin != "UT" for i in monday)
    assert len(plays(after, "S1", "UT")) == 6
    assert find_violations(after, req) == []


def test_existing_items_after_the_horizon_are_replanned_not_kept() -> None:
    before = plan_week(request([station()], BULLETINS))
    dropped = replace(bulletin("B4", plays=4, seconds=140), plays_per_week=0)
    after = plan_week(request([station()], [*BULLETINS[:4], dropped], existing=before.items))
    assert plays(after, "S1", "B4") == []


def test_last_session_of_the_week_already_started_with_normal_items_leaves_priority_unplanned() -> None:
    s1 = station(spec="CN 17:00-17:30")
    before = plan_week(request([s1], BULLETINS[:2]))
    urgent = bulletin("UT", priority=Priority.PRIORITY, plays=1, seconds=30)
    now = at(day(6), 16, 45)  # the session's start is inside the horizon, its normal items stay
    plan = plan_week(request([s1], [*BULLETINS[:2], urgent], now=now, existing=before.items))
    assert plays(plan, "S1", "UT") == []
    assert next(s for s in plan.shortfalls if s.bulletin == "UT").planned == 0


def test_replanning_unchanged_input_later_in_the_week_changes_nothing() -> None:
    tight = [bulletin(f"T{i}", plays=7, seconds=470 + 5 * i) for i in range(8)]  # more than fits
    first = plan_week(request([station()], tight))
    assert first.shortfalls  # a busy week, where a fresh search could well reshuffle
    for now in (at(day(1), 4), at(day(2), 17, 10), at(day(4), 5, 44), at(day(6), 12)):
        again = plan_week(request([station()], tight, now=now, existing=first.items))
        assert again.items == first.items, now


def test_replanning_when_the_horizon_ends_inside_a_gap_moves_nothing() -> None:
    first = plan_week(request([station()], BULLETINS))
    item = bulletins_of(first, "S1")[5]
    horizon = timedelta(minutes=30)
    now = item.end + timedelta(seconds=1) - horizon  # the cutoff falls in the 2 s gap after `item`
    again = plan_week(request([station()], BULLETINS, now=now, existing=first.items, horizon=horizon))
    assert again.items == first.items


def test_a_new_bulletin_is_fitted_around_the_existing_plays() -> None:
    first = plan_week(request([station()], BULLETINS))
    extra = bulletin("NEW", plays=3, seconds=45)
    again = plan_week(request([station()], [*BULLETINS, extra], existing=first.items))
    old = {(i.bulletin, i.start) for i in bulletins_of(first, "S1")}
    assert old <= {(i.bulletin, i.start) for i in bulletins_of(again, "S1")}
    assert len(plays(again, "S1", "NEW")) == 3
