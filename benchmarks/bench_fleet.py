"""The fleet map and the open read API on a national-scale data set, against a small province side by side.

Seeds the two SQLite databases of bench_pages.py (10,000 stations in 1,000 communes, a programme week
for each, 140,000 items; baseline: 100 stations), gives every station coordinates and one API consumer
with every scope, then times with Flask's test client: the map of the whole province and of one
commune, the open API's calls, and beside them two pages that do comparable work — the paged
station list, and the airtime report page for the same day the API counts (the API reuses its count).
Prints the median of `--repeat` requests, the ratio national / baseline, and the map's cost per station.

    python benchmarks/bench_fleet.py [--repeat 5] [--stations 10000]

Figures go to docs/benchmarks.md ("Fleet map and open API").
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_pages import NOW, WEEK, Dataset, seed  # noqa: E402
from sqlalchemy import func, select, update  # noqa: E402

from audio.settings import AudioSettings  # noqa: E402
from scheduler import apikeys  # noqa: E402
from scheduler.db.models import Commune, Station, User  # noqa: E402
from scheduler.db.session import make_engine, make_session_factory, transaction  # noqa: E402
from scheduler.settings import Settings  # noqa: E402

DAY = "2026-11-24"  # Tuesday of the seeded week: closed by NOW, not rolled up (counted from the raw rows)


def place(url: str) -> None:
    """Coordinates on a grid over the Central Highlands, and a consumer key for the API."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(update(Station).values(lat=12.5 + (Station.id % 100) * 0.02,
                                            lon=107.5 + (Station.id / 100) * 0.002))
    engine.dispose()


def calls(commune: int) -> list[tuple[str, str, bool]]:
    """(label, path, is an API call)"""
    return [
        ("Đài: danh sách (50 đài một trang) — đối chứng", "/dai/", False),
        ("Bản đồ: toàn tỉnh", "/ban-do/", False),
        ("Bản đồ: một xã", f"/ban-do/?xa={commune}", False),
        ("API /stations?limit=500", "/api/v1/stations?limit=500", True),
        ("API /stations?state=mat_ket_noi&limit=500 (xét mọi đài)", "/api/v1/stations?state=mat_ket_noi&limit=500",
         True),
        ("API /programmes?limit=50", f"/api/v1/programmes?week={WEEK}&limit=50", True),
        ("Báo cáo: trang báo cáo một ngày, theo xã — đối chứng", f"/bao-cao/?from={DAY}&to={DAY}&by=commune", False),
        ("API /airtime/daily một ngày, theo xã", f"/api/v1/airtime/daily?from={DAY}&to={DAY}&by=commune", True),
        ("API /bulletins", "/api/v1/bulletins", True),
    ]


def time_calls(url: str, data_dir: Path, repeat: int) -> dict[str, float]:
    from web.app import create_app
    from web.auth import session_fingerprint

    settings = replace(
        Settings.from_env({"LOAXA_DATA_DIR": str(data_dir)}), database_url=url, media_dir=data_dir / "media",
        audio=AudioSettings(engines=("espeak",)),
    )  # fmt: skip
    app = create_app(settings, clock=lambda: NOW, testing=True)
    sessions = make_session_factory(app.extensions["loaxa"]["engine"])
    with transaction(sessions) as s:
        key = apikeys.add_consumer(s, "bench", list(apikeys.SCOPES), NOW)[1]
    with sessions() as s, app.app_context():
        admin = s.scalars(select(User).where(User.username == "quantri")).one()
        fingerprint = session_fingerprint(admin)
        commune = s.scalar(select(func.max(Commune.id)))
    client = app.test_client()
    with client.session_transaction() as session:
        session["uid"], session["fp"] = admin.id, fingerprint
    result = {}
    for label, path, api in calls(commune or 1):
        headers = {"X-API-Key": key} if api else {}
        response = client.get(path, headers=headers)  # warm-up
        assert response.status_code == 200, (path, response.status_code, response.get_data(as_text=True)[:300])
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            response = client.get(path, headers=headers)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200
        result[label] = statistics.median(times) * 1000
    app.extensions["loaxa"]["engine"].dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--stations", type=int, default=10_000)
    args = parser.parse_args()
    national = Dataset("national", args.stations, 500, 500)
    baseline = Dataset("baseline", max(10, args.stations // 100), 50, 50)
    with tempfile.TemporaryDirectory() as tmp:
        figures = {}
        for data in (baseline, national):
            url = f"sqlite:///{tmp}/{data.name}.sqlite3"
            start = time.perf_counter()
            seed(url, data)
            place(url)
            print(f"{data.name}: {data.stations} đài — tạo dữ liệu {time.perf_counter() - start:.1f} s", flush=True)
            figures[data.name] = time_calls(url, Path(tmp), args.repeat)
    print(f"\n| gọi | {baseline.stations} đài (ms) | {national.stations} đài (ms) | × |")
    print("|---|---:|---:|---:|")
    for label, ms in figures["national"].items():
        base = figures["baseline"][label]
        print(f"| {label} | {base:.1f} | {ms:.1f} | {ms / base:.1f} |")
    whole = figures["national"]["Bản đồ: toàn tỉnh"]
    print(f"\nBản đồ toàn tỉnh: {whole / national.stations:.3f} ms mỗi đài ({national.stations} đài), "
          f"{figures['baseline']['Bản đồ: toàn tỉnh'] / baseline.stations:.3f} ms mỗi đài ({baseline.stations} đài)")


if __name__ == "__main__":
    main()
