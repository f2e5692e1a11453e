"""Property test: random stations, windows, policies and bulletins never break a hard constraint."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, time, timedelta

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scheduler.domain import DAY_LABELS, BulletinInput, PlannedItem, Policy, Priority, StationInput
from scheduler.planning import Plan, PlanRequest, plan_week
from scheduler.planning.verify import find_violations
from scheduler.planning.windows import find_overlaps, find_stray_blocks, format_days, parse_windows
from tests.scheduler.planning.builders import AHEAD, WEEK, at, day

POLICIES = (
    Policy(quiet_before=None, quiet_after=None, jingle_ms=0, gap_ms=2000),
    Policy(),
    Policy(quiet_before=time(5, 0), quiet_after=time(21, 30), jingle_ms=5000, gap_ms=1500),
    Policy(quiet_before=None, quiet_after=None, jingle_ms=8000, gap_ms=0, max_session_minutes=20),
    Policy(quiet_before=time(4, 45), quiet_after=None, max_sessions_per_day=1, jingle_ms=3000),
)


@st.composite
def _session_spec(draw: st.DrawFn) -> str:
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    hour = draw(st.sampled_from([4, 5, 6, 11, 17, 20, 23]))
    minute = draw(st.sampled_from([0, 15, 30, 45]))
    length = draw(st.sampled_from([5, 10, 15, 30, 45, 60]))
    start = hour * 60 + minute
    end = (start + length) % (24 * 60)
    parts = [f"{format_days(days)} {start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"]
    offset = 0
    if length >= 15 and draw(st.booleans()):
        relay_end = (start + 5) % (24 * 60)
        parts.append(
            f"{format_days(days)} {start // 60:02d}:{start % 60:02d}-{relay_end // 60:02d}:{relay_end % 60:02d} "
            "tiep-song=https://vov.vn/live/vov1"
        )
        offset = 5
    if length >= 15 and draw(st.booleans()):
        seg_start = (start + offset) % (24 * 60)
        seg_end = (seg_start + 5) % (24 * 60)
        parts.append(
            f"{format_days(days)} {seg_start // 60:02d}:{seg_start % 60:02d}-{seg_end // 60:02d}:{seg_end % 60:02d}"
            " lang=jra"
        )
    return "; ".join(parts)


@st.composite
def _instance(draw: st.DrawFn) -> PlanRequest:
    stations: list[StationInput] = []
    for k in range(draw(st.integers(1, 3))):
        spec = "; ".join(draw(st.lists(_session_spec(), min_size=1, max_size=3)))
        windows = parse_windows(spec)
        assume(not find_overlaps(windows) and not find_stray_blocks(windows))
        languages = draw(st.sampled_from([("vi",), ("vi", "jra"), ("jra", "vi")]))
        stations.append(StationInput(f"S{k}", languages, windows, "", draw(st.sampled_from(POLICIES))))
    codes = [s.code for s in stations]
    bulletins: list[BulletinInput] = []
    for i in range(draw(st.integers(1, 10))):
        first = WEEK.monday() + timedelta(days=draw(st.integers(-4, 8)))
        bulletins.append(
            BulletinInput(
                code=f"B{i:02d}",
                title="Tuyên truyền cải cách hành chính",
                language=draw(st.sampled_from(["vi", "vi", "jra"])),
                priority=draw(
                    st.sampled_from([Priority.NORMAL, Priority.NORMAL, Priority.PRIORITY, Priority.EMERGENCY])
                ),
                valid_from=first,
                valid_to=first + timedelta(days=draw(st.integers(0, 10))),
                plays_per_week=draw(st.integers(0, 9)),
                duration_ms=draw(st.integers(5, 600)) * 1000,
                stations=frozenset(draw(st.lists(st.sampled_from(codes), min_size=1, unique=True))),
            )
        )
    return PlanRequest(WEEK, stations, bulletins, AHEAD, search_steps=draw(st.sampled_from([0, 15])))


def _check_sessions(plan: Plan, request: PlanRequest, kept: set[PlannedItem]) -> None:
    for s in request.stations:
        items = plan.items[s.code]
        assert all(a.end <= b.start for a, b in zip(items, items[1:], strict=False))
        slots = plan.sessions[s.code]
        grouped: dict[int, list[PlannedItem]] = defaultdict(list)
        for item in items:
            if item.kind != "bulletin" or item in kept:
                continue
            host = [k for k, slot in enumerate(slots) if slot.start <= item.start and item.end <= slot.end]
            assert len(host) == 1, item
            grouped[host[0]].append(item)
        for session_items in grouped.values():
            codes = [i.bulletin for i in session_items]
            assert len(codes) == len(set(codes))
            for language in {i.language for i in session_items}:
                ranks = [i.priority.rank for i in session_items if i.language == language]
                assert ranks == sorted(ranks)


@settings(
    database=None,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(_instance())
def test_random_instances_never_break_a_hard_constraint(request: PlanRequest) -> None:
    plan = plan_week(request)
    assert find_violations(plan, request) == []
    _check_sessions(plan, request, set())


@settings(
    database=None,
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(_instance(), st.integers(0, 6), st.integers(0, 23), st.data())
def test_random_replans_keep_pins_and_the_horizon_and_stay_valid(
    request: PlanRequest, weekday: int, hour: int, data: st.DataObject
) -> None:
    first = plan_week(request)
    existing: dict[str, list[PlannedItem]] = {}
    for code, items in first.items.items():
        pins = data.draw(st.sets(st.integers(0, max(0, len(items) - 1)), max_size=2)) if items else set()
        existing[code] = [replace(i, locked=True) if k in pins else i for k, i in enumerate(items)]
    now = at(day(weekday), hour)
    replan = replace(request, now=now, existing=existing)
    second = plan_week(replan)
    cutoff = now + replan.horizon
    kept = {i for items in existing.values() for i in items if i.locked or i.start < cutoff}
    for code, items in existing.items():
        for item in items:
            if item in kept:
                assert item in second.items[code]
        assert all(i in kept or i.start >= cutoff for i in second.items[code])
    assert find_violations(second, replan) == []
    _check_sessions(second, replan, kept)


def test_property_generator_covers_relays_segments_and_midnight() -> None:
    # Guard that the windows strategy can produce the interesting shapes at all.
    spec = f"{DAY_LABELS[6]} 23:45-00:45; CN 23:45-23:50 tiep-song=https://vov.vn/live/vov1; CN 23:50-23:55 lang=jra"
    windows = parse_windows(spec)
    assert not find_overlaps(windows) and not find_stray_blocks(windows)
    assert {w.kind for w in windows} == {"session", "relay", "segment"} and windows[0].crosses_midnight
    assert date(2026, 11, 29) == day(6)
