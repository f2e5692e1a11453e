"""The objective: priority quotas first, then normal quotas, then spreading; compared with brute force."""

from __future__ import annotations

import itertools
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.domain import Policy, Priority
from scheduler.planning import plan_week
from scheduler.planning.score import score
from tests.scheduler.planning.builders import bulletin, bulletins_of, local, plays, request, station

CYCLE = 7


def _cyclic(a: int, b: int) -> int:
    return min(abs(a - b), CYCLE - abs(a - b))


def test_priority_quota_is_filled_before_normal_quota_when_time_is_short() -> None:
    # Five minutes a day: room for 2 plays of 2 min (with gaps), not for all four bulletins.
    s1 = station(spec="T2-CN 05:30-05:35")
    urgent = bulletin("UT", priority=Priority.PRIORITY, plays=7, seconds=120)
    normal = [bulletin(f"N{i}", plays=7, seconds=100) for i in range(3)]
    plan = plan_week(request([s1], [*normal, urgent]))
    assert len(plays(plan, "S1", "UT")) == 7
    assert sum(len(plays(plan, "S1", n.code)) for n in normal) == 7
    assert {s.bulletin for s in plan.shortfalls} == {"N0", "N1", "N2"}
    assert all(s.reasons == ("capacity",) for s in plan.shortfalls)


def test_quota_is_met_exactly_and_never_exceeded() -> None:
    plan = plan_week(request([station()], [bulletin(f"B{i}", plays=i + 1, seconds=30) for i in range(6)]))
    assert Counter(i.bulletin for i in bulletins_of(plan, "S1")) == {f"B{i}": i + 1 for i in range(6)}


def test_three_plays_go_to_three_well_separated_days() -> None:
    plan = plan_week(request([station()], [bulletin("B1", plays=3)]))
    days = sorted(local(i.start).weekday() for i in plays(plan, "S1", "B1"))
    assert len(set(days)) == 3
    assert min(_cyclic(a, b) for a, b in itertools.combinations(days, 2)) >= 2


def test_plays_alternate_between_morning_and_afternoon() -> None:
    plan = plan_week(request([station()], [bulletin("B1", plays=4), bulletin("B2", plays=5)]))
    for code, (mornings, afternoons) in (("B1", (2, 2)), ("B2", (3, 2))):
        halves = Counter(local(i.start).hour < 12 for i in plays(plan, "S1", code))
        assert sorted(halves.values(), reverse=True) == [mornings, afternoons]


def test_a_bulletin_playing_daily_airs_once_each_day() -> None:
    plan = plan_week(request([station()], [bulletin("DAILY", plays=7)]))
    assert len({local(i.start).date() for i in plays(plan, "S1", "DAILY")}) == 7


def test_bulletins_share_sessions_instead_of_crowding_the_same_ones() -> None:
    plan = plan_week(request([station()], [bulletin(f"B{i}", plays=7, seconds=45) for i in range(4)]))
    used = Counter((local(i.start).date(), local(i.start).hour) for i in bulletins_of(plan, "S1"))
    assert len(used) == 14
    assert max(used.values()) - min(used.values()) <= 1


def test_when_time_is_short_more_short_plays_fit_than_long_ones() -> None:
    # 3 minutes a day: either one 150 s bulletin or two 80 s ones; counting plays, the short win.
    s1 = station(spec="T2-CN 05:30-05:33")
    plan = plan_week(
        request(
            [s1], [bulletin("LONG", plays=7, seconds=150), *(bulletin(f"S{i}", plays=7, seconds=80) for i in range(2))]
        )
    )
    assert len(bulletins_of(plan, "S1")) == 14


# --- exhaustive optimum on tiny instances -------------------------------------------------------

GAP_MS = 2000


def _brute_force(sessions_s: list[int], bulletins: list[tuple[int, int, int]]) -> tuple[int, int]:
    """Best (priority plays, normal plays) over every choice of sessions per bulletin.

    `sessions_s`: each session's length in seconds (no jingles); `bulletins`: (class, seconds, quota).
    """
    capacity = [s * 1000 + GAP_MS for s in sessions_s]  # n items fit iff sum(d + gap) <= L + gap
    choices = []
    for _, _, quota in bulletins:
        subsets = [
            c for k in range(min(quota, len(sessions_s)) + 1) for c in itertools.combinations(range(len(sessions_s)), k)
        ]
        choices.append(subsets)
    best = (0, 0)
    for pick in itertools.product(*choices):
        load = [0] * len(sessions_s)
        for (_, seconds, _), chosen in zip(bulletins, pick, strict=True):
            for s in chosen:
                load[s] += seconds * 1000 + GAP_MS
        if all(load[s] <= capacity[s] for s in range(len(sessions_s))):
            counts = [0, 0]
            for (cls, _, _), chosen in zip(bulletins, pick, strict=True):
                counts[cls] += len(chosen)
            best = max(best, (counts[0], counts[1]))
    return best


@settings(database=None, max_examples=40, deadline=None)
@given(
    lengths=st.lists(st.integers(60, 300), min_size=2, max_size=3),
    items=st.lists(st.tuples(st.integers(0, 1), st.integers(20, 200), st.integers(1, 3)), min_size=1, max_size=4),
)
def test_play_counts_match_the_exhaustive_optimum_on_tiny_instances(
    lengths: list[int], items: list[tuple[int, int, int]]
) -> None:
    # One session per day (Mon, Tue, Wed), each `length` seconds long.
    labels = ("T2", "T3", "T4")
    spec = "; ".join(
        f"{labels[k]} 06:00:00-06:{length // 60:02d}:{length % 60:02d}" for k, length in enumerate(lengths)
    )
    s1 = station(spec=spec, policy=Policy(quiet_before=None, quiet_after=None, jingle_ms=0, gap_ms=GAP_MS))
    bulletins = [
        bulletin(f"B{k}", priority=Priority.PRIORITY if cls == 0 else Priority.NORMAL, seconds=sec, plays=q)
        for k, (cls, sec, q) in enumerate(items)
    ]
    req = request([s1], bulletins)
    got = score(plan_week(req), req)
    assert (got.uu_tien, got.thuong) == _brute_force(lengths, items)
