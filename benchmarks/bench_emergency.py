"""Emergency benchmark: from the approver's confirmation to every loudspeaker playing.

loaxa path, timed per station: the confirmation (POST /khan-cap/phat with a 300-character warning
typed in, rendered on the spot by the offline engine) → `loaxa serve` stores it and publishes the
play-now over a private Mosquitto → each simulated box (the real `Agent` code with its own MQTT
connection, store and HTTP client, a null player) takes the command, downloads the new audio from
the server and starts playing. Latency = the player's start − the moment the confirmation was sent.

Baseline, side by side on the same broker and boxes: a raw paho publish of a play command for audio
the boxes already hold; latency = the player's start − the moment before the first publish. The
difference is what loaxa adds: rendering, storing, the board, the audio download.

Usage: python benchmarks/bench_emergency.py [--agents 1000] [--trials 3] [--database-url URL] [--quick]
Needs mosquitto and PostgreSQL (a fresh database is created and dropped). Figures: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import queue
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "mat-khau-bench-2026"
WARNING_300 = (
    "Cảnh báo khẩn cấp số {n}: bão số 9 đổ bộ vào đất liền lúc 17h30 hôm nay, gió giật cấp 12. "
    "Bà con tuyệt đối không ra khơi, chằng chống nhà cửa, di dời người già và trẻ em khỏi vùng trũng thấp. "
    "Cần hỗ trợ gọi đường dây nóng 0269 3823 456."
)


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
    lines = [f"listener {port} 127.0.0.1", "persistence false", "allow_anonymous true", "max_connections -1"]
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


@contextlib.contextmanager
def database(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    from sqlalchemy import create_engine, text

    name = f"loaxa_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed(database_url: str, agents: int, now: datetime) -> dict[str, str]:
    """`agents` stations in 50 communes with tokens, and an approver; returns code -> token."""
    from sqlalchemy import insert

    from scheduler.accounts import hash_password, hash_token
    from scheduler.db.models import Commune, Province, Station, User
    from scheduler.db.session import make_engine, make_session_factory, transaction, upgrade_schema

    engine = make_engine(database_url)
    upgrade_schema(engine)
    tokens = {f"BM-{n:05d}": secrets.token_urlsafe(24) for n in range(agents)}
    with transaction(make_session_factory(engine)) as s:
        province = Province(name="Gia Lai", policy={})
        s.add(province)
        s.flush()
        communes = [Commune(name=f"Xã {n}", province_id=province.id, policy={}) for n in range(50)]
        s.add_all(communes)
        s.flush()
        s.execute(insert(Station), [
            {"code": code, "name": code, "commune_id": communes[n % 50].id, "status": {}, "languages": "vi",
             "windows": "", "speakers": 0, "active": True, "token_hash": hash_token(token), "token_issued_at": now}
            for n, (code, token) in enumerate(tokens.items())])
        s.add(User(username="duyet", full_name="Người duyệt", role="approver", password_hash=hash_password(PASSWORD),
                   created_at=now))
    engine.dispose()
    return tokens


class Boxes:
    """Simulated stations: one real Agent each (own MQTT connection, store, HTTP session, null player).

    The agents' own loops are replaced by a small pool that runs `tick_playback` when a message
    arrives — the same code path as the playback thread, without 1,000 threads polling every 0.25 s.
    """

    def __init__(self, server: str, broker: str, tokens: dict[str, str], cache_root: Path, workers: int = 16) -> None:
        from scheduler.agent.agent import Agent, AgentConfig
        from scheduler.agent.mqtt_link import MqttConfig, MqttLink
        from scheduler.agent.players import NullPlayer

        self.started: dict[str, float] = {}
        self._lock = threading.Lock()
        self._work: queue.Queue[Any] = queue.Queue()
        self.agents: dict[str, Any] = {}
        self.links: list[Any] = []
        clock = lambda: datetime.now(UTC)  # noqa: E731
        boxes = self

        class TimedPlayer(NullPlayer):
            def __init__(self, code: str) -> None:
                super().__init__(clock)
                self.code = code

            def start(self, source: str, duration_ms: int, volume: int) -> None:
                stamp = time.time()
                super().start(source, duration_ms, volume)
                with boxes._lock:
                    boxes.started[self.code] = stamp

        for code, token in tokens.items():
            agent = Agent(AgentConfig(server=server, station=code, token=token, cache_dir=cache_root / code,
                                      mqtt=False), clock=clock, player=TimedPlayer(code))
            root = f"loaxa/gia-lai/xa-{int(code[3:]) % 50}/{code}"
            link = MqttLink(MqttConfig(url=broker, username=None, password=None, programme_topic=f"{root}/programme",
                                       cmd_topic=f"{root}/cmd", status_topic=f"{root}/status",
                                       event_topic=f"{root}/event", client_id=f"bench-{code}"),
                            self._deliver(agent))
            agent.mqtt = link
            self.agents[code] = agent
            self.links.append(link)
        # Connect in groups, as boxes come online over time, not all in the same instant.
        for start in range(0, len(self.links), 50):
            group = self.links[start : start + 50]
            for link in group:
                link.start()
            deadline = time.monotonic() + 120
            while not all(link.connected.is_set() for link in group):
                if time.monotonic() > deadline:
                    raise SystemExit("the simulated boxes did not all connect to the broker")
                time.sleep(0.1)
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(workers)]
        for thread in self._threads:
            thread.start()

    def _deliver(self, agent: Any) -> Any:
        def deliver(topic: str, payload: bytes) -> None:
            agent.inbox.put((topic, payload))
            self._work.put(agent)

        return deliver

    def _run(self) -> None:
        while True:
            agent = self._work.get()
            if agent is None:
                return
            try:
                agent.tick_playback(datetime.now(UTC))
            except Exception as exc:  # a box failing must show in the figures, not kill the run
                print(f"box {agent.config.station}: {exc}", file=sys.stderr)

    def reset(self) -> None:
        with self._lock:
            self.started.clear()

    def wait_all(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.started) < count and time.monotonic() < deadline:
            time.sleep(0.05)

    def close(self) -> None:
        for _ in self._threads:
            self._work.put(None)
        for link in self.links:
            with contextlib.suppress(Exception):
                link.client.disconnect()
                link.client.loop_stop()
        for agent in self.agents.values():
            agent.store.close()


def box_worker(conn: Any, server: str, broker: str, tokens: dict[str, str], cache_root: Path) -> None:
    """One process of simulated boxes (paho's select() loop cannot watch more than 1,024 descriptors,
    so 1,000 boxes with their MQTT sockets and stores are spread over several processes)."""
    import logging

    logging.basicConfig(level=logging.ERROR)
    boxes = Boxes(server, broker, tokens, cache_root, workers=4)
    conn.send([link.config.cmd_topic for link in boxes.links])
    while True:
        kind, arg = conn.recv()
        if kind == "reset":
            boxes.reset()
            conn.send(True)
        elif kind == "collect":
            boxes.wait_all(len(tokens), float(arg))
            conn.send(dict(boxes.started))
        elif kind == "sha":
            conn.send(next(iter(next(iter(boxes.agents.values())).cache.cached())))
        else:
            boxes.close()
            conn.send(True)
            return


class BoxPool:
    """The simulated boxes, in `processes` processes of equal share."""

    def __init__(self, server: str, broker: str, tokens: dict[str, str], cache_root: Path, processes: int) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        codes = list(tokens)
        self.conns: list[Any] = []
        self.procs: list[Any] = []
        self.topics: list[str] = []
        for n in range(processes):
            share = {c: tokens[c] for c in codes[n::processes]}
            parent, child = context.Pipe()
            proc = context.Process(target=box_worker, args=(child, server, broker, share, cache_root), daemon=True)
            proc.start()
            self.conns.append(parent)
            self.procs.append(proc)
        for conn in self.conns:
            self.topics += conn.recv()

    def reset(self) -> None:
        for conn in self.conns:
            conn.send(("reset", None))
        for conn in self.conns:
            conn.recv()

    def collect(self, timeout: float) -> dict[str, float]:
        started: dict[str, float] = {}
        for conn in self.conns:
            conn.send(("collect", timeout))
        for conn in self.conns:
            started.update(conn.recv())
        return started

    def sha(self) -> str:
        self.conns[0].send(("sha", None))
        return str(self.conns[0].recv())

    def close(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(Exception):
                conn.send(("stop", None))
                conn.recv()
        for proc in self.procs:
            proc.join(timeout=30)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def summary(values: list[float]) -> str:
    return (f"p50 {statistics.median(values):6.2f} s   p99 {percentile(values, 99):6.2f} s   "
            f"max {max(values):6.2f} s   (n={len(values)})")


def loaxa_trial(base: str, http: Any, boxes: BoxPool, n: int, agents: int) -> tuple[list[float], float]:
    """One confirmation; per-box latencies and the server's answer time."""
    page = http.get(f"{base}/khan-cap/").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "no CSRF token on the page"
    text = WARNING_300.format(n=n)
    boxes.reset()
    t0 = time.time()
    answer = http.post(f"{base}/khan-cap/phat", data={
        "csrf_token": token.group(1), "source": "loi", "text": text, "targets": "*", "full_volume": "y",
        "expires_minutes": "15", "confirmed": "co"}, allow_redirects=False, timeout=300)
    answered = time.time() - t0
    assert answer.status_code == 303, answer.text[:500]
    started = boxes.collect(timeout=180)
    return [stamp - t0 for stamp in started.values()], answered


def raw_trial(broker: str, boxes: BoxPool, sha: str, n: int, agents: int) -> list[float]:
    """Bare paho: one play command per box for audio it already holds, published back to back."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from scheduler.wire import Command, parse_mqtt_url

    url = parse_mqtt_url(broker)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-raw-{secrets.token_hex(3)}")
    client.max_inflight_messages_set(1000)
    client.connect(url.host, url.port)
    client.loop_start()
    boxes.reset()
    now = datetime.now(UTC)
    t0 = time.time()
    infos = []
    for topic in boxes.topics:
        # Its own emergency number: the boxes must not take it for the loaxa play they just aired.
        command = Command.make("play", now, id=f"raw-{n}-{topic}", sha256=sha, duration_ms=20_000,
                               title="raw", bulletin="RAW", volume=100, emergency=100_000 + n, airing=0)
        infos.append(client.publish(topic, command.to_json(), qos=1))
    for info in infos:
        info.wait_for_publish(timeout=60)
    started = boxes.collect(timeout=180)
    client.disconnect()
    client.loop_stop()
    return [stamp - t0 for stamp in started.values()]


def main() -> None:
    import logging

    logging.basicConfig(level=logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--quick", action="store_true", help="100 boxes, 1 trial")
    args = parser.parse_args()
    if args.quick:
        args.agents, args.trials = 100, 1
    import resource

    import requests

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # each box holds a socket and three SQLite files
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8 * args.agents + 1024)), hard))

    with tempfile.TemporaryDirectory(prefix="loaxa-bench-em-") as tmp, database(args.database_url) as db_url:
        workdir = Path(tmp)
        shm = Path("/dev/shm")
        # Each real box has its own disk: fsyncs of 1,000 stores must not queue on this machine's one disk.
        cache_root = Path(tempfile.mkdtemp(prefix="loaxa-bench-boxes-", dir=shm if shm.is_dir() else None))
        tokens = seed(db_url, args.agents, datetime.now(UTC))
        with mosquitto(workdir) as broker:
            port = free_port()
            env = {**os.environ, "LOAXA_DATABASE_URL": db_url, "LOAXA_DATA_DIR": str(workdir),
                   "LOAXA_MEDIA_DIR": str(workdir / "media"), "LOAXA_MQTT_URL": broker, "LOAXA_TTS_ENGINES": "espeak",
                   "LOAXA_PUBLIC_URL": f"http://127.0.0.1:{port}"}
            loaxa = Path(sys.executable).with_name("loaxa")
            server_log = workdir / "serve.log"
            server = subprocess.Popen([str(loaxa), "serve", "--host", "127.0.0.1", "--port", str(port),
                                       "--threads", "16"], env=env, stdout=subprocess.DEVNULL,
                                      stderr=server_log.open("wb"))
            boxes = None
            try:
                wait_port(port)
                base = f"http://127.0.0.1:{port}"
                print(f"{args.agents} hộp mô phỏng đang kết nối…", flush=True)
                boxes = BoxPool(base, broker, tokens, cache_root, processes=max(1, -(-args.agents // 125)))
                http = requests.Session()
                login = http.get(f"{base}/dang-nhap").text
                csrf = re.search(r'name="csrf_token" value="([^"]+)"', login)
                assert csrf
                http.post(f"{base}/dang-nhap", data={"csrf_token": csrf.group(1), "username": "duyet",
                                                      "password": PASSWORD}, timeout=30)
                loaxa_all: list[float] = []
                raw_all: list[float] = []
                answers = []
                for n in range(args.trials):
                    values, answered = loaxa_trial(base, http, boxes, n, args.agents)
                    loaxa_all += values
                    answers.append(answered)
                    missing = args.agents - len(values)
                    print(f"lần {n + 1} loaxa: {summary(values)}  trả lời trang {answered:.2f} s"
                          + (f"  THIẾU {missing}" if missing else ""), flush=True)
                    raw = raw_trial(broker, boxes, boxes.sha(), n, args.agents)
                    raw_all += raw
                    print(f"lần {n + 1} paho:  {summary(raw)}", flush=True)
                    time.sleep(2)
                print()
                print(f"confirm → playing, {args.agents} boxes × {args.trials} trials (300-character text, espeak-ng):")
                print(f"  loaxa        {summary(loaxa_all)}")
                print(f"  raw paho     {summary(raw_all)}")
                print(f"  page answer  mean {statistics.mean(answers):.2f} s (render + store + MQTT publish)")
                print(f"  ratio p99    {percentile(loaxa_all, 99) / percentile(raw_all, 99):.1f}×")
            finally:
                problems = [line for line in server_log.read_text(errors="replace").splitlines()
                            if not line.startswith(("INFO", "WARNING:waitress.queue"))][1:]
                if problems or server.poll() is not None:  # say why boxes went missing
                    print(f"loaxa serve (exit code {server.poll()}):", *problems[-40:], sep="\n", file=sys.stderr)
                if boxes is not None:
                    boxes.close()
                server.terminate()
                server.wait(timeout=30)
                shutil.rmtree(cache_root, ignore_errors=True)


if __name__ == "__main__":
    main()
