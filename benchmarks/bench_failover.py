"""Failover benchmark: two app nodes behind nginx, one killed with SIGKILL during a programme change.

The production layout of deploy/ (benchmarks/_layout.py) with N app nodes: nginx (deploy/nginx/loaxa.conf,
one `server` line per node) in front of N gunicorn masters (deploy/gunicorn.conf.py), all on one scratch
PostgreSQL database, one Mosquitto and one media directory. Every station holds version v-1 of its week;
each run bumps every programme to v, push_pending() publishes the notices, and the simulated stations
(benchmarks/_stations.py) fetch the manifest, acknowledge it and upload a batch of play-log rows (built
with the agent's own PlayRow), retrying like the agent on a refused or reset connection or a 5xx.

Rounds interleave a run with every node up and a run in which node 1 (master and workers: the whole
process group) is killed with SIGKILL once `--kill-at` of the stations are done; it is started again
before the next round. After each run the database is checked: every station acknowledged v, and every
play-log row sent is stored exactly once (none lost, none doubled).

Usage: python benchmarks/bench_failover.py [--stations 10000] [--items 50] [--plays 10] [--rounds 3]
           [--nodes 2] [--kill-at 0.3] [--quick]
Needs PostgreSQL (LOAXA_TEST_PG_URL, as the tests), Mosquitto and nginx (scripts/nginx.sh installs it).
Figures go in docs/benchmarks.md ("Failover: two nodes, one killed").
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from _layout import free_port, mosquitto, nginx, scratch_database, start_gunicorn, stop  # noqa: E402
from _stations import run_stations  # noqa: E402
from bench_delivery import seed  # noqa: E402


@dataclass
class Node:
    """One app node: a gunicorn master and its workers, in their own process group."""

    port: int
    proc: subprocess.Popen[bytes] | None = None

    def kill(self) -> None:
        """SIGKILL to the whole group at once, as when the machine dies."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@dataclass
class Cluster:
    base: str  # nginx
    database_url: str
    work: Path
    env: dict[str, str]
    nodes: list[Node]
    nginx_dir: Path

    def start(self, node: Node) -> None:
        node.proc, _ = start_gunicorn(self.work, self.env, port=node.port)

    def requests_per_node(self) -> list[int]:
        """Requests each node has logged so far (gunicorn's access log, one line per request)."""
        counts = []
        for node in self.nodes:
            log = self.work / f"gunicorn-{node.port}.log"
            text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
            counts.append(sum(1 for line in text.splitlines() if '"GET ' in line or '"POST ' in line))
        return counts

    def nginx_failovers(self) -> int:
        """Requests nginx could not complete on a node (and passed on): lines of its error log about one."""
        log = self.nginx_dir / "nginx-error.log"
        text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        return sum(1 for line in text.splitlines() if "upstream" in line)


@contextlib.contextmanager
def cluster(work: Path, database_url: str, nodes: int, workers: int, threads: int) -> Iterator[Cluster]:
    """nginx in front of `nodes` gunicorn nodes sharing one database, one broker and one media directory."""
    media = work / "media"
    ports = [free_port() for _ in range(nodes)]
    env = {**os.environ, "LOAXA_DATABASE_URL": database_url, "LOAXA_MEDIA_DIR": str(media),
           "LOAXA_DATA_DIR": str(work), "LOAXA_X_ACCEL": "1", "LOAXA_PROXY_HOPS": "1",
           "LOAXA_SECRET_KEY": secrets.token_urlsafe(32), "LOAXA_GUNICORN_WORKERS": str(workers),
           "LOAXA_GUNICORN_THREADS": str(threads)}
    env.pop("LOAXA_MQTT_URL", None)
    with contextlib.ExitStack() as stack:
        # nginx first: its address is the public URL every node puts in manifests.
        web_port = stack.enter_context(nginx(work, ports, media))
        env["LOAXA_PUBLIC_URL"] = f"http://127.0.0.1:{web_port}"
        up = Cluster(f"http://127.0.0.1:{web_port}", database_url, work, env, [Node(p) for p in ports],
                     work / f"nginx-{web_port}")
        try:
            for node in up.nodes:
                up.start(node)
            yield up
        finally:
            for node in up.nodes:
                if node.proc is not None:
                    stop(node.proc)


def play_batch(station: str, manifest: dict[str, Any], plays: int, now: datetime) -> list[dict[str, Any]]:
    """What the agent uploads after airing the first `plays` items of the manifest (scheduler.agent.store.PlayRow)."""
    from scheduler.agent.store import PlayRow, iso

    rows = []
    for item in manifest["items"][:plays]:
        started = now - timedelta(minutes=5)
        rows.append(PlayRow(
            play_id=uuid.uuid4().hex, item_key=f"{manifest['week']}:{item['id']}", kind=item["kind"],
            actual_start=iso(started) or "", result="played", item_id=item["id"], week=manifest["week"],
            version=manifest["version"], bulletin=item["bulletin"], title=item["title"], language=item["language"],
            priority=item["priority"], sha256=item["sha256"], scheduled_start=item["start"],
            scheduled_ms=item["duration_ms"], actual_end=iso(started + timedelta(milliseconds=item["duration_ms"])),
            played_ms=item["duration_ms"],
        ).upload_dict())
    return rows


@dataclass
class RunResult:
    seconds: float
    stations: int
    acked_in_db: int  # programmes whose acked_version is this run's version
    plays_sent: int  # distinct play ids the stations sent
    plays_missing: int  # sent but not in the database
    plays_doubled: int  # stored more than once
    client_done: int  # stations the client saw through (ack and play log accepted)
    killed_at: float | None = None  # seconds into the run
    retries: int = 0  # requests the stations had to send again
    failovers: int = 0  # requests nginx passed on to another node
    per_node: list[int] = field(default_factory=list)  # requests each node answered in this run

    @property
    def lost(self) -> bool:
        return self.acked_in_db != self.stations or self.plays_missing > 0 or self.plays_doubled > 0 \
            or self.client_done != self.stations


def programme_change(up: Cluster, mqtt_url: str, tokens: dict[str, str], version: int, plays: int,
                     kill: Node | None, kill_at: float, concurrency: int, timeout: float) -> RunResult:
    """Bump every programme to `version`, push, let the stations fetch, ack and upload (killing `kill`
    once `kill_at` of them are done); then count in the database what arrived."""
    from sqlalchemy import func, select, update

    from scheduler.db.models import PlayLog, Programme
    from scheduler.db.session import make_engine, make_session_factory
    from scheduler.delivery.notices import push_pending
    from scheduler.settings import Settings
    from scheduler.wire import ACK_PATH, PLAYLOG_PATH

    settings = replace(Settings.from_env({k: v for k, v in up.env.items() if k.startswith("LOAXA_")}),
                       mqtt_url=mqtt_url)
    engine = make_engine(up.database_url)
    sessions = make_session_factory(engine)
    sent: dict[str, list[str]] = {}
    now = datetime.now(UTC)

    batches: dict[str, list[dict[str, Any]]] = {}

    def batch(station: str, manifest: dict[str, Any]) -> list[dict[str, Any]]:
        # A second notice for the station (QoS 1 may deliver twice) sends the same rows again, as the agent would.
        rows = batches.setdefault(station, play_batch(station, manifest, plays, now))
        sent[station] = [row["play_id"] for row in rows]
        return rows

    began = 0.0
    killed_at: float | None = None

    def on_done(done: int) -> None:
        nonlocal killed_at
        if kill is not None and killed_at is None and done >= kill_at * len(tokens):
            kill.kill()
            killed_at = time.perf_counter() - began

    def start() -> Any:
        return push_pending(sessions, settings, datetime.now(UTC))

    requests_before = up.requests_per_node()
    failovers_before = up.nginx_failovers()
    try:
        with sessions() as s, s.begin():
            s.execute(update(Programme).values(version=version, content_hash=f"v{version}"))
        began = time.perf_counter()
        result = run_stations(mqtt_url, tokens, up.base + ACK_PATH, start=start, expect=len(tokens),
                              concurrency=concurrency, timeout=timeout, plays=batch,
                              playlog_url=up.base + PLAYLOG_PATH, on_done=on_done)
        assert result.started.published == len(tokens), result.started
        with sessions() as s:
            acked = s.scalar(select(func.count()).select_from(Programme)
                             .where(Programme.acked_version == version)) or 0
            stored: dict[tuple[str, str], int] = {}
            for chunk in _chunks([(code, pid) for code, ids in sent.items() for pid in ids], 5000):
                rows = s.execute(select(PlayLog.station_code, PlayLog.play_id, func.count())
                                 .where(PlayLog.play_id.in_([pid for _, pid in chunk]))
                                 .group_by(PlayLog.station_code, PlayLog.play_id))
                stored.update({(code, pid): n for code, pid, n in rows})
    finally:
        engine.dispose()
    expected = [(code, pid) for code, ids in sent.items() for pid in ids]
    return RunResult(
        seconds=result.seconds, stations=len(tokens), acked_in_db=acked, plays_sent=len(expected),
        plays_missing=sum(1 for key in expected if key not in stored),
        plays_doubled=sum(n - 1 for n in stored.values() if n > 1), client_done=len(result.logged),
        killed_at=killed_at, retries=result.retries, failovers=up.nginx_failovers() - failovers_before,
        per_node=[after - before for before, after in zip(requests_before, up.requests_per_node(), strict=True)],
    )


def _proc_stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()  # fields from the 3rd on (the name may hold spaces)


def server_cpu_seconds(up: Cluster) -> float:
    """CPU seconds used so far by the server side alone: the nodes' gunicorn processes (their process
    groups; a recycled worker's time is in its master's children time), nginx, and the PostgreSQL backends of
    the benchmark's database. Not the simulated stations. Linux /proc only."""
    database = up.database_url.rsplit("/", 1)[1]
    groups = {node.proc.pid for node in up.nodes if node.proc is not None}
    nginx_pid_file = up.nginx_dir / "nginx.pid"
    nginx_master = int(nginx_pid_file.read_text()) if nginx_pid_file.exists() else -1
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        fields = _proc_stat(pid)
        if fields is None:
            continue
        ppid, pgrp = int(fields[1]), int(fields[2])
        ours = pgrp in groups or pid == nginx_master or ppid == nginx_master
        if not ours:
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            ours = cmdline.startswith(b"postgres: ") and f" {database} ".encode() in cmdline
        if ours:
            ticks += sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def status_rate(up: Cluster, tokens: dict[str, str], requests: int, concurrency: int) -> tuple[float, float]:
    """Status reports (POST /api/v1/status, the agent's body, every station in turn) per second of wall
    time, and per CPU second of the server side (server_cpu_seconds): the request every station makes once a
    minute, so the latter × 60 is how many stations one core keeps up with."""
    import asyncio

    import aiohttp

    from scheduler.wire import STATUS_PATH

    codes = list(tokens)
    body = {"state": "online", "agent_version": "0.1.0", "clock_offset_ms": 12, "disk_free_mb": 2048,
            "volume": 80, "amplifier": "on", "power": "mains", "player": "mpv", "playing": None,
            "manifests": {"2026-W49": {"active": 3}}, "outbox": 0, "storage": None, "plays_set_aside": 0,
            "stream_fault": None, "mqtt": True, "care": []}

    async def run() -> float:
        statuses: list[int] = []
        sem = asyncio.Semaphore(concurrency)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
            async def one(n: int) -> None:
                headers = {"Authorization": f"Bearer {tokens[codes[n % len(codes)]]}"}
                async with sem, http.post(up.base + STATUS_PATH, json={**body, "at": datetime.now(UTC).isoformat()},
                                          headers=headers) as response:
                    await response.read()
                    statuses.append(response.status)

            began = time.perf_counter()
            await asyncio.gather(*(one(n) for n in range(requests)))
            elapsed = time.perf_counter() - began
        assert set(statuses) == {200}, sorted(set(statuses))
        return requests / elapsed

    cpu_before = server_cpu_seconds(up)
    rate = asyncio.run(run())
    return rate, requests / (server_cpu_seconds(up) - cpu_before)


def table_sizes(database_url: str, tables: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    """Rows of each table and the bytes they take in PostgreSQL: table, TOAST and indexes."""
    from sqlalchemy import text

    from scheduler.db.session import make_engine

    engine = make_engine(database_url)
    sizes = {}
    try:
        with engine.connect() as conn:
            for table in tables:
                conn.execute(text(f"ANALYZE {table}"))
                rows = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                size = conn.execute(text(f"SELECT pg_total_relation_size('{table}')")).scalar_one()
                sizes[table] = (int(rows), int(size))
    finally:
        engine.dispose()
    return sizes


def _chunks(items: list[tuple[str, str]], size: int) -> Iterator[list[tuple[str, str]]]:
    for n in range(0, len(items), size):
        yield items[n:n + size]


def describe(label: str, run: RunResult) -> str:
    killed = f", node 1 killed at {run.killed_at:.1f} s" if run.killed_at is not None else ""
    return (f"{label}: {run.seconds:7.2f} s{killed}; acked in db {run.acked_in_db}/{run.stations}, "
            f"play-log rows {run.plays_sent - run.plays_missing}/{run.plays_sent} stored "
            f"({run.plays_missing} missing, {run.plays_doubled} doubled); requests per node {run.per_node}, "
            f"station retries {run.retries}, nginx failovers {run.failovers}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stations", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=50, help="programme items per station's week")
    parser.add_argument("--plays", type=int, default=10, help="play-log rows each station uploads per run")
    parser.add_argument("--rounds", type=int, default=3, help="runs without and with a kill, interleaved")
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--workers", type=int, default=0,
                        help="gunicorn workers per node (default: 2 × cores + 1 shared among the nodes)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--kill-at", type=float, default=0.3, help="kill node 1 once this share of stations is done")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--timeout", type=float, default=900, help="seconds a run may take")
    parser.add_argument("--status", type=int, default=5_000,
                        help="status reports for the steady-state rate, per round (0: skip)")
    parser.add_argument("--quick", action="store_true", help="500 stations, 1 round, 1,000 status reports")
    args = parser.parse_args()
    # SIGTERM ends the run through the same clean-up as Ctrl+C: nodes, nginx, brokers, the scratch database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    if args.quick:
        args.stations, args.rounds, args.status = 500, 1, 1_000
    workers = args.workers or max(1, (2 * (os.cpu_count() or 1) + 1) // args.nodes)
    load_before = os.getloadavg()
    calm: list[RunResult] = []
    killed: list[RunResult] = []
    rates: list[float] = []
    per_cpu_rates: list[float] = []
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="loaxa-failover-")))
        database_url = stack.enter_context(scratch_database())
        t0 = time.perf_counter()
        tokens, _week = seed(database_url, work / "media", args.stations, args.items, datetime.now(UTC))
        print(f"seeded {len(tokens)} stations × {args.items} items in {time.perf_counter() - t0:.1f} s", flush=True)
        up = stack.enter_context(cluster(work, database_url, args.nodes, workers, args.threads))
        version = 1
        for n in range(args.rounds):
            for victim in (None, up.nodes[0]):
                version += 1
                # A fresh broker per run: the last run's retained notices would reach the stations twice.
                with mosquitto(work) as mqtt_url:
                    run = programme_change(up, mqtt_url, tokens, version, args.plays, victim, args.kill_at,
                                           args.concurrency, args.timeout)
                (killed if victim else calm).append(run)
                print(describe(f"round {n + 1} {'kill ' if victim else 'calm '}", run), flush=True)
                if victim is not None:
                    up.start(victim)
            if args.status:
                rate, per_cpu = status_rate(up, tokens, args.status, args.concurrency)
                rates.append(rate)
                per_cpu_rates.append(per_cpu)
                print(f"round {n + 1} status reports: {rate:,.0f}/s, {per_cpu:,.0f} per server CPU second",
                      flush=True)
        sizes = table_sizes(database_url, ("play_log", "programme_item"))
    load_after = os.getloadavg()
    print()
    print(f"Programme change → {args.stations} stations (manifest, ack, {args.plays} play-log rows each) through "
          f"nginx to {args.nodes} nodes × {workers} gunicorn workers × {args.threads} threads, PostgreSQL; "
          f"concurrency {args.concurrency}; load {load_before[0]:.2f} → {load_after[0]:.2f}")
    if calm:
        calm_s, killed_s = statistics.median(r.seconds for r in calm), statistics.median(r.seconds for r in killed)
        print(f"  every node up:                        median {calm_s:7.2f} s "
              f"({args.stations / calm_s:,.0f} stations/s)")
        print(f"  node 1 killed at {args.kill_at:.0%} of the stations: median {killed_s:7.2f} s "
              f"({killed_s / calm_s:.2f}× the calm run)")
    if rates:
        best, per_cpu = max(rates), statistics.median(per_cpu_rates)
        cores = os.cpu_count() or 1
        print(f"  status reports (one a minute per station), best of {len(rates)}: {best:,.0f}/s = "
              f"{best * 60:,.0f} stations on these {cores} shared cores")
        print(f"  per CPU second of the server side (nginx + nodes + PostgreSQL), median: {per_cpu:,.0f} reports "
              f"= {per_cpu * 60:,.0f} stations per core")
    for table, (rows, size) in sizes.items():
        if rows:
            print(f"  {table} in PostgreSQL: {rows:,} rows, {size / 2**20:.1f} MiB with indexes = "
                  f"{size / rows:.0f} bytes per row")
    lost = [r for r in calm + killed if r.lost]
    print(f"  runs with an acknowledgement or a play-log row lost or doubled: {len(lost)} of {len(calm + killed)}")
    if lost:
        sys.exit(1)


if __name__ == "__main__":
    main()
