"""Choose which session region gets each play: a greedy with spreading, then a repair pass.

Objective, in order: uu_tien plays toward quotas, thuong plays toward quotas, spread (distinct days,
morning/afternoon balance). uu_tien demands are packed first, shortest first (which maximises the
number of plays that fit), each play going to the session that spreads the bulletin best; a repair
pass then moves one already placed play to make room for a missing one. Ties break on stable keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scheduler.planning.problem import Problem

UU_TIEN = 0
THUONG = 1
REPAIR_BUDGET = 20_000  # candidate checks per station group, so a hopeless case stays cheap
FREE_CAP = (1 << 27) - 1  # free-time field of the preference key, ms (37 hours)
# CYCLIC[a][b]: days between weekdays a and b on the weekly cycle (Sunday is next to Monday).
CYCLIC = tuple(tuple(min(abs(a - b), 7 - abs(a - b)) for b in range(7)) for a in range(7))
# DISTANCES[mask]: per weekday, cyclic days to the nearest day in the bit mask (7 when it is empty).
DISTANCES = tuple(
    tuple(min((CYCLIC[d][u] for u in range(7) if mask >> u & 1), default=7) for d in range(7)) for mask in range(128)
)


@dataclass
class Demand:
    """The plays still wanted for one bulletin on one station (group)."""

    index: int  # position in the caller's bulletin list
    code: str
    cls: int  # UU_TIEN or THUONG
    order: int  # within the class, lower plays first (scheduler.planning.planner._order)
    cost: int  # duration + gap, ms
    need: int
    regions: list[int]  # eligible regions: language, validity, length
    used: set[int] = field(default_factory=set)  # sessions already holding this bulletin
    day_count: list[int] = field(default_factory=lambda: [0] * 7)
    halves: list[int] = field(default_factory=lambda: [0, 0])  # plays in the morning, afternoon
    mask: int = 0  # bit d set when the bulletin plays on weekday d
    dist: tuple[int, ...] = DISTANCES[0]  # cyclic distance from each weekday to the nearest used day
    placed: list[tuple[int, int, int]] = field(default_factory=list)  # (region, position, part)
    region_set: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        self.region_set = frozenset(self.regions)

    def refresh_dist(self) -> None:
        """Recompute `mask` and `dist` from `day_count` (after it was replaced as a whole)."""
        c0, c1, c2, c3, c4, c5, c6 = self.day_count
        self.mask = int(
            (c0 > 0) | (c1 > 0) << 1 | (c2 > 0) << 2 | (c3 > 0) << 3 | (c4 > 0) << 4 | (c5 > 0) << 5 | (c6 > 0) << 6
        )
        self.dist = DISTANCES[self.mask]


class Packer:
    """Mutable packing state over a Problem; `items[part]` lists Demand indices placed there."""

    def __init__(self, problem: Problem, demands: list[Demand]) -> None:
        self.problem = problem
        self.demands = demands
        self.cap = list(problem.part_cap)
        self.items: list[list[int]] = [[] for _ in self.cap]
        regions = problem.regions
        self.region_parts = [r.parts for r in regions]
        self.region_session = [r.session for r in regions]
        self.uu_max = [r.uu_max for r in regions]
        self.th_min = [r.th_min for r in regions]
        self.region_free = [sum(max(0, self.cap[p]) for p in r.parts) for r in regions]
        self.session_day = [s.day for s in problem.sessions]
        self.session_morning = [s.morning for s in problem.sessions]
        self.session_slot = [s.day * 2 + (0 if s.morning else 1) for s in problem.sessions]
        self.session_start = [s.start for s in problem.sessions]
        self.session_tail = [(1 << 30) - 1 - min(max(s.start, 0), (1 << 30) - 1) for s in problem.sessions]
        self.part_region = problem.part_region
        self.part_pos = [0] * len(self.cap)
        for region in regions:
            for pos, part in enumerate(region.parts):
                self.part_pos[part] = pos
        self.budget = REPAIR_BUDGET
        self._stuck: dict[int, bool] = {}  # demand -> best() found nothing, valid until the next move
        # part -> (cost, budget): a _make_room there for a play this long or longer fails and spends
        # this much of the budget; valid until the next move (see _make_room)
        self._no_room: dict[int, tuple[int, int]] = {}
        # _make_room tries the plays of a part longest first, then by code (codes are unique).
        by_room = sorted(range(len(demands)), key=lambda j: (-demands[j].cost, demands[j].code))
        rank = [0] * len(demands)
        for position, j in enumerate(by_room):
            rank[j] = position
        self._room_rank = rank.__getitem__

    def run(self) -> None:
        for cls in (UU_TIEN, THUONG):
            order = sorted(
                (i for i, d in enumerate(self.demands) if d.cls == cls and d.need > 0),
                key=lambda i: (self.demands[i].cost, self.demands[i].code),
            )
            for i in order:
                demand = self.demands[i]
                while demand.need > 0:
                    choice = self.best(demand)
                    if choice is None:
                        break
                    self.place(i, *choice)
            self._stuck.clear()
            for i in order:
                while self.demands[i].need > 0 and self.budget > 0 and self.repair(i):
                    pass

    def warm_start(self, previous: list[tuple[int, str]]) -> None:
        """Put plays back where the previous programme had them (start offset, bulletin code), as
        far as they are still allowed, so a re-plan with unchanged input changes nothing."""
        problem = self.problem
        by_code = {d.code: i for i, d in enumerate(self.demands)}
        for start, code in sorted(previous):
            i = by_code.get(code)
            if i is None or self.demands[i].need <= 0:
                continue
            demand = self.demands[i]
            s = problem.session_of(start)
            if s < 0 or s in demand.used:
                continue
            spot = next(
                (
                    (r, pos, part)
                    for r in problem.session_regions[s]
                    if r in demand.region_set
                    for pos, part in enumerate(self.region_parts[r])
                    if problem.part_start[part] <= start < problem.part_end[part]
                ),
                None,
            )
            if spot is not None and self.cap[spot[2]] >= demand.cost and self._allowed(demand.cls, spot[0], spot[1]):
                self.place(i, *spot)

    def snapshot(self) -> tuple[object, ...]:
        """Everything a move can change, to undo a rejected local-search step."""
        return (
            list(self.cap),
            list(self.region_free),
            [list(x) for x in self.items],
            list(self.uu_max),
            list(self.th_min),
            [(d.need, set(d.used), list(d.day_count), list(d.halves), list(d.placed), d.mask) for d in self.demands],
        )

    def restore(self, state: tuple[object, ...]) -> None:
        cap, free, items, uu_max, th_min, demands = state
        self.cap, self.region_free, self.items = cap, free, items  # type: ignore[assignment]
        self.uu_max, self.th_min = uu_max, th_min  # type: ignore[assignment]
        for d, saved in zip(self.demands, demands, strict=True):  # type: ignore[call-overload]
            d.need, d.used, d.day_count, d.halves, d.placed, d.mask = saved
            d.dist = DISTANCES[d.mask]
        self._stuck.clear()
        self._no_room.clear()

    def tighten_order(self) -> None:
        """Recompute the ordering bounds from the plays in place (removals may have relaxed them)."""
        for r, region in enumerate(self.problem.regions):
            th_min, uu_max = region.th_min, region.uu_max
            for pos, part in enumerate(region.parts):
                for i in self.items[part]:
                    if self.demands[i].cls == UU_TIEN:
                        th_min = max(th_min, pos)
                    else:
                        uu_max = min(uu_max, pos)
            self.th_min[r], self.uu_max[r] = th_min, uu_max

    def best_fit(self, demand: Demand) -> tuple[int, int, int] | None:
        """The allowed spot that leaves the least free time (tight packing), ties by spreading."""
        best_key: tuple[int, int, int] | None = None
        best: tuple[int, int, int] | None = None
        for r in demand.regions:
            s = self.region_session[r]
            if s in demand.used:
                continue
            parts = self.region_parts[r]
            for pos in self._positions(demand.cls, r):
                left = self.cap[parts[pos]] - demand.cost
                if left < 0:
                    continue
                key = (-left, -demand.day_count[self.session_day[s]], -self.session_start[s])
                if best_key is None or key > best_key:
                    best_key, best = key, (r, pos, parts[pos])
        return best

    def _positions(self, cls: int, r: int) -> range:
        """Positions of region r's parts that a play of this priority may use."""
        n = len(self.region_parts[r])
        if cls == UU_TIEN:
            return range(0, min(n, self.uu_max[r] + 1))
        return range(self.th_min[r], n)

    def best(self, demand: Demand) -> tuple[int, int, int] | None:
        """(region, position, part) that spreads this bulletin best, or None if nothing fits.

        Preference, in order: fewer plays of it that day, the half (morning/afternoon) it has
        fewer plays in, farther from its other days, more free time left, earlier.
        """
        cap = self.cap
        region_parts = self.region_parts
        region_session = self.region_session
        region_free = self.region_free
        session_slot = self.session_slot
        uu = demand.cls == UU_TIEN
        limit = self.uu_max if uu else self.th_min
        cost = demand.cost
        used = demand.used
        session_tail = self.session_tail
        # The ordering in two integers compared in turn (ints compare much faster than tuples in this
        # hot loop): `first` = (fewer that day, half, distance) per (day, half) slot of a session,
        # `second` = (free time, earlier).
        day_count = demand.day_count
        dist = demand.dist
        am, pm = demand.halves
        morning_bonus = 8 if am < pm else 0
        afternoon_bonus = 8 if pm < am else 0
        firsts = []
        for day in range(7):
            c = day_count[day]
            base = ((7 - c) if c < 7 else 0) * 16 + dist[day]
            firsts.append(base + morning_bonus)
            firsts.append(base + afternoon_bonus)
        best_first = best_second = -1
        best: tuple[int, int, int] | None = None
        for r in demand.regions:
            s = region_session[r]
            if s in used:
                continue
            first = firsts[session_slot[s]]
            if first < best_first:
                continue
            parts = region_parts[r]
            if len(parts) == 1:
                if cap[parts[0]] < cost or (limit[r] < 0 if uu else limit[r] > 0):
                    continue
                found = 0
            else:
                found = -1
                for pos in range(0, min(len(parts), limit[r] + 1)) if uu else range(limit[r], len(parts)):
                    if cap[parts[pos]] >= cost:
                        found = pos
                        break
                if found < 0:
                    continue
            free = region_free[r]
            second = (free if free < FREE_CAP else FREE_CAP) << 30 | session_tail[s]
            if first > best_first or second > best_second:
                best_first, best_second = first, second
                best = (r, found, parts[found])
        return best

    def place(self, i: int, r: int, pos: int, part: int) -> None:
        demand = self.demands[i]
        s = self.region_session[r]
        self.cap[part] -= demand.cost
        self.region_free[r] -= demand.cost
        self.items[part].append(i)
        demand.used.add(s)
        demand.need -= 1
        day = self.session_day[s]
        demand.day_count[day] += 1
        demand.halves[0 if self.session_morning[s] else 1] += 1
        demand.placed.append((r, pos, part))
        if not demand.mask >> day & 1:
            demand.mask |= 1 << day
            demand.dist = DISTANCES[demand.mask]
        if demand.cls == UU_TIEN:
            if pos > self.th_min[r]:
                self.th_min[r] = pos
        elif pos < self.uu_max[r]:
            self.uu_max[r] = pos
        self._stuck.clear()
        self._no_room.clear()

    def unplace(self, i: int, placement: tuple[int, int, int]) -> None:
        demand = self.demands[i]
        r, _, part = placement
        s = self.region_session[r]
        self.cap[part] += demand.cost
        self.region_free[r] += demand.cost
        self.items[part].remove(i)
        demand.used.discard(s)
        demand.need += 1
        day = self.session_day[s]
        demand.day_count[day] -= 1
        demand.halves[0 if self.session_morning[s] else 1] -= 1
        demand.placed.remove(placement)
        if not demand.day_count[day]:
            demand.mask &= ~(1 << day)
            demand.dist = DISTANCES[demand.mask]
        # uu_max / th_min stay as they were: still a valid (if cautious) bound on the ordering.
        self._stuck.clear()
        self._no_room.clear()

    def _movable(self, j: int) -> tuple[int, int, int] | None:
        """Where play j could move, memoised while nothing moves (failed repairs change nothing)."""
        if self._stuck.get(j):
            return None
        target = self.best(self.demands[j])
        if target is None:
            self._stuck[j] = True
        return target

    def _allowed(self, cls: int, r: int, pos: int) -> bool:
        return pos <= self.uu_max[r] if cls == UU_TIEN else pos >= self.th_min[r]

    def repair(self, i: int) -> bool:
        """One more play of demand i, in a session it is missing from: straight in if there is room,
        else by moving plays out of a full part to other sessions. Every move keeps all other
        counts; a failed attempt is undone."""
        demand = self.demands[i]
        spots = [
            (r, pos, self.region_parts[r][pos])
            for r in demand.regions
            if self.region_session[r] not in demand.used
            for pos in self._positions(demand.cls, r)
        ]
        for r, pos, part in spots:
            if self.cap[part] >= demand.cost:
                self.place(i, r, pos, part)
                return True
        for r, pos, part in spots:
            if self.budget <= 0:
                return False
            if self._make_room(i, part):
                self.place(i, r, pos, part)
                return True
        return False

    def _make_room(self, i: int, part: int) -> bool:
        """Move plays out of `part` (longest first) to other sessions until demand i fits there; undo
        the moves and return False if it never does.

        Spots of a repair lie in sessions demand i does not use, so i is never among the part's
        plays and the moves tried do not depend on i: an attempt that failed for a play of length c
        fails the same way (spending the same budget) for any play at least as long, until something
        else moves. A failed attempt restores the state exactly, so what was memoised before it
        (`_stuck`, `_no_room`) stays valid after it.
        """
        cost = self.demands[i].cost
        known = self._no_room.get(part)
        if known is not None and cost >= known[0]:
            self.budget = max(0, self.budget - known[1])
            return False
        room = max(self.cap, default=0)
        saved = (list(self.uu_max), list(self.th_min))
        memo: tuple[dict[int, bool], dict[int, tuple[int, int]]] | None = None
        moves: list[tuple[int, tuple[int, int, int], tuple[int, int, int]]] = []
        spent = 0
        completed = False
        for j in sorted(self.items[part], key=self._room_rank):
            other = self.demands[j]
            if j == i or other.cost > room:
                continue
            self.budget -= 1
            spent += 1
            if self.budget <= 0:
                break
            target = self._movable(j)
            if target is None:
                continue
            if memo is None:
                memo = (dict(self._stuck), dict(self._no_room))
            placement = next(p for p in other.placed if p[2] == part)
            self.unplace(j, placement)
            self.place(j, *target)
            moves.append((j, placement, target))
            if self.cap[part] >= cost:
                return True
            room = max(self.cap, default=0)
        else:
            completed = True
        for j, placement, target in reversed(moves):
            self.unplace(j, target)
            self.place(j, *placement)
        self.uu_max, self.th_min = saved
        if memo is not None:
            self._stuck, self._no_room = memo
        if completed:
            self._no_room[part] = (cost if moves else 0, spent)
        return False
