"""Rendering a station's manifest after a programme change: the shipped path against the standard library's.

After a change every station's manifest is rendered once (scheduler.manifest: `manifest_of` turning each
item's instants into local time, `manifest_bytes` writing the JSON). Side by side, interleaved round by
round, on the same week of `--items` items (a real week holds about 50; slots on a 3-hour grid, as the
planner lays them):
- shipped: `manifest_of` (local times kept per instant and zone) + `manifest_bytes` (orjson);
- baseline: the same functions with the conversion done every time (`_local.__wrapped__`) and the bytes
  written by `json.dumps(ensure_ascii=False, sort_keys=True, separators=(",", ":"))`, which is what both did
  before. The two outputs are checked to be the same bytes.
Each station has its own item ids, as in the database; the instants repeat across stations.

Usage: python benchmarks/bench_manifest_render.py [--items 50] [--stations 2000] [--rounds 5]
Figures go in docs/benchmarks.md ("Delivery", third pass).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scheduler import manifest as m  # noqa: E402

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
BASE = "https://loa.example.vn"


def weeks(stations: int, items: int) -> list[list[m.ItemRow]]:
    start = datetime(2026, 11, 30, 1, tzinfo=UTC)
    return [[m.ItemRow(s * items + k, start + timedelta(hours=3 * k), start + timedelta(hours=3 * k, minutes=3),
                       "bulletin", f"CCHC-{k:03d}", f"Tuyên truyền cải cách hành chính, đợt {k}", "vi", "thuong",
                       f"{k % 10:064x}", 180_000, None, None, None) for k in range(items)]
            for s in range(stations)]


def shipped(rows: list[m.ItemRow], code: str) -> bytes:
    return m.manifest_bytes(m.manifest_of(code, "2026-W49", 2, rows[0].start, rows, TZ, BASE))


def baseline(rows: list[m.ItemRow], code: str) -> bytes:
    cached, m._local = m._local, m._local.__wrapped__  # type: ignore[assignment]
    try:
        manifest = m.manifest_of(code, "2026-W49", 2, rows[0].start, rows, TZ, BASE)
    finally:
        m._local = cached
    return json.dumps(manifest, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def run(render: Callable[[list[m.ItemRow], str], bytes], all_rows: list[list[m.ItemRow]]) -> float:
    began = time.process_time()
    for n, rows in enumerate(all_rows):
        render(rows, f"ST-{n:05d}")
    return (time.process_time() - began) / len(all_rows) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--stations", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    all_rows = weeks(args.stations, args.items)
    assert all(shipped(rows, "X") == baseline(rows, "X") for rows in all_rows[:20]), "the two paths differ"
    new: list[float] = []
    old: list[float] = []
    for _ in range(args.rounds):
        old.append(run(baseline, all_rows))
        new.append(run(shipped, all_rows))
    print(f"{args.stations} stations × {args.items} items, {args.rounds} rounds interleaved, CPU ms per manifest")
    print(f"  baseline (conversion every time, json.dumps): median {statistics.median(old):.3f}  "
          f"runs {' '.join(f'{t:.3f}' for t in old)}")
    print(f"  shipped (local times kept, orjson):           median {statistics.median(new):.3f}  "
          f"runs {' '.join(f'{t:.3f}' for t in new)}")
    print(f"  shipped / baseline CPU: {statistics.median(new) / statistics.median(old):.2f}×")


if __name__ == "__main__":
    main()
