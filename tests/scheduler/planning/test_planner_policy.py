"""The broadcast policy: quiet hours, session limits, and how odd windows become sessions."""

from __future__ import annotations

from datetime import time, timedelta

from scheduler.domain import Policy
from scheduler.planning import plan_week
from tests.scheduler.planning.builders import at, bulletin, bulletins_of, day, local, plays, request, station

URL = "https://vov.vn/live/vov1"


def test_session_starting_inside_quiet_hours_is_clipped_to_quiet_before() -> None:
    policy = Policy(quiet_before=time(5, 0), quiet_after=time(21, 30), gap_ms=2000)
    plan = plan_week(request([station(spec="T2-CN 04:30-05:30", policy=policy)], [bulletin("B1", plays=7)]))
    assert all(local(i.start).strftime("%H:%M") >= "05:00" for i in plan.items["S1"])
    assert plan.sessions["S1"][0].start == at(day(0), 5, 0)
    assert len(plays(plan, "S1", "B1")) == 7
    assert any("giờ yên tĩnh" in note and "S1" in note for note in plan.notes)


def test_session_wholly_inside_quiet_hours_is_dropped_with_a_note() -> None:
    policy = Policy(quiet_before=time(5, 0), quiet_after=time(21, 30))
    s1 = station(spec="T2-CN 05:30-06:00; T2-CN 22:00-22:30", policy=policy)
    plan = plan_week(request([s1], [bulletin("B1", plays=14)]))
    assert all(local(i.start).hour < 22 for i in plan.items["S1"])
    assert len(plan.sessions["S1"]) == 7
    assert sum("Bỏ buổi phát" in note for note in plan.notes) == 7


def test_quiet_hours_apply_across_midnight() -> None:
    policy = Policy(quiet_before=time(5, 0), quiet_after=time(23, 0))
    plan = plan_week(request([station(spec="T2 22:30-23:30", policy=policy)], [bulletin("B1", plays=1, seconds=600)]))
    slot = plan.sessions["S1"][0]
    assert (slot.start, slot.end) == (at(day(0), 22, 30), at(day(0), 23, 0))


def test_relay_inside_quiet_hours_is_dropped_whole_not_cut() -> None:
    policy = Policy(quiet_before=time(5, 0), quiet_after=time(21, 30))
    spec = f"T2 04:50-05:30; T2 04:50-05:10 tiep-song={URL}"
    plan = plan_week(request([station(spec=spec, policy=policy)], [bulletin("B1", plays=1)]))
    assert [i.kind for i in plan.items["S1"]] == ["bulletin"]
    assert any("tiếp sóng" in note for note in plan.notes)


def test_max_session_minutes_cuts_long_sessions() -> None:
    policy = Policy(quiet_before=None, quiet_after=None, max_session_minutes=15)
    s1 = station(spec="T2-CN 05:30-06:30", policy=policy)
    plan = plan_week(request([s1], [bulletin(f"B{i}", plays=7, seconds=200) for i in range(8)]))
    assert all(local(i.end) <= local(i.start).replace(hour=5, minute=45, second=0) for i in plan.items["S1"])
    assert plan.sessions["S1"][0].end - plan.sessions["S1"][0].start == timedelta(minutes=15)


def test_max_sessions_per_day_keeps_the_earliest_sessions() -> None:
    policy = Policy(quiet_before=None, quiet_after=None, max_sessions_per_day=2)
    s1 = station(spec="T2-CN 05:30-06:00; T2-CN 11:00-11:30; T2-CN 17:00-17:30", policy=policy)
    plan = plan_week(request([s1], [bulletin(f"B{i}", plays=14) for i in range(3)]))
    assert {local(i.start).hour for i in plan.items["S1"]} == {5, 11}
    assert len(plan.sessions["S1"]) == 14


def test_overlapping_sessions_are_merged_so_items_cannot_collide() -> None:
    s1 = station(spec="T2 17:00-17:30; T2 17:15-17:45")
    plan = plan_week(request([s1], [bulletin(f"B{i}", plays=1, seconds=240) for i in range(10)]))
    (slot,) = plan.sessions["S1"]
    assert (slot.start, slot.end) == (at(day(0), 17, 0), at(day(0), 17, 45))
    items = plan.items["S1"]
    assert all(a.end <= b.start for a, b in zip(items, items[1:], strict=False))


def test_relay_outside_any_session_still_airs_as_its_own_session() -> None:
    plan = plan_week(request([station(spec=f"T2-T6 05:30-06:00; T7 06:00-06:15 tiep-song={URL}")], []))
    (relay,) = [i for i in plan.items["S1"] if i.kind == "relay"]
    assert local(relay.start).strftime("%a %H:%M") == "Sat 06:00"


def test_segment_outside_any_session_becomes_a_session_in_its_language() -> None:
    s1 = station(spec="T2-T6 05:30-06:00; T7 17:00-17:10 lang=jra", languages=("vi", "jra"))
    plan = plan_week(request([s1], [bulletin("J1", language="jra", plays=2)]))
    (item,) = plays(plan, "S1", "J1")
    assert local(item.start).strftime("%a %H:%M") == "Sat 17:00"


def test_session_too_short_for_its_jingles_airs_without_them() -> None:
    policy = Policy(quiet_before=None, quiet_after=None, jingle_ms=30_000, gap_ms=2000)
    plan = plan_week(request([station(spec="T2 05:30:00-05:30:50", policy=policy)], [bulletin("B1", seconds=40)]))
    assert [i.kind for i in plan.items["S1"]] == ["bulletin"]


def test_default_policy_keeps_sessions_between_five_and_half_past_nine() -> None:
    s1 = station(spec="T2-CN 04:30-05:30; T2-CN 21:00-22:00", policy=Policy())
    plan = plan_week(request([s1], [bulletin(f"B{i}", plays=14, seconds=300) for i in range(6)]))
    for item in bulletins_of(plan, "S1"):
        start, end = local(item.start).time(), local(item.end).time()
        assert time(5, 0) <= start and end <= time(21, 30)
