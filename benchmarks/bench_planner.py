"""Planner benchmark: a synthetic province, a national-scale week, and quality against CP-SAT.

    python benchmarks/bench_planner.py            # full run (national case takes about a minute)
    python benchmarks/bench_planner.py --quick    # seconds: small cases only
    python benchmarks/bench_planner.py --no-cpsat --case national --against /path/to/old/checkout
        # the named scale cases, interleaved with the same cases run on another checkout's planner

Each scale case also prints the plan's digest (scheduler.planning.digest) and whether it equals the
digest recorded in DIGESTS, i.e. whether the planner still makes exactly the same plans.

Figures printed: wall time and peak memory of plan_week (grouped, as shipped) side by side with
the same planner forced to plan each station on its own (the baseline), and on small instances
the planner's objective against the exact optimum of the same packing model from OR-Tools CP-SAT
(`pip install loaxa[bench]`). Record results in docs/benchmarks.md, section "Planner".
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import random
import resource
import statistics
import subprocess
import sys
import time as clock
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from scheduler.domain import BulletinInput, IsoWeek, Policy, Priority, StationInput
from scheduler.planning import Plan, PlanRequest, collector_paused, plan_week
from scheduler.planning.digest import plan_digest
from scheduler.planning.planner import SEARCH_STEPS, SEARCH_TOTAL, _Planner
from scheduler.planning.score import Score, score
from scheduler.planning.verify import find_violations
from scheduler.planning.windows import parse_windows

WEEK = IsoWeek(2026, 48)
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # the Friday before: plan the whole next week
TEMPLATES = (
    # Rural commune: morning + evening with the provincial relay at the start of the evening.
    "T2-CN 05:30-06:00; T2-CN 17:00-17:45; T2-CN 17:00-17:15 tiep-song=https://radio.example.vn/tinh",
    # Urban ward (Hà Nội rule): 2 sessions of 15 minutes, weekdays only.
    "T2-T6 06:00-06:15; T2-T6 17:00-17:15",
    # Highland commune: relay, then a Jrai segment, Mon-Fri; shorter weekend sessions.
    "T2-CN 05:30-06:15; T2-T6 17:00-17:45; T2-T6 17:00-17:15 tiep-song=https://vov.example.vn/thoisu; "
    "T2-T6 17:15-17:22 lang=jra; T7,CN 17:00-17:30",
    # Long rural sessions.
    "T2-CN 05:30-06:30; T2-CN 16:30-17:30",
)


def _bulletin(
    rng: random.Random, code: str, stations: frozenset[str], language: str = "vi", heavy: bool = False
) -> BulletinInput:
    priority = Priority.PRIORITY if rng.random() < 0.2 else Priority.NORMAL
    if rng.random() < 0.04:
        priority = Priority.EMERGENCY
    monday = WEEK.monday()
    if rng.random() < 0.2:
        first = monday + timedelta(days=rng.randint(-10, 4))
        last = first + timedelta(days=rng.randint(2, 12))
    else:
        first, last = monday - timedelta(days=30), monday + timedelta(days=30)
    plays = rng.choice((2, 3, 3, 4, 5, 7, 7, 10)) if heavy else rng.choice((1, 2, 2, 3, 3, 4, 5, 7))
    return BulletinInput(
        code=code,
        title=f"Tuyên truyền cải cách hành chính {code}",
        language=language,
        priority=priority,
        valid_from=first,
        valid_to=last,
        plays_per_week=plays,
        duration_ms=rng.randint(45, 300) * 1000,
        stations=stations,
        audio_sha256=None,
    )


def make_country(
    seed: int, provinces: int, stations_per_province: int, bulletins: int, *, distinct: bool = False
) -> PlanRequest:
    """Stations in provinces and communes (3 per commune), bulletins targeted nationally (5%),
    per province (55%) or per commune (40%). `distinct` gives every station its own bulletin, so no
    two stations can share a plan (the planner's worst case)."""
    rng = random.Random(seed)
    windows = [parse_windows(t) for t in TEMPLATES]
    policy = Policy(jingle_ms=8_000, gap_ms=2_000)
    stations: list[StationInput] = []
    by_province: list[list[str]] = []
    communes: list[list[str]] = []
    highland: list[str] = []
    for p in range(provinces):
        codes: list[str] = []
        templates = rng.sample(range(len(TEMPLATES)), 2)
        for c in range(0, stations_per_province, 3):
            template = templates[0] if rng.random() < 0.7 else templates[1]
            commune = [f"P{p:02d}C{c // 3:03d}S{k}" for k in range(min(3, stations_per_province - c))]
            for code in commune:
                languages = ("vi", "jra") if template == 2 else ("vi",)
                stations.append(StationInput(code, languages, windows[template], f"P{p:02d}C{c // 3:03d}", policy))
                if template == 2:
                    highland.append(code)
            codes.extend(commune)
            communes.append(commune)
        by_province.append(codes)
    all_codes = frozenset(s.code for s in stations)
    out: list[BulletinInput] = []
    for i in range(bulletins):
        roll = rng.random()
        if roll < 0.05:
            targets, heavy = all_codes, True
        elif roll < 0.6:
            targets, heavy = frozenset(rng.choice(by_province)), True
        else:
            targets, heavy = frozenset(rng.choice(communes)), False
        language = "vi"
        if highland and rng.random() < 0.08:
            language = "jra"
            targets = frozenset(rng.sample(highland, min(len(highland), 200)))
        out.append(_bulletin(rng, f"BT{i:04d}", targets, language, heavy))
    if distinct:
        for s in stations:
            out.append(_bulletin(rng, f"RIENG-{s.code}", frozenset({s.code})))
    return PlanRequest(WEEK, stations, out, NOW)


def make_small(seed: int) -> PlanRequest:
    """A station or two and 6-14 bulletins: small enough for CP-SAT to prove the optimum."""
    rng = random.Random(seed)
    specs = (
        "T2-CN 05:30-05:45; T2-T6 17:00-17:20",
        "T2,T4,T6 05:30-05:50; T3,T5,T7 17:00-17:25; T2-T6 17:00-17:05 tiep-song=https://r.example.vn/a",
        "T2-CN 05:30-05:50; T2-T6 17:00-17:30; T2-T6 17:00-17:08 tiep-song=https://r.example.vn/b; "
        "T2-T6 17:08-17:15 lang=jra",
    )
    spec = specs[seed % len(specs)]
    policy = Policy(jingle_ms=rng.choice((0, 8_000)), gap_ms=2_000)
    stations = [StationInput(f"S{k}", ("vi", "jra"), parse_windows(spec), "", policy) for k in range(rng.randint(1, 2))]
    codes = frozenset(s.code for s in stations)
    bulletins = []
    for i in range(rng.randint(6, 14)):
        b = _bulletin(rng, f"B{i:02d}", codes, "jra" if rng.random() < 0.15 else "vi", heavy=True)
        if b.priority == Priority.EMERGENCY:
            b = replace(b, priority=Priority.NORMAL)
        bulletins.append(b)
    return PlanRequest(WEEK, stations, bulletins, NOW)


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _steps_for(request: PlanRequest) -> int:
    """The local-search steps plan_week picks by itself for this request (see docs/planner.md)."""
    groups = len(_Planner(request).groups())
    return min(SEARCH_STEPS, SEARCH_TOTAL // max(1, groups))


def _ungrouped(request: PlanRequest) -> Plan:
    """Baseline: the same planner, one station at a time (no sharing between equal stations)."""
    merged = Plan(items={}, shortfalls=[])
    for station in request.stations:
        part = plan_week(replace(request, stations=[station]))
        merged.items.update(part.items)
        merged.shortfalls.extend(part.shortfalls)
    return merged


def _timed(run: Callable[[], Plan], paused: bool = True) -> tuple[Plan, float, float]:
    """Time `run` as the weekly batch build does (collector paused), or as a web rebuild does."""
    gc.collect()
    wall, cpu = clock.perf_counter(), clock.process_time()
    if paused:
        with collector_paused():
            plan = run()
    else:
        plan = run()
    return plan, clock.perf_counter() - wall, clock.process_time() - cpu


def _scale_case(make: Callable[[], PlanRequest], name: str, baseline: bool, check: bool) -> dict[str, Any]:
    """Run in a child process, so peak RSS belongs to this case alone."""
    request = make()
    steps = _steps_for(request)
    request = replace(request, search_steps=steps)
    groups = len(_Planner(request).groups())
    rss_before = _rss_mib()
    plan, wall, cpu = _timed(lambda: plan_week(request))
    row: dict[str, Any] = {
        "case": name,
        "stations": len(request.stations),
        "bulletins": len(request.bulletins),
        "groups": groups,
        "steps": steps,
        "items": sum(len(v) for v in plan.items.values()),
        "shortfalls": len(plan.shortfalls),
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_mib": _rss_mib(),
        "plan_rss_mib": _rss_mib() - rss_before,
        "violations": len(find_violations(plan, request)) if check else "n/a",
        "score": score(plan, request),
        "digest": plan_digest(plan),
    }
    if baseline:
        _, _, collecting_cpu = _timed(lambda: plan_week(request), paused=False)
        row["cpu_s_collector_on"] = collecting_cpu  # as in a web request's rebuild
        base_plan, base_wall, base_cpu = _timed(lambda: _ungrouped(request))
        row["baseline_cpu_s"] = base_cpu
        row["cpu_ratio_vs_baseline"] = cpu / base_cpu
        row["same_programme_as_baseline"] = base_plan.items == plan.items
    return row


def _in_child(target: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        return pool.apply(target, args)


def optimum(request: PlanRequest, time_limit: float = 20.0) -> tuple[Score, str]:
    """The exact lexicographic optimum of the planner's own packing model, solved with CP-SAT.

    Same parts, capacities (jingles and gaps included), eligibility, once-per-session and
    priority-ordering rules as the planner. Returns the score and which stages CP-SAT proved
    optimal within the time limit: "all", "counts" (the spread stage hit the limit) or "none".
    """
    from ortools.sat.python import cp_model

    planner = _Planner(request)
    total = [0, 0, 0]
    proven = [True, True, True]
    for group in planner.groups():
        rep = group.stations[0]
        problem = planner.problem(group.skeleton_key, rep.policy, group.kept_key, [])
        model = cp_model.CpModel()
        x: dict[tuple[int, int, int], Any] = {}  # (demand, region, position) -> play
        demands = []
        for d, index in enumerate(group.targets):
            b = planner.bulletins[index]
            cost = b.duration_ms + rep.policy.gap_ms
            cls = 0 if b.priority == Priority.PRIORITY else 1
            demands.append((cls, cost, b.plays_per_week))
            for r in planner.regions_for(problem, b, cost):
                for k in range(len(problem.regions[r].parts)):
                    x[d, r, k] = model.new_bool_var(f"x{d}_{r}_{k}")
        for d, (_, _, quota) in enumerate(demands):
            plays = [(r, v) for (dd, r, _), v in x.items() if dd == d]
            model.add(sum(v for _, v in plays) <= quota)
            for s in range(len(problem.sessions)):
                in_session = [v for r, v in plays if problem.regions[r].session == s]
                if len(in_session) > 1:
                    model.add(sum(in_session) <= 1)
        for r, region in enumerate(problem.regions):
            for k, part in enumerate(region.parts):
                load = [demands[d][1] * v for (d, rr, kk), v in x.items() if rr == r and kk == k]
                if load:
                    model.add(sum(load) <= problem.part_cap[part])
            # Priority ordering across parts: no uu_tien play in a part after one holding a thuong play.
            for (d1, r1, k1), v1 in x.items():
                if r1 != r or demands[d1][0] != 1:
                    continue
                for (d2, r2, k2), v2 in x.items():
                    if r2 == r and demands[d2][0] == 0 and k2 > k1:
                        model.add(v1 + v2 <= 1)
        uu = sum(v for (d, _, _), v in x.items() if demands[d][0] == 0)
        th = sum(v for (d, _, _), v in x.items() if demands[d][0] == 1)
        spread_terms = []
        for d in range(len(demands)):
            where = [(problem.sessions[problem.regions[r].session], v) for (dd, r, _), v in x.items() if dd == d]
            for day in range(7):
                on_day = [v for s, v in where if s.day == day]
                if on_day:
                    y = model.new_bool_var(f"y{d}_{day}")
                    model.add(y <= sum(on_day))
                    spread_terms.append(y)
            m = model.new_int_var(0, 14, f"m{d}")
            model.add(m <= sum(v for s, v in where if s.morning))
            model.add(m <= sum(v for s, v in where if not s.morning))
            spread_terms.append(m)
        spread = sum(spread_terms)
        values = []
        for stage, objective in enumerate((uu, th, spread)):
            model.maximize(objective)
            solver = cp_model.CpSolver()
            solver.parameters.max_time_in_seconds = time_limit
            solver.parameters.num_workers = 1
            status = solver.solve(model)
            if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                raise RuntimeError(f"CP-SAT found no solution ({solver.status_name(status)})")
            proven[stage] = proven[stage] and status == cp_model.OPTIMAL
            value = round(solver.objective_value)
            values.append(value)
            if stage < 2:
                model.add(objective >= value)
        for i in range(3):
            total[i] += values[i] * len(group.stations)
    return Score(*total), "all" if all(proven) else "counts" if proven[0] and proven[1] else "none"


def bench_quality(seeds: range, time_limit: float) -> list[dict[str, Any]]:
    rows = []
    for seed in seeds:
        request = make_small(seed)
        plan = plan_week(request)
        ours = score(plan, request)
        best, proven = optimum(request, time_limit)
        ratios = ours.ratio_to(best)
        plays = (ours.uu_tien + ours.thuong) / max(1, best.uu_tien + best.thuong)
        rows.append(
            {
                "seed": seed,
                "ours": ours,
                "optimum": best,
                "proven": proven,
                "uu_ratio": ratios[0],
                "plays_ratio": plays,
                "spread_ratio": ratios[2],
                "violations": len(find_violations(plan, request)),
            }
        )
    return rows


CASES: dict[str, tuple[str, Callable[[], PlanRequest], bool, bool]] = {
    # key: (name, request, run the one-station-at-a-time baseline, check violations)
    "quick": ("province 45 x 20", partial(make_country, 1, 1, 45, 20), True, True),
    "province": ("province 300 x 60", partial(make_country, 1, 1, 300, 60), True, True),
    "national": ("national 10000 x 500", partial(make_country, 2, 34, 295, 500), False, False),
    "distinct": (
        "national, every station distinct",
        partial(make_country, 3, 34, 295, 500, distinct=True),
        False,
        False,
    ),
}
# plan_digest of each case's plan as the planner made it before the speed work of issue 16: a faster
# planner must give the same digest (or a plan better by the planner's own objective, recorded here).
DIGESTS = {
    "quick": "72b4996ddbd1cc3157c258e814375739b63281c425018fa74ca1ff5d243aac63",
    "province": "0462e801e922a6efa1c26002260e74c315d1872bd3de97a98f0fbf7a57230f22",
    "national": "9c6806d578431a3d359b466387f420ca599709457b11703386824b04fef73177",
    "distinct": "e7fec482710b81c1e594c483817dcf9d0a54eab8b8bc9c558ecf5eb2f22a13a6",
}


def _run_cases(keys: list[str]) -> list[dict[str, Any]]:
    rows = []
    for key in keys:
        name, make, baseline, check = CASES[key]
        row = _in_child(_scale_case, make, name, baseline, check)
        row["same_plans_as_before"] = row["digest"] == DIGESTS[key]
        rows.append(row)
    return rows


def _against(keys: list[str], other: str, rounds: int) -> None:
    """Each case `rounds` times on this checkout and on `other`, alternating, each run in its own
    process; prints the median CPU seconds of both and their ratio (this / other)."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for key in keys:
        cpu: dict[str, list[float]] = {"this": [], "other": []}
        digests: dict[str, set[str]] = {"this": set(), "other": set()}
        for _ in range(rounds):
            for label, tree in (("other", other), ("this", here)):
                env = dict(os.environ, PYTHONPATH=tree)
                out = subprocess.run(
                    [sys.executable, os.path.abspath(__file__), "--no-cpsat", "--json", "--case", key],
                    env=env, cwd=tree, check=True, capture_output=True, text=True,
                ).stdout  # fmt: skip
                row = json.loads(out.splitlines()[-1])
                cpu[label].append(row["cpu_s"])
                digests[label].add(row["digest"])
                print(
                    f"  {key} {label}: cpu_s={row['cpu_s']:.2f} wall_s={row['wall_s']:.2f} "
                    f"peak_rss_mib={row['peak_rss_mib']:.0f} digest={row['digest'][:16]}",
                    flush=True,
                )
        this, before = statistics.median(cpu["this"]), statistics.median(cpu["other"])
        print(
            f"  {key}: median CPU s this {this:.2f}, other {before:.2f}, ratio {this / before:.2f}; "
            f"same plans: {digests['this'] == digests['other'] and len(digests['this']) == 1}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small cases only, runs in seconds")
    parser.add_argument("--no-cpsat", action="store_true", help="skip the comparison with the exact optimum")
    parser.add_argument("--case", action="append", choices=sorted(CASES), help="run only these scale cases")
    parser.add_argument("--json", action="store_true", help="print each scale case as one JSON line")
    parser.add_argument("--against", metavar="TREE", help="another checkout to time the same cases against")
    parser.add_argument("--rounds", type=int, default=3, help="with --against: runs of each side per case")
    args = parser.parse_args(argv)
    keys = args.case or (["quick"] if args.quick else ["province", "national", "distinct"])
    if args.json:
        for row in _run_cases(keys):
            print(json.dumps(row, default=str))
        return 0
    print(f"Python {sys.version.split()[0]}, week {WEEK}")
    if args.against:
        print(f"\n== Scale, interleaved with {args.against} ==")
        _against(keys, args.against, args.rounds)
    else:
        print("\n== Scale (each case in its own process) ==")
        for row in _run_cases(keys):
            print("  " + ", ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))

    if not args.no_cpsat:
        print("\n== Quality against the CP-SAT optimum (same model) ==")
        rows = bench_quality(range(3) if args.quick else range(30), 3.0 if args.quick else 30.0)
        for r in rows:
            print(
                f"  seed {r['seed']:2d}: ours {r['ours']}, optimum {r['optimum']} "
                f"(proven: {r['proven']}), uu {r['uu_ratio']:.3f}, "
                f"plays {r['plays_ratio']:.3f}, spread {r['spread_ratio']:.3f}, violations {r['violations']}"
            )
        n = len(rows)
        print(
            f"  mean plays ratio {sum(r['plays_ratio'] for r in rows) / n:.4f}, "
            f"min {min(r['plays_ratio'] for r in rows):.4f}; "
            f"mean uu ratio {sum(r['uu_ratio'] for r in rows) / n:.4f}; "
            f"mean spread ratio {sum(r['spread_ratio'] for r in rows) / n:.4f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
