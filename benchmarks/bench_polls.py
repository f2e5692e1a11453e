"""Manifest polls against static files through the same stack (issue 16).

The real app, built and served exactly as `loaxa serve` builds and serves it (web.app.create_app with
the server's thread count, web.cli.service_cmds.run_waitress), plus one route sending static files
with Flask's send_file (its own ETag, conditional). Every station holds a realistic week: 50 items.
Four kinds of request, interleaved round by round, `--concurrency` clients on keep-alive connections:

- baseline: a static file answered 304 (If-None-Match)
- GET /api/v1/manifest/<week> answered 304, each request with one of `--sample` stations' tokens
- baseline: a static file of the same size as a manifest, answered 200
- GET /api/v1/manifest/<week> answered 200 (no If-None-Match)

Usage: python benchmarks/bench_polls.py [--database sqlite|postgresql] [--stations 1000] [--requests 2000] [--quick]
SQLite: a temporary file; PostgreSQL: a scratch database next to LOAXA_TEST_PG_URL (default the local
`test` one), dropped at the end. Figures go in docs/benchmarks.md ("Manifest polls after issue 16").
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _layout import free_port, scratch_database, wait_port  # noqa: E402

STATIC_PREFIX = "/bench/static/"
ITEMS = 50
TITLES = ("Tuyên truyền cải cách hành chính: thủ tục đăng ký khai sinh trực tuyến",
          "Thông báo lịch tiêm chủng mở rộng tháng này tại trạm y tế xã",
          "Hướng dẫn phòng chống cháy rừng mùa khô cho bà con các thôn",
          "Bản tin nông nghiệp: thời vụ gieo trồng và phòng trừ sâu bệnh")


def serve(port: int, threads: int) -> None:
    """Server mode (a subprocess): the app as `loaxa serve` runs it, plus the static-file route."""
    import logging

    from flask import Response, abort, send_file

    from scheduler.settings import Settings
    from web.app import create_app
    from web.cli.service_cmds import run_waitress

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    settings = Settings.from_env()
    app = create_app(settings, threads=threads)
    static = settings.data_dir / "static"

    def static_file(name: str) -> Response:
        path = static / name
        if not path.is_file():
            abort(404)
        return send_file(path, mimetype="application/json", conditional=True, max_age=0)

    app.add_url_rule(STATIC_PREFIX + "<name>", "bench_static", static_file)
    run_waitress(app, "127.0.0.1", port, threads)


def seed(database_url: str, stations: int, now: datetime) -> tuple[list[str], str]:
    """Stations each holding version 1 of this week: 50 items over the week, each with its own audio.
    Returns the tokens (station order) and the week."""
    from sqlalchemy import insert, select

    from scheduler.accounts import hash_token
    from scheduler.db.models import Commune, Programme, ProgrammeItem, Province, Station
    from scheduler.db.session import make_engine, make_session_factory, transaction, upgrade_schema
    from scheduler.domain import IsoWeek

    engine = make_engine(database_url)
    upgrade_schema(engine)
    sessions = make_session_factory(engine)
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    week = IsoWeek.of(now.astimezone(tz).date())
    monday = datetime.combine(week.monday(), datetime.min.time(), tzinfo=tz).astimezone(UTC)
    tokens = [secrets.token_urlsafe(24) for _ in range(stations)]
    shas = [hashlib.sha256(f"bench-audio-{k}".encode()).hexdigest() for k in range(ITEMS)]
    # Seven slots a day, morning and evening, as communes broadcast.
    slots = [monday + timedelta(days=d, hours=h, minutes=m) for d in range(7)
             for h, m in ((5, 30), (6, 0), (6, 30), (11, 0), (17, 0), (17, 30), (18, 0))][:ITEMS]
    with transaction(sessions) as s:
        province = Province(name="Gia Lai", policy={})
        s.add(province)
        s.flush()
        communes = [Commune(name=f"Xã {n}", province_id=province.id, policy={}) for n in range(100)]
        s.add_all(communes)
        s.flush()
        s.execute(insert(Station), [
            {"code": f"GL-BM-{n:05d}", "name": f"Đài xã {n}", "commune_id": communes[n % 100].id, "status": {},
             "languages": "vi", "windows": "", "speakers": 0, "active": True, "token_hash": hash_token(token),
             "token_issued_at": now} for n, token in enumerate(tokens)])
        ids = [sid for (sid,) in s.execute(select(Station.id).order_by(Station.id))]
        s.execute(insert(Programme), [
            {"station_id": sid, "week": str(week), "version": 1, "built_at": now,
             "content_hash": hashlib.sha256(f"v1-{sid}".encode()).hexdigest(), "notified_version": 1,
             "acked_version": 1, "acked_at": now} for sid in ids])
        programmes = [pid for (pid,) in s.execute(select(Programme.id).order_by(Programme.id))]
        for chunk in range(0, len(programmes), 200):
            s.execute(insert(ProgrammeItem), [
                {"programme_id": pid, "start": start, "end": start + timedelta(minutes=5), "kind": "bulletin",
                 "bulletin_code": f"CCHC-2026-{k:04d}", "title": TITLES[k % len(TITLES)], "topic": "cchc",
                 "language": "vi", "priority": "thuong", "audio_sha256": shas[k], "duration_ms": 300_000,
                 "locked": False}
                for pid in programmes[chunk:chunk + 200] for k, start in enumerate(slots)])
    engine.dispose()
    return tokens, str(week)


Call = tuple[str, dict[str, str]]


async def rate(base: str, requests: int, concurrency: int, calls: list[Call], status: int) -> float:
    """Requests per second for `requests` requests cycling over `calls`; every answer must be `status`."""
    import aiohttp

    seen: list[int] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        async def worker(first: int) -> None:
            for n in range(first, requests, concurrency):
                path, headers = calls[n % len(calls)]
                async with http.get(base + path, headers=headers) as response:
                    await response.read()
                    seen.append(response.status)

        # One warm-up request per connection, then the timed run.
        await asyncio.gather(*(worker(requests - concurrency + k) for k in range(concurrency)))
        seen.clear()
        start = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(concurrency)))
        elapsed = time.perf_counter() - start
    if set(seen) != {status}:
        raise SystemExit(f"expected only {status}, got {sorted(set(seen))}")
    return requests / elapsed


def fetch(base: str, path: str, headers: dict[str, str]) -> tuple[bytes, str]:
    import urllib.request

    with urllib.request.urlopen(urllib.request.Request(base + path, headers=headers), timeout=30) as response:
        return response.read(), response.headers["ETag"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=8, help="server threads (loaxa serve's default: 8)")
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=500, help="stations whose tokens the requests cycle over")
    parser.add_argument("--requests", type=int, default=2000, help="requests per round and kind")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--quick", action="store_true", help="200 stations, 500 requests per round")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.threads)
        return
    if args.quick:
        args.stations, args.sample, args.requests = 200, 200, 500
    with tempfile.TemporaryDirectory(prefix="loaxa-bench-polls-") as tmp, contextlib.ExitStack() as stack:
        work = Path(tmp)
        database_url = (stack.enter_context(scratch_database()) if args.database == "postgresql"
                        else f"sqlite:///{work / 'bench.sqlite3'}")
        t0 = time.perf_counter()
        tokens, week = seed(database_url, args.stations, datetime.now(UTC))
        print(f"seeded {len(tokens)} stations × {ITEMS} items in {time.perf_counter() - t0:.1f} s "
              f"({database_url.split(':')[0]}); load average {os.getloadavg()[0]:.1f}")
        (work / "static").mkdir()
        port = free_port()
        env = {**os.environ, "LOAXA_DATABASE_URL": database_url, "LOAXA_DATA_DIR": str(work),
               "LOAXA_MEDIA_DIR": str(work / "media"), "LOAXA_PUBLIC_URL": "https://loaxa.gialai.gov.vn"}
        env.pop("LOAXA_MQTT_URL", None)
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--threads", str(args.threads)],
                                  env=env, cwd=ROOT)
        base = f"http://127.0.0.1:{port}"
        rates: dict[str, list[float]] = {}
        try:
            wait_port(port)
            path = f"/api/v1/manifest/{week}"
            polls, fetches = [], []
            for token in tokens[:args.sample]:
                auth = {"Authorization": f"Bearer {token}"}
                body, etag = fetch(base, path, auth)
                polls.append((path, {**auth, "If-None-Match": etag}))
                fetches.append((path, auth))
            # The static twin of a manifest: a file of the same size.
            (work / "static" / "manifest.json").write_bytes(body)
            (work / "static" / "small.json").write_bytes(b'{"week": "' + week.encode() + b'", "version": 1}')
            _, static_etag = fetch(base, STATIC_PREFIX + "small.json", {})
            kinds: dict[str, tuple[list[Call], int]] = {
                "static 304": ([(STATIC_PREFIX + "small.json", {"If-None-Match": static_etag})], 304),
                "manifest 304": (polls, 304),
                "static 200": ([(STATIC_PREFIX + "manifest.json", {})], 200),
                "manifest 200": (fetches, 200),
            }
            for _ in range(args.rounds):
                for kind, (calls, status) in kinds.items():
                    rates.setdefault(kind, []).append(
                        asyncio.run(rate(base, args.requests, args.concurrency, calls, status)))
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"{database_url.split(':')[0]}: {args.requests} requests per round and kind, {args.rounds} rounds "
          f"interleaved, {args.concurrency} clients, waitress {args.threads} threads, manifest {len(body):,} bytes "
          f"({ITEMS} items), {args.sample} stations' tokens; load average now {os.getloadavg()[0]:.1f}")
    print(f"  {'':14} {'best req/s':>10} {'median':>8}  {'× baseline (best, median)':>26}  rounds")
    for kind, values in rates.items():
        baseline = rates["static " + kind.split()[1]]
        best, median = max(values), statistics.median(values)
        ratio = f"{best / max(baseline):.2f}×, {median / statistics.median(baseline):.2f}×"
        print(f"  {kind:14} {best:10,.0f} {median:8,.0f}  {ratio:>26}  "
              + " ".join(f"{v:,.0f}" for v in values))


if __name__ == "__main__":
    main()
