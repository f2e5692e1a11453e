"""Local search after the greedy: ruin and recreate, keeping a change only if the objective holds.

Each step empties a few sessions (or removes every play of a few bulletins), re-inserts all
missing plays greedily (priority first, roughly shortest first, alternately by spreading and by
tight fit) and keeps the result when (uu_tien plays, thuong plays, spread) did not get worse.
The random choices come from a generator with a fixed seed, so the same input gives the same plan.
"""

from __future__ import annotations

import random

from scheduler.planning.packing import THUONG, UU_TIEN, Demand, Packer

SEED = 20_260_301


def objective(packer: Packer) -> tuple[int, int, int]:
    """(uu_tien plays, thuong plays, spread) counted over this packing, kept plays included."""
    uu = thuong = spread = 0
    for d in packer.demands:
        if d.cls == UU_TIEN:
            uu += len(d.placed)
        else:
            thuong += len(d.placed)
        am, pm = d.halves
        spread += d.mask.bit_count() + (am if am < pm else pm)  # mask: the days it plays
    return uu, thuong, spread


def upper_bound(packer: Packer) -> tuple[int, int, int]:
    """A bound no packing can beat: every missing play placed, each bulletin on distinct days and
    evenly split between mornings and afternoons."""
    uu = thuong = spread = 0
    for d in packer.demands:
        wanted = len(d.placed) + d.need
        if d.cls == UU_TIEN:
            uu += wanted
        else:
            thuong += wanted
        total = sum(d.day_count) + d.need
        spread += min(total, 7) + total // 2
    return uu, thuong, spread


def _recreate(packer: Packer, rng: random.Random, mode: int, first: int) -> None:
    """Re-insert every missing play: priority first, then `first` (the play the ruin made room
    for), then roughly shortest first."""
    demands = packer.demands
    for cls in (UU_TIEN, THUONG):
        missing = [i for i, d in enumerate(demands) if d.cls == cls and d.need > 0]
        noise = {i: rng.random() * 0.35 for i in missing}
        sign = -1 if mode == 2 else 1
        missing.sort(key=lambda i: (i != first, sign * demands[i].cost * (1 + noise[i]), demands[i].code))
        for i in missing:
            demand: Demand = demands[i]
            while demand.need > 0:
                spot = packer.best_fit(demand) if mode else packer.best(demand)
                if spot is None:
                    break
                packer.place(i, *spot)


def _ruin(packer: Packer, rng: random.Random, targeted: bool) -> int:
    """Empty 2-3 sessions (one where a missing play could go, when `targeted`) or drop every play
    of 1-2 bulletins. Returns the demand the ruin targeted, or -1."""
    target = -1
    problem = packer.problem
    if targeted or rng.random() < 0.7:
        busy = [s for s, parts in enumerate(problem.session_parts) if any(packer.items[p] for p in parts)]
        chosen = rng.sample(busy, min(len(busy), rng.randint(2, 3)))
        if targeted:
            missing = [i for i, d in enumerate(packer.demands) if d.need > 0]
            if missing:
                target = rng.choice(missing)
                demand = packer.demands[target]
                open_sessions = sorted({packer.region_session[r] for r in demand.regions} - demand.used)
                if open_sessions:
                    chosen[:1] = [rng.choice(open_sessions)]
        for s in sorted(set(chosen)):
            for part in problem.session_parts[s]:
                for i in list(packer.items[part]):
                    demand = packer.demands[i]
                    packer.unplace(i, next(p for p in demand.placed if p[2] == part))
    else:
        placed = [i for i, d in enumerate(packer.demands) if d.placed]
        for i in rng.sample(placed, min(len(placed), rng.randint(1, 2))):
            demand = packer.demands[i]
            for placement in list(demand.placed):
                packer.unplace(i, placement)
    packer.tighten_order()
    return target


def improve(packer: Packer, steps: int, *, only_more_plays: bool = False) -> None:
    """Up to `steps` ruin-and-recreate steps: first for the play counts (a worse spread is allowed
    on the way), then for the spread with the counts held; stops early at the upper bound.

    `only_more_plays` (a re-plan that started from the previous programme): the search result is
    kept only if it schedules more plays, so an unchanged week is not reshuffled for spread alone.
    """
    if steps <= 0:
        return
    start_state = packer.snapshot() if only_more_plays else None
    start_counts = objective(packer)[:2]
    if only_more_plays and start_counts >= upper_bound(packer)[:2]:
        return
    rng = random.Random(SEED)
    bound = upper_bound(packer)
    best = current = objective(packer)
    # A snapshot of the best packing is needed only once the search moves away from it, and the step
    # that does so starts from a snapshot of it anyway: `best_state` is None while the packing in
    # place is the one that reached `best` (a national plan runs thousands of 2-step searches).
    best_state: tuple[object, ...] | None = None
    count_steps = steps * 3 // 5
    counting = True
    for step in range(steps):
        if best >= bound:
            break
        if counting and (step >= count_steps or best[:2] >= bound[:2]):
            counting = False
            if current != best:
                assert best_state is not None
                packer.restore(best_state)
                current, best_state = best, None
        saved = packer.snapshot()
        target = _ruin(packer, rng, targeted=counting)
        _recreate(packer, rng, mode=step % 3 if counting else step % 2, first=target)
        found = objective(packer)
        if (found[:2] >= current[:2]) if counting else (found >= current):
            current = found
            if found > best:
                best, best_state = found, None
            elif best_state is None:
                best_state = saved
        else:
            packer.restore(saved)
    if current != best:
        assert best_state is not None
        packer.restore(best_state)
    if start_state is not None and best[:2] <= start_counts:
        packer.restore(start_state)
