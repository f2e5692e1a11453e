"""Station import (`loaxa import stations FILE.csv`) of a national-scale file on a fresh database.

Generates a 50,000-station CSV — 34 provinces, about 3,300 communes (15 stations each), four
fifths of them in a named area, the window templates of bench_planner.py, one station in ten
inheriting its commune's windows — and times, each in its own process on a fresh database:

- `import`: `import_stations` in one transaction, as the CLI runs it, then the same file again
  (every station already there, nothing changes);
- baseline `validate`: the same file read and checked row by row (`check_station_rows`, the very
  rules the import applies) without touching the database;
- baseline `core`: one raw Core executemany of the same 50,000 station rows (communes inserted
  beforehand, untimed) — the least any import must pay to write them;
- `old:<commit>`: `import_stations` of an older commit (extracted with `git archive`), same file.

`validate + core` is the floor: the import's cost over it is what the import adds. Variants run
interleaved, in rotating order, `--repeat` rounds; the median and the best are printed.

    python benchmarks/bench_import.py [--stations 50000] [--repeat 3] [--db sqlite,postgresql]
        [--old 667c975] [--old-repeat 1] [--old-again] [--variants import,validate,core]

PostgreSQL: a throw-away database per run on LOAXA_TEST_PG_URL (default postgres@127.0.0.1:5432/test).
Figures go to docs/benchmarks.md ("Station import").
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get("LOAXA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
HEADER = "code,name,commune,area,province,languages,windows,lat,lon,speakers\n"
PROVINCES = 34
PER_COMMUNE = 15


def make_csv(stations: int, seed: int = 7) -> str:
    """`stations` rows in PROVINCES provinces, PER_COMMUNE stations per commune, bench_planner's windows."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_planner import TEMPLATES

    rng = random.Random(seed)
    per_province = -(-stations // PROVINCES)
    lines = [HEADER]
    count = 0
    for p in range(PROVINCES):
        province = f"Tỉnh số {p + 1:02d}"
        templates = rng.sample(range(len(TEMPLATES)), 2)
        for c in range(-(-per_province // PER_COMMUNE)):
            commune = f"Xã {p + 1:02d}-{c + 1:03d} Ia Grai"
            area = f"Khu vực {c // 10 + 1}" if c % 5 else ""
            template = templates[0] if rng.random() < 0.7 else templates[1]
            languages = "vi;jra" if "lang=jra" in TEMPLATES[template] else "vi"
            for k in range(PER_COMMUNE):
                if count == stations:
                    return "".join(lines)
                windows = "" if rng.random() < 0.1 else TEMPLATES[template]
                lat, lon = 12.0 + rng.random() * 3, 107.0 + rng.random() * 2
                lines.append(f'P{p + 1:02d}-X{c + 1:03d}-{k + 1:02d},Cụm loa thôn {k + 1},{commune},{area},{province},'
                             f'{languages},"{windows}",{lat:.5f},{lon:.5f},{rng.randint(1, 12)}\n')
                count += 1
    return "".join(lines)


# --- child: one measured run in its own process, against the code under `--root` -------------------------


def _child(mode: str, url: str, csv_path: str) -> dict[str, Any]:
    from sqlalchemy import insert

    from scheduler.db.models import Commune, Province, Station
    from scheduler.db.session import make_engine, make_session_factory, transaction, upgrade_schema
    from scheduler.imports import STATION_COLUMNS, import_stations, read_rows

    text = Path(csv_path).read_text(encoding="utf-8-sig")
    if mode == "validate":
        from scheduler.imports import check_station_rows

        start = time.perf_counter()
        checked = check_station_rows(read_rows(text, STATION_COLUMNS), set())
        return {"seconds": time.perf_counter() - start, "rows": len(checked)}
    engine = make_engine(url)
    upgrade_schema(engine)
    sessions = make_session_factory(engine)
    try:
        if mode == "core":
            rows = read_rows(text, STATION_COLUMNS)
            places = {(r["province"], r["commune"]) for _, r in rows}
            provinces = sorted({p for p, _ in places})
            pid = {p: i + 1 for i, p in enumerate(provinces)}
            with engine.begin() as conn:
                conn.execute(insert(Province), [{"id": i, "name": p, "policy": {}} for p, i in pid.items()])
                cid = {place: i + 1 for i, place in enumerate(sorted(places))}
                conn.execute(insert(Commune), [{"id": cid[pl], "province_id": pid[pl[0]], "name": pl[1], "policy": {}}
                                               for pl in cid])
            values = [{"code": r["code"], "name": r["name"], "commune_id": cid[(r["province"], r["commune"])],
                       "languages": r["languages"], "windows": r["windows"], "lat": float(r["lat"]),
                       "lon": float(r["lon"]), "speakers": int(r["speakers"]), "active": True, "status": {}}
                      for _, r in rows]
            start = time.perf_counter()
            with engine.begin() as conn:
                conn.execute(insert(Station), values)
            return {"seconds": time.perf_counter() - start, "rows": len(values)}
        start = time.perf_counter()
        with transaction(sessions) as session:
            first = import_stations(session, text)
        middle = time.perf_counter()
        if mode == "import-once":
            return {"seconds": middle - start, "created": first.created}
        with transaction(sessions) as session:
            again = import_stations(session, text)
        end = time.perf_counter()
        return {"seconds": middle - start, "again": end - middle, "created": first.created,
                "updated_again": again.updated}
    finally:
        engine.dispose()


def _fresh_database(db: str, tmp: Path) -> tuple[str, Any]:
    """A URL to an empty database and a function that removes it."""
    if db == "sqlite":
        path = tmp / f"{uuid.uuid4().hex}.sqlite3"
        def remove() -> None:
            for part in tmp.glob(path.name + "*"):
                part.unlink()

        return f"sqlite:///{path}", remove
    from sqlalchemy import create_engine, text

    name = f"loaxa_bench_import_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", drop


def _run(root: Path, mode: str, db: str, csv_path: Path, tmp: Path) -> dict[str, Any]:
    url, drop = _fresh_database(db, tmp)
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--child", mode, "--root", str(root), "--url", url, "--csv", str(csv_path)],
            check=True, capture_output=True, text=True,
        )
    finally:
        drop()
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _extract(commit: str, tmp: Path) -> Path:
    """The tree of `commit`, from this repository, in a throw-away folder."""
    target = tmp / f"old-{commit}"
    target.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stations", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--variants", default="import,validate,core")
    parser.add_argument("--old", default="", help="commits to time the same way, comma-separated")
    parser.add_argument("--old-repeat", type=int, default=1, help="rounds for the old commits (they are slow)")
    parser.add_argument("--old-again", action="store_true", help="also time the old commits' re-import")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    parser.add_argument("--root", default=str(ROOT), help=argparse.SUPPRESS)
    parser.add_argument("--url", default="", help=argparse.SUPPRESS)
    parser.add_argument("--csv", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        sys.path.insert(0, args.root)
        print(json.dumps(_child(args.child, args.url, args.csv)))
        return 0

    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp_name:
        tmp = Path(tmp_name)
        csv_path = tmp / "stations.csv"
        csv_path.write_text(make_csv(args.stations), encoding="utf-8")
        variants: list[tuple[str, Path, str]] = [(v, ROOT, v) for v in args.variants.split(",") if v]
        old_mode = "import" if args.old_again else "import-once"
        olds = [(f"old:{c}", _extract(c, tmp), old_mode) for c in args.old.split(",") if c]
        print(f"{args.stations} stations, {csv_path.stat().st_size / 1e6:.1f} MB CSV; load {os.getloadavg()}")
        for db in args.db.split(","):
            results: dict[str, list[dict[str, Any]]] = {}
            for round_no in range(max(args.repeat, args.old_repeat)):
                todo = variants if round_no < args.repeat else []
                todo = todo + (olds if round_no < args.old_repeat else [])
                shift = round_no % max(1, len(todo))
                for label, root, mode in todo[shift:] + todo[:shift]:
                    result = _run(root, mode, db, csv_path, tmp)
                    results.setdefault(label, []).append(result)
                    print(f"  {db} round {round_no + 1} {label}: {json.dumps(result)}", flush=True)
            print(f"{db} (load {os.getloadavg()[0]:.1f}):")
            for label, runs in results.items():
                seconds = [r["seconds"] for r in runs]
                line = f"  {label:>16}: median {statistics.median(seconds):7.2f} s, best {min(seconds):7.2f} s"
                if "again" in runs[0]:
                    line += f"; re-import median {statistics.median(r['again'] for r in runs):7.2f} s"
                print(line)
            if {"import", "validate", "core"} <= results.keys():
                floor = statistics.median(r["seconds"] for r in results["validate"]) + statistics.median(
                    r["seconds"] for r in results["core"])
                imported = statistics.median(r["seconds"] for r in results["import"])
                print(f"  import / (validate + core) = {imported / floor:.2f}")
            for label, runs in results.items():
                if label.startswith("old:") and "import" in results:
                    old = statistics.median(r["seconds"] for r in runs)
                    new = statistics.median(r["seconds"] for r in results["import"])
                    print(f"  {label} / import = {old / new:.1f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
