"""Page times on the demo a newcomer runs (`loaxa demo`): every main page, the report among them.

Seeds the demo province into a temporary directory (as `loaxa demo --seed-only` does: stations,
bulletins rendered offline, this week and next planned), then times each page with Flask's test
client, logged in as the demo administrator. The report page draws no chart itself any more: its
three charts are separate image requests. The baseline row is what one report view used to cost —
the page plus its three charts in one request — measured side by side on the same data.

    python benchmarks/bench_demo_pages.py [--repeat 5]

Figures go to docs/benchmarks.md ("Pages on the demo").
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGES = [
    ("Tổng quan", "/"),
    ("Hôm nay", "/hom-nay/"),
    ("Bản tin: list", "/ban-tin/"),
    ("Bản tin: new", "/ban-tin/moi"),
    ("Đài: list", "/dai/"),
    ("Lịch phát: DEMO-01's week", "/lich-phat/?dai=DEMO-01"),
    ("Báo cáo (this month, by station)", "/bao-cao/"),
]
CHARTS = ("topic", "commune", "trend")


def _median_ms(client: object, path: str, repeat: int) -> float:
    client.get(path)  # type: ignore[attr-defined]  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(path)  # type: ignore[attr-defined]
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, (path, response.status_code)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        os.environ.update({"LOAXA_DATA_DIR": data, "LOAXA_TTS_ENGINES": "espeak"})
        from scheduler.settings import Settings
        from web.app import create_app
        from web.cli.context import load_env
        from web.cli.demo_cmd import prepare

        prepare(load_env())
        app = create_app(Settings.from_env(), testing=True)
        app.config["WTF_CSRF_ENABLED"] = False
        client = app.test_client()
        client.post("/dang-nhap", data={"username": "quantri", "password": "quantri-demo"})
        rows = [(name, _median_ms(client, path, args.repeat)) for name, path in PAGES]
        charts = {name: _median_ms(client, f"/bao-cao/bieu-do/{name}.png", args.repeat) for name in CHARTS}
    report = dict(rows)["Báo cáo (this month, by station)"]
    print(f"{'page':<40} {'median ms':>10}")
    for name, ms in rows:
        print(f"{name:<40} {ms:>10.0f}")
    for name, ms in charts.items():
        print(f"{'  chart ' + name + ' (own request)':<40} {ms:>10.0f}")
    inline = report + sum(charts.values())
    label = "page + its three charts (old inline view)"
    print(f"{label:<40} {inline:>10.0f}")
    print(f"report page / (page + charts): {report / inline:.2f}")


if __name__ == "__main__":
    main()
