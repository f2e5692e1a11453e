"""Property tests: random stations, windows, policies, holidays and bulletins never break a hard constraint.

The generator covers relays in the middle of a session, language segments, windows past midnight,
holiday replacements (this week's and the week before's), first plans in the middle of a week and
consecutive weeks planned apart, with or without the neighbouring week's items.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, time, timedelta

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scheduler.domain import DAY_LABELS, BulletinInput, PlannedItem, Policy, Priority, StationInput, WeeklyWindow
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
        # At the session's start or in its middle, so items are placed on both sides of it.
        at = draw(st.sampled_from([m for m in (0, 5, 10, 20) if m + 5 <= length]))
        relay_start = (start + at) % (24 * 60)
        relay_end = (relay_start + 5) % (24 * 60)
        parts.append(
            f"{format_days(days)} {relay_start // 60:02d}:{relay_start % 60:02d}-"
            f"{relay_end // 60:02d}:{relay_end % 60:02d} tiep-song=https://vov.vn/live/vov1"
        )
        offset = at + 5
    if length >= offset + 5 and draw(st.booleans()):
        seg_start = (start + offset) % (24 * 60)
        seg_end = (seg_start + 5) % (24 * 60)
        parts.append(
            f"{format_days(days)} {seg_start // 60:02d}:{seg_start % 60:02d}-{seg_end // 60:02d}:{seg_end % 60:02d}"
            " lang=jra"
        )
    return "; ".join(parts)


@st.composite
def _holidays(draw: st.DrawFn) -> dict[date, tuple[WeeklyWindow, ...]]:
    """Replacement windows (or silence) for a few days of this week, the one before and the one after."""
    found: dict[date, tuple[WeeklyWindow, ...]] = {}
    for _ in range(draw(st.integers(0, 2))):
        when = WEEK.monday() + timedelta(days=draw(st.integers(-7, 13)))
        spec = draw(st.sampled_from(["", "T2 00:00-00:30", "T2 07:00-07:45", "T2 23:30-00:30",
                                     "T2 06:00-06:30; T2 06:10-06:20 tiep-song=https://vov.vn/live/vov1"]))
        found[when] = parse_windows(spec)
    return found


@st.composite
def _instance(draw: st.DrawFn) -> PlanRequest:
    stations: list[StationInput] = []
    for k in range(draw(st.integers(1, 3))):
        spec = "; ".join(draw(st.lists(_session_spec(), min_size=1, max_size=3)))
        windows = parse_windows(spec)
        assume(not find_overlaps(windows) and not find_stray_blocks(windows))
        languages = draw(st.sampled_from([("vi",), ("vi", "jra"), ("jra", "vi")]))
        policy = replace(draw(st.sampled_from(POLICIES)), holidays=draw(_holidays()))
        stations.append(StationInput(f"S{k}", languages, windows, "", policy))
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


def _overlaps(first: Plan, second: Plan) -> list[tuple[PlannedItem, PlannedItem]]:
    return [
        (a, b)
        for code, items in first.items.items()
        for a in items
        for b in second.items.get(code, [])
        if a.start < b.end and b.start < a.end
    ]


@st.composite
def _boundary_instance(draw: st.DrawFn) -> PlanRequest:
    """An instance whose first station has a Sunday session past midnight and, some weeks, a holiday
    Monday session that starts before it ends — the case where two weeks could collide."""
    request = draw(_instance())
    first = request.stations[0]
    minute = draw(st.sampled_from([0, 15, 30, 45]))
    length = draw(st.sampled_from([30, 45, 60, 90]))
    end = (23 * 60 + minute + length) % (24 * 60)
    sunday = parse_windows(f"CN 23:{minute:02d}-{end // 60:02d}:{end % 60:02d}")
    windows = tuple(w for w in first.windows if 6 not in w.days and 0 not in w.days) + sunday
    holidays = dict(first.policy.holidays)
    holidays[WEEK.next().monday()] = parse_windows(draw(st.sampled_from(["T2 00:00-00:30", "T2 00:10-01:00"])))
    if draw(st.booleans()):
        holidays[WEEK.monday()] = parse_windows("T2 00:00-00:45")
    policy = replace(first.policy, quiet_before=None, quiet_after=None, holidays=holidays)
    # Enough of the station's language to fill the Sunday session past midnight.
    many = [
        BulletinInput(f"D{i:02d}", "Tuyên truyền cải cách hành chính", first.languages[0], Priority.NORMAL,
                      WEEK.monday() - timedelta(days=7), WEEK.monday() + timedelta(days=13), 7,
                      draw(st.integers(180, 420)) * 1000, frozenset({first.code}))
        for i in range(draw(st.integers(8, 14)))
    ]
    return replace(request, stations=[replace(first, windows=windows, policy=policy), *request.stations[1:]],
                   bulletins=[*request.bulletins, *many])


@settings(
    database=None,
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(_boundary_instance(), _instance())
def test_consecutive_weeks_never_overlap(request: PlanRequest, edited: PlanRequest) -> None:
    """Planned apart with the same inputs they fit by themselves; after an edit between the builds the
    neighbouring week's stored items keep them apart."""
    this_week = plan_week(request)
    next_week = plan_week(replace(request, week=WEEK.next()))
    assert _overlaps(this_week, next_week) == []
    # Next week is rebuilt later from other windows and policies (an edit), knowing this week's items.
    stations = [replace(e, code=s.code) for s, e in zip(request.stations, edited.stations, strict=False)]
    rebuilt_request = replace(request, week=WEEK.next(), stations=stations, neighbours=this_week.items)
    rebuilt = plan_week(rebuilt_request)
    assert _overlaps(this_week, rebuilt) == []
    assert find_violations(rebuilt, rebuilt_request) == []
    # And this week rebuilt after that, knowing next week's items.
    again_request = replace(request, neighbours=rebuilt.items)
    again = plan_week(again_request)
    assert _overlaps(again, rebuilt) == [] and find_violations(again, again_request) == []


@settings(
    database=None,
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(_instance(), st.data())
def test_a_first_plan_in_mid_week_keeps_every_relay_not_over_yet(request: PlanRequest, data: st.DataObject) -> None:
    whole = plan_week(request)
    relays = [i for items in whole.items.values() for i in items if i.kind == "relay"]
    assume(relays)
    # `now` just before a relay (within the no-change horizon) or while it is on air.
    chosen = data.draw(st.sampled_from(relays))
    now = chosen.start + timedelta(minutes=data.draw(st.integers(-25, 4)))
    late = replace(request, now=now)
    first = plan_week(late)
    assert find_violations(first, late) == []
    for code, items in whole.items.items():
        wanted = {(i.start, i.end, i.stream_url) for i in items if i.kind == "relay" and i.end > now}
        assert wanted <= {(i.start, i.end, i.stream_url) for i in first.items[code] if i.kind == "relay"}


def test_property_generator_covers_relays_segments_and_midnight() -> None:
    # Guard that the windows strategy can produce the interesting shapes at all.
    spec = f"{DAY_LABELS[6]} 23:45-00:45; CN 23:45-23:50 tiep-song=https://vov.vn/live/vov1; CN 23:50-23:55 lang=jra"
    windows = parse_windows(spec)
    assert not find_overlaps(windows) and not find_stray_blocks(windows)
    assert {w.kind for w in windows} == {"session", "relay", "segment"} and windows[0].crosses_midnight
    assert date(2026, 11, 29) == day(6)
