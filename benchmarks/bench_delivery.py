"""Delivery benchmark: how fast a programme change reaches every station, and manifest polls per second.

1. Change → stations: every station's programme gets a new version; push_pending() publishes the
   retained notices; "stations" (wildcard MQTT subscribers feeding an HTTP client pool, each call
   with that station's own token) fetch the new manifest and acknowledge it. Timed until the last
   acknowledgement is in the database. Baseline, side by side: a raw paho publish of the same
   payloads on the same topics, timed until the subscriber has them all.
2. Manifest polls answered 304 (If-None-Match) per second, against the same server stack (waitress +
   the Flask app) serving a static file with its own ETag, also answered 304.

Usage: python benchmarks/bench_delivery.py [--stations 10000] [--requests 5000] [--database-url URL] [--quick]
Needs Mosquitto (`mosquitto` on PATH; a private one is started on a free port) and, for PostgreSQL,
a reachable server. Figures go in docs/benchmarks.md ("Delivery").
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STATIC_PATH = "/bench/static.json"


def serve(port: int) -> None:
    """Server mode (run in a subprocess): the real app under waitress, plus one static file route."""
    import logging

    from flask import send_file
    from waitress import serve as waitress_serve

    from scheduler.settings import Settings
    from web.app import create_app

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    settings = Settings.from_env()
    app = create_app(settings)
    static = settings.data_dir / "static.json"
    app.add_url_rule(STATIC_PATH, "bench_static",
                     lambda: send_file(static, mimetype="application/json", conditional=True, max_age=0))
    waitress_serve(app, host="127.0.0.1", port=port, threads=8, ident="loaxa-bench", _quiet=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


@contextlib.contextmanager
def mosquitto(workdir: Path) -> Iterator[str]:
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = free_port()
    conf = workdir / "mosquitto.conf"
    lines = [f"listener {port} 127.0.0.1", "persistence false", "allow_anonymous true", "max_queued_messages 0"]
    if os.geteuid() == 0:
        lines.append("user root")
    conf.write_text("\n".join(lines) + "\n")
    proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait()


def seed(database_url: str, media_dir: Path, stations: int, now: datetime) -> tuple[dict[str, str], str]:
    """Stations that all hold version 1 of this week's programme; returns code -> token and the week."""
    from sqlalchemy import insert, select

    from scheduler.accounts import hash_token
    from scheduler.db.models import AudioAsset, Commune, Programme, ProgrammeItem, Province, Station
    from scheduler.db.session import make_engine, make_session_factory, transaction, upgrade_schema
    from scheduler.domain import IsoWeek

    engine = make_engine(database_url)
    upgrade_schema(engine)
    sessions = make_session_factory(engine)
    week = str(IsoWeek.of(now.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).date()))
    data = b"ID3" + secrets.token_bytes(20_000)  # content does not matter here: it is never downloaded
    sha = hashlib.sha256(data).hexdigest()
    (media_dir / "audio").mkdir(parents=True, exist_ok=True)
    (media_dir / f"audio/{sha}.mp3").write_bytes(data)
    tokens = {f"BM-{n:05d}": secrets.token_urlsafe(24) for n in range(stations)}
    with transaction(sessions) as s:
        s.add(AudioAsset(sha256=sha, file_name=f"audio/{sha}.mp3", duration_ms=60_000, engine="bench",
                         created_at=now, warnings=[]))
        province = Province(name="Gia Lai", policy={})
        s.add(province)
        s.flush()
        communes = [Commune(name=f"Xã {n}", province_id=province.id, policy={}) for n in range(100)]
        s.add_all(communes)
        s.flush()
        s.execute(insert(Station), [
            {"code": code, "name": code, "commune_id": communes[n % 100].id, "status": {}, "languages": "vi",
             "windows": "", "speakers": 0, "active": True, "token_hash": hash_token(token), "token_issued_at": now}
            for n, (code, token) in enumerate(tokens.items())])
        ids = [sid for (sid,) in s.execute(select(Station.id))]
        s.execute(insert(Programme), [
            {"station_id": sid, "week": week, "version": 1, "built_at": now, "content_hash": "v1",
             "notified_version": 1, "acked_version": 1, "acked_at": now} for sid in ids])
        start = now + timedelta(hours=1)
        s.execute(insert(ProgrammeItem), [
            {"programme_id": pid, "start": start + timedelta(minutes=k), "end": start + timedelta(minutes=k + 1),
             "kind": "bulletin", "bulletin_code": f"CCHC-{k}", "title": "Tuyên truyền cải cách hành chính",
             "topic": "cchc", "language": "vi", "priority": "thuong", "audio_sha256": sha, "duration_ms": 60_000,
             "locked": False}
            for (pid,) in s.execute(select(Programme.id)) for k in range(4)])
    engine.dispose()
    return tokens, week


class Ears:
    """Wildcard subscribers standing in for every station's MQTT link; notices go to a queue."""

    def __init__(self, url: str, topic: str, on_message: object, clients: int = 4) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        from scheduler.wire import parse_mqtt_url

        parsed = parse_mqtt_url(url)
        self.clients = []
        ready = threading.Semaphore(0)
        for n in range(clients):
            client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-ears-{n}-{secrets.token_hex(3)}")
            # Shared subscription: the broker spreads the notices over the clients like over stations.
            client.on_connect = lambda c, *_: c.subscribe(f"$share/ears/{topic}", qos=1)
            client.on_subscribe = lambda *_: ready.release()
            client.on_message = on_message  # type: ignore[assignment]
            client.connect(parsed.host, parsed.port)
            client.loop_start()
            self.clients.append(client)
        for _ in range(clients):
            if not ready.acquire(timeout=10):
                raise SystemExit("MQTT subscription failed")

    def close(self) -> None:
        for client in self.clients:
            client.disconnect()
            client.loop_stop()


def time_raw_publish(url: str, messages: list[Any], topic_filter: str) -> float:
    """Baseline: publish the same payloads with bare paho; seconds until all are received."""
    from scheduler.delivery.publisher import MqttPublisher

    received = threading.Semaphore(0)
    ears = Ears(url, topic_filter, lambda *_: received.release())
    try:
        start = time.perf_counter()
        with MqttPublisher(url) as publisher:
            confirmed = publisher.publish_many(messages)
        for _ in messages:
            received.acquire(timeout=120)
        elapsed = time.perf_counter() - start
    finally:
        ears.close()
    assert all(confirmed)
    return elapsed


async def fetch_and_ack(base: str, tokens: dict[str, str], queue: asyncio.Queue[bytes | None], total: int,
                        concurrency: int) -> None:
    """Each notice: GET the week's manifest and POST the ack, with that station's token."""
    import aiohttp

    from scheduler.wire import Notice

    done = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        async def worker() -> None:
            nonlocal done
            while (payload := await queue.get()) is not None:
                notice = Notice.from_json(payload)
                headers = {"Authorization": f"Bearer {tokens[notice.station]}"}
                async with http.get(f"{base}/api/v1/manifest/{notice.week}", headers=headers) as response:
                    body = await response.json()
                async with http.post(f"{base}/api/v1/ack", json={"week": body["week"], "version": body["version"]},
                                     headers=headers) as response:
                    assert response.status == 200, await response.text()
                done += 1
                if done == total:
                    for _ in range(concurrency):
                        queue.put_nowait(None)

        await asyncio.gather(*(worker() for _ in range(concurrency)))


def change_to_stations(base: str, database_url: str, mqtt_url: str, tokens: dict[str, str], week: str,
                       settings_env: dict[str, str], concurrency: int) -> tuple[float, float, int]:
    """Bump every version, push, and wait for every acknowledgement. Returns (push s, total s, acked)."""
    from sqlalchemy import func, select, update

    from scheduler.db.models import Programme
    from scheduler.db.session import make_engine, make_session_factory
    from scheduler.delivery.notices import push_pending
    from scheduler.settings import Settings

    settings = replace(Settings.from_env(settings_env), mqtt_url=mqtt_url)
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    loop = asyncio.new_event_loop()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()
    ears = Ears(mqtt_url, "loaxa/+/+/+/programme", lambda _c, _u, m: loop.call_soon_threadsafe(
        queue.put_nowait, bytes(m.payload)))
    pushed = 0.0

    def push() -> object:
        nonlocal pushed
        result = push_pending(sessions, settings, datetime.now(UTC))
        pushed = time.perf_counter() - start
        return result

    try:
        start = time.perf_counter()
        with sessions() as s, s.begin():
            s.execute(update(Programme).values(version=2, content_hash="v2"))
        # Stations start fetching as the first notices land, while the rest are still being published.
        pushing = loop.run_in_executor(None, push)
        loop.run_until_complete(fetch_and_ack(base, tokens, queue, len(tokens), concurrency))
        result = loop.run_until_complete(pushing)
        total = time.perf_counter() - start
        with sessions() as s:
            acked = s.scalar(select(func.count()).select_from(Programme).where(Programme.acked_version == 2)) or 0
    finally:
        ears.close()
        loop.close()
        engine.dispose()
    assert getattr(result, "published", None) == len(tokens), result
    return pushed, total, acked


async def rate_304(base: str, requests: int, concurrency: int,
                   path_and_headers: list[tuple[str, dict[str, str]]]) -> float:
    import aiohttp

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        etags = []
        for path, headers in path_and_headers:
            async with http.get(base + path, headers=headers) as response:
                etags.append(response.headers["ETag"])
        statuses: list[int] = []

        async def one(n: int) -> None:
            path, headers = path_and_headers[n % len(path_and_headers)]
            async with http.get(base + path, headers={**headers, "If-None-Match": etags[n % len(etags)]}) as r:
                await r.read()
                statuses.append(r.status)

        start = time.perf_counter()
        sem = asyncio.Semaphore(concurrency)

        async def bounded(n: int) -> None:
            async with sem:
                await one(n)

        await asyncio.gather(*(bounded(n) for n in range(requests)))
        elapsed = time.perf_counter() - start
    assert set(statuses) == {304}, set(statuses)
    return requests / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--stations", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=5_000, help="304 requests per side")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--quick", action="store_true", help="500 stations, 1,000 requests per side")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    if args.quick:
        args.stations, args.requests = 500, 1_000
    with tempfile.TemporaryDirectory(prefix="loaxa-bench-") as tmp:
        work = Path(tmp)
        database_url = args.database_url or f"sqlite:///{work / 'bench.sqlite3'}"
        media = work / "media"
        now = datetime.now(UTC)
        t0 = time.perf_counter()
        tokens, week = seed(database_url, media, args.stations, now)
        print(f"seeded {len(tokens)} stations in {time.perf_counter() - t0:.1f} s ({database_url.split(':')[0]})")
        (work / "static.json").write_bytes(b'{"week": "' + week.encode() + b'", "version": 1}' + b" " * 400)
        port = free_port()
        env = {**os.environ, "LOAXA_DATABASE_URL": database_url, "LOAXA_MEDIA_DIR": str(media),
               "LOAXA_DATA_DIR": str(work), "LOAXA_PUBLIC_URL": f"http://127.0.0.1:{port}"}
        env.pop("LOAXA_MQTT_URL", None)
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(port)], env=env, cwd=ROOT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_port(port)
            with mosquitto(work) as mqtt_url:
                from scheduler.delivery.publisher import Message
                from scheduler.wire import Notice

                codes = list(tokens)
                payloads = [Message(f"loaxa/gia-lai/xa-{n % 100}/{code}/programme",
                                    Notice(code, week, 2, "v2", f"{base}/api/v1/manifest/{week}",
                                           now.isoformat()).to_json(), qos=1, retain=True)
                            for n, code in enumerate(codes)]
                raw = time_raw_publish(mqtt_url, payloads, "loaxa/+/+/+/programme")
            with mosquitto(work) as mqtt_url:
                pushed, total, acked = change_to_stations(base, database_url, mqtt_url, tokens, week,
                                                          {k: v for k, v in env.items() if k.startswith("LOAXA_")},
                                                          args.concurrency)
            sample = [(f"/api/v1/manifest/{week}", {"Authorization": f"Bearer {tokens[c]}"}) for c in codes[:200]]
            static: list[tuple[str, dict[str, str]]] = [(STATIC_PATH, {})]
            # Interleave the two sides, best of three rounds each.
            manifest_rates, static_rates = [], []
            for _ in range(3):
                manifest_rates.append(asyncio.run(rate_304(base, args.requests, args.concurrency, sample)))
                static_rates.append(asyncio.run(rate_304(base, args.requests, args.concurrency, static)))
        finally:
            server.terminate()
            server.wait(timeout=30)
    n = len(tokens)
    print()
    print(f"Programme change → {n} stations (notice → manifest fetched → acknowledged), concurrency "
          f"{args.concurrency}, server: waitress 8 threads")
    print(f"  baseline raw paho publish+receive of the same {n} retained payloads: {raw:8.2f} s "
          f"({n / raw:,.0f} msg/s)")
    print(f"  push_pending (query + publish + record notified_version):          {pushed:8.2f} s "
          f"({pushed / raw:.1f}× baseline)")
    print(f"  all {acked} stations acknowledged version 2:                          {total:8.2f} s "
          f"({n / total:,.0f} stations/s, {total / raw:.1f}× baseline)")
    best_manifest, best_static = max(manifest_rates), max(static_rates)
    print(f"Manifest polls answered 304, {args.requests} requests per round, best of 3:")
    print(f"  baseline static file 304 (same waitress + Flask stack): {best_static:8,.0f} req/s")
    print(f"  GET /api/v1/manifest/<week> 304 (token + programme lookup): {best_manifest:8,.0f} req/s "
          f"({best_manifest / best_static:.2f}× baseline)")


if __name__ == "__main__":
    main()
