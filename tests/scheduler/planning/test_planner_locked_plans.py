"""Speed work must not change plans: digests of synthetic weeks as the planner made them, locked.

If a change to the planner changes one of these digests on purpose (a better plan by the planner's
own objective), re-record it here together with the objective before and after in the commit message.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from benchmarks.bench_planner import make_country
from scheduler.domain import PlannedItem, Priority
from scheduler.planning import Plan, PlanRequest, plan_week
from scheduler.planning.digest import plan_digest
from scheduler.planning.verify import find_violations

MIDWEEK = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)  # Wednesday 12:00 in Hà Nội, week 2026-W48


def _shared() -> PlanRequest:
    """Two provinces of communes: bulletins per province, per commune and nationwide (many twins)."""
    return make_country(11, 2, 90, 40)


def _distinct() -> PlanRequest:
    """Every station with a bulletin of its own: one group per station, little search each."""
    return make_country(12, 2, 45, 30, distinct=True)


def _replanned(request: PlanRequest, first: Plan) -> PlanRequest:
    """The same week re-planned on Wednesday: past items kept, one future play pinned, the rest re-planned."""
    existing: dict[str, list[PlannedItem]] = {code: list(items) for code, items in first.items.items()}
    for items in list(existing.values())[::7]:
        future = [k for k, i in enumerate(items) if i.kind == "bulletin" and i.start > MIDWEEK]
        if future:
            items[future[-1]] = replace(items[future[-1]], locked=True)
    return replace(request, now=MIDWEEK, existing=existing)


def test_plans_of_a_shared_country_week_are_unchanged() -> None:
    request = _shared()
    plan = plan_week(request)
    assert find_violations(plan, request) == []
    assert plan_digest(plan) == "1e32fcbc536bdd7e868da645945d1c2d2e6c4912fe55c7a1f55a68bcc799d49a"
    again = plan_week(_replanned(request, plan))
    assert plan_digest(again) == "5643cca79d80f994d4644bb2f9991dcf084e468363c375f603dc57b7a025445c"


def test_plans_of_a_week_with_every_station_distinct_are_unchanged() -> None:
    request = _distinct()
    plan = plan_week(request)
    assert find_violations(plan, request) == []
    assert plan_digest(plan) == "6abfda6addaf3a6d145c59f095d3ba3589e4b9c231b95000f41b8ddf557fb046"
    again = plan_week(_replanned(request, plan))
    assert plan_digest(again) == "6e8beebe954a07ac667ad33d12503e23dd15d82b0d700c2da88f9fa6dfc1098a"


def test_the_digest_sees_a_change_in_any_item() -> None:
    request = make_country(12, 1, 15, 10, distinct=True)
    plan = plan_week(request)
    before = plan_digest(plan)
    code = sorted(plan.items)[5]
    items = plan.items[code]
    k = next(k for k, i in enumerate(items) if i.kind == "bulletin")
    original = items[k]
    other = Priority.NORMAL if original.priority == Priority.PRIORITY else Priority.PRIORITY
    items[k] = replace(original, priority=other)
    assert plan_digest(plan) != before
    items[k] = original
    assert plan_digest(plan) == before
    plan.shortfalls.pop()
    assert plan_digest(plan) != before
