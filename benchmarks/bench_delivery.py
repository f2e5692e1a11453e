"""Delivery benchmark: a programme change reaching every station, against a fair floor, side by side.

Production layout of deploy/ (benchmarks/_layout.py): nginx with deploy/nginx/loaxa.conf in front of
gunicorn with deploy/gunicorn.conf.py, PostgreSQL (a scratch database), Mosquitto. Every station holds a
week of `--items` programme items (a real week holds about 50).

Real run: every programme gets a new version; push_pending() publishes the retained notices; the
simulated stations (benchmarks/_stations.py) fetch their manifest from the notice's URL with their
own token and POST /api/v1/ack. Timed until the last acknowledgement; then checked in the database.
Fair floor: the same stations, same client, same concurrency, same broker and notice path (the same
number of notices published with QoS 1), through the same nginx → gunicorn → Flask stack, but each
notice points at a static file of the same size as a real manifest, and the ack goes to a
database-free POST that parses the same JSON and answers the same shape. Floor and real runs are
interleaved, `--rounds` of each; medians compared.

Manifest polls (304 and 200 against a static file) are measured by benchmarks/bench_polls.py.

Usage: python benchmarks/bench_delivery.py [--stations 10000] [--items 50] [--rounds 3] [--timeout 1800] [--quick]
       [--database-url URL]   (default: a scratch database next to LOAXA_TEST_PG_URL, dropped at the end)
Figures go in docs/benchmarks.md ("Delivery").
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import secrets
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _layout import free_port, gunicorn, mosquitto, nginx, scratch_database, server_errors  # noqa: E402
from _stations import add_stations, run_stations  # noqa: E402

FLOOR_PREFIX = "/bench/floor"


def floor_app() -> Any:
    """The application as deployed, plus the floor's routes: a static file and a database-free POST.
    gunicorn loads this instead of web.app:create_app() (same workers, threads and middleware)."""
    from flask import jsonify, request, send_file

    from web.app import create_app
    from web.auth import csrf

    app = create_app()
    floor_dir = Path(os.environ["LOAXA_BENCH_FLOOR_DIR"])

    def floor_manifest(week: str) -> Any:
        return send_file(floor_dir / "manifest.json", mimetype="application/json", max_age=0)

    def floor_ack() -> Any:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("version"), int):
            return jsonify(error="Nội dung xác nhận không hợp lệ."), 400
        return jsonify(week=str(body.get("week")), version=body["version"], acked_version=body["version"])

    app.add_url_rule(f"{FLOOR_PREFIX}/<week>.json", "bench_floor_manifest", floor_manifest)
    app.add_url_rule(f"{FLOOR_PREFIX}/ack", "bench_floor_ack", csrf.exempt(floor_ack), methods=["POST"])
    return app


def seed(database_url: str, media_dir: Path, stations: int, items: int, now: datetime) -> tuple[dict[str, str], str]:
    """Stations that all hold version 1 of this week's programme of `items` items; code -> token, week."""
    from sqlalchemy import insert, select

    from scheduler.db.models import AudioAsset, Programme, ProgrammeItem
    from scheduler.db.session import make_engine, make_session_factory, transaction, upgrade_schema
    from scheduler.domain import IsoWeek

    engine = make_engine(database_url)
    upgrade_schema(engine)
    sessions = make_session_factory(engine)
    week = str(IsoWeek.of(now.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).date()))
    (media_dir / "audio").mkdir(parents=True, exist_ok=True)
    shas = []
    tokens = {f"BM-{n:05d}": secrets.token_urlsafe(24) for n in range(stations)}
    with transaction(sessions) as s:
        for _ in range(10):  # content does not matter here: it is never downloaded
            data = b"ID3" + secrets.token_bytes(2_000)
            sha = hashlib.sha256(data).hexdigest()
            (media_dir / f"audio/{sha}.mp3").write_bytes(data)
            s.add(AudioAsset(sha256=sha, file_name=f"audio/{sha}.mp3", duration_ms=60_000, engine="bench",
                             created_at=now, warnings=[]))
            shas.append(sha)
        ids = add_stations(s, tokens, now)
        s.execute(insert(Programme), [
            {"station_id": sid, "week": week, "version": 1, "built_at": now, "content_hash": "v1",
             "notified_version": 1, "acked_version": 1, "acked_at": now} for sid in ids])
        start = now + timedelta(hours=1)
        programme_ids = [pid for (pid,) in s.execute(select(Programme.id))]
        for chunk in range(0, len(programme_ids), 1000):
            s.execute(insert(ProgrammeItem), [
                {"programme_id": pid, "start": start + timedelta(hours=3 * k),
                 "end": start + timedelta(hours=3 * k, minutes=3), "kind": "bulletin",
                 "bulletin_code": f"CCHC-{k:03d}", "title": "Tuyên truyền cải cách hành chính, đợt " + str(k),
                 "topic": "cchc", "language": "vi", "priority": "thuong", "audio_sha256": shas[k % len(shas)],
                 "duration_ms": 180_000, "locked": False}
                for pid in programme_ids[chunk : chunk + 1000] for k in range(items)])
    engine.dispose()
    return tokens, week


def real_manifest_bytes(base: str, week: str, token: str) -> bytes:
    """What the server answers for one station's manifest: the floor serves a file of this size."""
    import urllib.request

    request = urllib.request.Request(f"{base}/api/v1/manifest/{week}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=300) as response:  # workers may still be starting
        return bytes(response.read())


def floor_run(base: str, mqtt_url: str, tokens: dict[str, str], week: str, version: int,
              concurrency: int, timeout: float) -> tuple[float, float]:
    """Floor: notices published with bare paho, manifests from a static file, acks to a database-free POST."""
    from scheduler.delivery.publisher import Message, MqttPublisher
    from scheduler.wire import Notice

    now = datetime.now(UTC).isoformat()
    messages = [Message(f"loaxa/gia-lai/xa-{n % 100}/{code}/programme",
                        Notice(code, week, version, f"v{version}", f"{base}{FLOOR_PREFIX}/{week}.json", now).to_json(),
                        qos=1, retain=True) for n, code in enumerate(tokens)]
    published = 0.0

    def start() -> list[bool]:
        nonlocal published
        began = time.perf_counter()
        with MqttPublisher(mqtt_url, timeout=60) as publisher:
            confirmed = publisher.publish_many(messages)
        published = time.perf_counter() - began
        return confirmed

    result = run_stations(mqtt_url, tokens, f"{base}{FLOOR_PREFIX}/ack", start=start, expect=len(tokens),
                          concurrency=concurrency, timeout=timeout)
    assert all(result.started), "the broker did not confirm every notice"
    assert len(result.acked) == len(tokens), f"{len(result.acked)} acks after {result.seconds:.0f} s {result.statuses}"
    return published, result.seconds


def real_run(base: str, database_url: str, mqtt_url: str, tokens: dict[str, str], settings_env: dict[str, str],
             version: int, concurrency: int, timeout: float) -> tuple[float, float]:
    """Bump every programme to `version`, push_pending(), wait for every ack; check them in the database."""
    from sqlalchemy import func, select, update

    from scheduler.db.models import Programme
    from scheduler.db.session import make_engine, make_session_factory
    from scheduler.delivery.notices import push_pending
    from scheduler.settings import Settings

    settings = replace(Settings.from_env(settings_env), mqtt_url=mqtt_url)
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    with sessions() as s, s.begin():
        s.execute(update(Programme).values(version=version, content_hash=f"v{version}"))
    pushed = 0.0

    def start() -> Any:
        nonlocal pushed
        began = time.perf_counter()
        outcome = push_pending(sessions, settings, datetime.now(UTC))
        pushed = time.perf_counter() - began
        return outcome

    try:
        result = run_stations(mqtt_url, tokens, f"{base}/api/v1/ack", start=start, expect=len(tokens),
                              concurrency=concurrency, timeout=timeout)
        with sessions() as s:
            acked = s.scalar(select(func.count()).select_from(Programme)
                             .where(Programme.acked_version == version)) or 0
    finally:
        engine.dispose()
    assert result.started.published == len(tokens), result.started
    assert len(result.acked) == len(tokens), f"{len(result.acked)} acks after {result.seconds:.0f} s {result.statuses}"
    assert set(result.versions.values()) == {version}, set(result.versions.values())
    assert acked == len(tokens), f"{acked} of {len(tokens)} acknowledgements in the database"
    if result.retries:
        print(f"  real run: {result.retries} requests tried again, answers {dict(result.statuses)}", flush=True)
    return pushed, result.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stations", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=50, help="programme items per station's week")
    parser.add_argument("--rounds", type=int, default=3, help="floor and real runs each, interleaved")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds one run may take")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url", default=None,
                        help="an empty PostgreSQL database (default: a scratch one, dropped at the end)")
    parser.add_argument("--quick", action="store_true", help="500 stations")
    args = parser.parse_args()
    if args.quick:
        args.stations = 500
    load_before = os.getloadavg()
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="loaxa-bench-")))
        database_url = args.database_url or stack.enter_context(scratch_database())
        media = work / "media"
        floor_dir = work / "floor"
        floor_dir.mkdir()
        now = datetime.now(UTC)
        t0 = time.perf_counter()
        tokens, week = seed(database_url, media, args.stations, args.items, now)
        print(f"seeded {len(tokens)} stations × {args.items} items in {time.perf_counter() - t0:.1f} s")
        (floor_dir / "manifest.json").write_bytes(b"{}")
        env = {**os.environ, "LOAXA_DATABASE_URL": database_url, "LOAXA_MEDIA_DIR": str(media),
               "LOAXA_DATA_DIR": str(work), "LOAXA_X_ACCEL": "1", "LOAXA_PROXY_HOPS": "1",
               "LOAXA_SECRET_KEY": secrets.token_urlsafe(32), "LOAXA_BENCH_FLOOR_DIR": str(floor_dir)}
        env.pop("LOAXA_MQTT_URL", None)
        # nginx's port must be known before gunicorn starts (LOAXA_PUBLIC_URL): start nginx first; it
        # answers 502 until gunicorn listens.
        app_port = free_port()
        web_port = stack.enter_context(nginx(work, [app_port], media))
        base = f"http://127.0.0.1:{web_port}"
        env["LOAXA_PUBLIC_URL"] = base
        stack.enter_context(gunicorn(work, env, app="bench_delivery:floor_app()",
                                     extra_path=[ROOT / "benchmarks"], port=app_port))
        codes = list(tokens)
        real_body = real_manifest_bytes(base, week, tokens[codes[0]])
        # The floor file: that manifest as the server sends it, so both sides move the same bytes.
        (floor_dir / "manifest.json").write_bytes(real_body)
        settings_env = {k: v for k, v in env.items() if k.startswith("LOAXA_")}
        floors: list[float] = []
        reals: list[float] = []
        publishes: list[float] = []
        pushes: list[float] = []
        for n in range(args.rounds):
            version = 2 + n
            with mosquitto(work) as mqtt_url:
                published, seconds = floor_run(base, mqtt_url, tokens, week, version, args.concurrency,
                                              args.timeout)
            floors.append(seconds)
            publishes.append(published)
            print(f"round {n + 1}: floor {seconds:7.2f} s (publish {published:.2f} s)", flush=True)
            with mosquitto(work) as mqtt_url:
                pushed, seconds = real_run(base, database_url, mqtt_url, tokens, settings_env, version,
                                           args.concurrency, args.timeout)
            reals.append(seconds)
            pushes.append(pushed)
            print(f"round {n + 1}: real  {seconds:7.2f} s (push_pending {pushed:.2f} s)", flush=True)
        for line in server_errors(work):
            print(f"  server error: {line}", flush=True)
    load_after = os.getloadavg()
    n = len(tokens)
    floor, real = statistics.median(floors), statistics.median(reals)
    gunicorn_conf = f"{os.environ.get('LOAXA_GUNICORN_WORKERS', 'default')} workers"
    print()
    print(f"Programme change → {n} stations × {args.items} items (notice → manifest {len(real_body):,} bytes "
          f"→ ack), concurrency {args.concurrency}, nginx → gunicorn (deploy/, {gunicorn_conf}) → PostgreSQL; "
          f"median of {args.rounds}, interleaved")
    print(f"  floor: static GET + database-free POST, same stations: {floor:8.2f} s ({n / floor:,.0f} stations/s) "
          f"runs {', '.join(f'{s:.1f}' for s in floors)}; bare publish {statistics.median(publishes):.2f} s")
    print(f"  real: push_pending → manifest → ack, all in database:  {real:8.2f} s ({n / real:,.0f} stations/s) "
          f"runs {', '.join(f'{s:.1f}' for s in reals)}; push_pending {statistics.median(pushes):.2f} s")
    print(f"  real / floor throughput: {floor / real:.2f}×")
    print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f}, after {load_after[0]:.2f} "
          f"{load_after[1]:.2f} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
