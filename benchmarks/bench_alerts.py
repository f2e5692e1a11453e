"""The alert job (scheduler.alerts.engine.check_alerts) on a national fleet, against the silence monitor
(scheduler.service.jobs.flag_silent_stations) on the same data, side by side: both run every minute and
read every station, so the monitor is the fair baseline for what one more per-minute pass costs.

Seeds a SQLite database with `--stations` stations in communes of ten (one in seven silent, one in 50
low on disk, one in 40 with its clock off, one in 30 with a failed relay, a relay play for every
station), then times: the first alert pass (opens every alert), steady passes (nothing changed: the
everyday case), and steady passes of the monitor. Median of `--repeat` runs; no recipients, so what is
timed is the decision and the bookkeeping, not e-mail.

    python benchmarks/bench_alerts.py [--stations 10000] [--repeat 5]

Figures go to docs/benchmarks.md ("Alerts").
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from scheduler.alerts.engine import check_alerts  # noqa: E402
from scheduler.db.models import Alert, Commune, PlayLog, Province, Station  # noqa: E402
from scheduler.db.session import make_engine, make_session_factory, upgrade_schema  # noqa: E402
from scheduler.service.config import ServiceConfig  # noqa: E402
from scheduler.service.jobs import JobContext, flag_silent_stations  # noqa: E402
from scheduler.settings import Settings  # noqa: E402

NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


def seed(url: str, stations: int) -> None:
    engine = make_engine(url)
    upgrade_schema(engine)
    communes = max(1, stations // 10)
    with engine.begin() as conn:
        conn.execute(insert(Province), [{"id": 1, "name": "Gia Lai", "reading_variant": "north",
                                         "timezone": "Asia/Ho_Chi_Minh", "policy": {}, "default_windows": ""}])
        conn.execute(insert(Commune), [{"id": c + 1, "province_id": 1, "name": f"Xã số {c + 1:04d}",
                                        "default_windows": "", "policy": {}} for c in range(communes)])
        rows, plays = [], []
        for i in range(stations):
            contact = NOW - timedelta(minutes=600 if i % 7 == 0 else 2)
            status = {"volume": 80, "disk_free_mb": 50 if i % 50 == 0 else 4000,
                      "clock_offset_ms": 90_000 if i % 40 == 0 else 120}
            rows.append({"id": i + 1, "code": f"ST-{i + 1:05d}", "name": f"Cụm loa số {i + 1}",
                         "commune_id": i % communes + 1, "languages": "vi", "windows": "", "speakers": 4,
                         "active": True, "status": status, "last_status_at": contact, "last_manifest_at": contact,
                         "last_log_at": contact})
            plays.append({"play_id": f"relay-{i}", "station_id": i + 1, "station_code": f"ST-{i + 1:05d}",
                          "commune": "", "area": "", "week": "2026-W48", "programme_version": 1, "kind": "relay",
                          "title": "Thời sự VOV", "topic": "", "language": "vi", "priority": "thuong",
                          "scheduled_ms": 0, "actual_start": NOW - timedelta(hours=3), "played_ms": 0,
                          "result": "failed" if i % 30 == 0 else "played", "reason": "", "source": "agent",
                          "received_at": NOW})
        conn.execute(insert(Station), rows)
        conn.execute(insert(PlayLog), plays)
    engine.dispose()


def timed(run: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'alerts.sqlite3'}"
        seed(url, args.stations)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        settings = replace(Settings.from_env({"LOAXA_DATA_DIR": tmp}), database_url=url)
        context = JobContext(settings, sessions, ServiceConfig(), lambda: NOW)
        flag_silent_stations(context, NOW)  # first pass writes every station's monitor state

        start = time.perf_counter()
        first = check_alerts(sessions, settings, NOW)
        first_ms = (time.perf_counter() - start) * 1000
        steady = timed(lambda: check_alerts(sessions, settings, NOW + timedelta(seconds=30)), args.repeat)
        monitor = timed(lambda: flag_silent_stations(context, NOW + timedelta(seconds=30)), args.repeat)
        with sessions() as s:
            open_alerts = s.scalar(select(func.count()).select_from(Alert).where(Alert.closed_at.is_(None)))
    print(f"{args.stations} stations, {open_alerts} open alerts after the first pass ({len(first.opened)} opened)")
    print(f"first alert pass (opens them):      {first_ms:8.1f} ms")
    print(f"steady alert pass (median of {args.repeat}):  {steady:8.1f} ms")
    print(f"steady silence monitor (baseline):  {monitor:8.1f} ms")
    print(f"alert pass / monitor:               {steady / monitor:8.2f}×")


if __name__ == "__main__":
    main()
