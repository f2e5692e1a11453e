"""The planner's objective measured on a finished plan, to compare plans (and with an exact optimum).

Lexicographic: uu_tien plays toward quotas, then thuong plays, then spread. Spread, per station and
bulletin: distinct days used plus min(morning plays, afternoon plays), days and halves of a play
taken from the session it airs in.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass

from scheduler.domain import Priority
from scheduler.planning.request import Plan, PlanRequest


@dataclass(frozen=True, order=True)
class Score:
    uu_tien: int
    thuong: int
    spread: int

    def ratio_to(self, best: Score) -> tuple[float, float, float]:
        """Per-component ratio to another score (1.0 where both are 0)."""
        return tuple(  # type: ignore[return-value]
            1.0 if b == 0 else a / b
            for a, b in ((self.uu_tien, best.uu_tien), (self.thuong, best.thuong), (self.spread, best.spread))
        )


def score(plan: Plan, request: PlanRequest) -> Score:
    bulletins = {b.code: b for b in request.bulletins if b.priority != Priority.EMERGENCY}
    totals = {Priority.PRIORITY: 0, Priority.NORMAL: 0}
    spread = 0
    for station, items in plan.items.items():
        slots = plan.sessions.get(station, ())
        starts = [s.start for s in slots]
        days: dict[str, set[object]] = defaultdict(set)
        halves: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        counts: dict[str, int] = defaultdict(int)
        for item in items:
            b = bulletins.get(item.bulletin or "")
            if item.kind != "bulletin" or b is None or station not in b.stations:
                continue
            counts[b.code] += 1
            i = bisect_right(starts, item.start) - 1
            if i >= 0 and item.start < slots[i].end:
                days[b.code].add(slots[i].day)
                halves[b.code][0 if slots[i].morning else 1] += 1
        for code, count in counts.items():
            b = bulletins[code]
            totals[b.priority] += min(count, b.plays_per_week)
            spread += len(days[code]) + min(halves[code])
    return Score(totals[Priority.PRIORITY], totals[Priority.NORMAL], spread)
