"""Station agent memory while it plays a whole week, against a real loaxa server on this machine.

The agent (scheduler.agent, null player, the receiver box's dependencies only: server packages are
made impossible to import) runs in its own process on a simulated clock that advances `--step`
seconds per loop step, so a week passes in a few minutes while every item is started, logged,
uploaded and acknowledged over real HTTP (and MQTT when the broker is up). Its resident set size is
sampled from /proc; a bare `python -c "import requests, paho.mqtt.client"` is measured beside it.

    python benchmarks/bench_agent_memory.py [--step 20] [--no-mqtt]

Figures go to docs/benchmarks.md ("Station agent memory").
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from audio.settings import AudioSettings  # noqa: E402
from scheduler.accounts import create_user, issue_station_token  # noqa: E402
from scheduler.db.models import PlayLog, Station  # noqa: E402
from scheduler.db.session import make_engine, make_session_factory, transaction, upgrade_schema  # noqa: E402
from scheduler.imports import import_bulletins, import_stations  # noqa: E402
from scheduler.programmes import build_week, current_weeks  # noqa: E402
from scheduler.rendering import render_pending  # noqa: E402
from scheduler.settings import Settings  # noqa: E402

STATION = "IGR-01"
SERVER_ONLY = ("flask", "werkzeug", "jinja2", "sqlalchemy", "alembic", "psycopg", "apscheduler", "pydub",
               "gtts", "openpyxl", "prometheus_client", "matplotlib", "fpdf", "waitress")  # fmt: skip

AGENT_CHILD = """
import importlib.abc, json, logging, os, sys, threading
logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
from datetime import datetime, timedelta
BLOCKED = {blocked!r}
class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, NotInstalled())

from pathlib import Path
from scheduler.agent.agent import Agent, AgentConfig
from scheduler.agent.players import NullPlayer
from scheduler.agent.sync import SyncIntervals

class SimClock:
    def __init__(self, start): self.now = start
    def __call__(self): return self.now

start = datetime.fromisoformat(os.environ["BENCH_WEEK_START"])
end = start + timedelta(days=7)
step = float(os.environ["BENCH_STEP"])
clock = SimClock(start)
stop = threading.Event()

def sleep(seconds):
    clock.now += timedelta(seconds=seconds)
    if clock.now >= end:
        stop.set()

player = NullPlayer(clock)
config = AgentConfig(server=os.environ["BENCH_SERVER"], station=os.environ["BENCH_STATION"],
                     token=os.environ["BENCH_TOKEN"], cache_dir=Path(os.environ["BENCH_CACHE"]),
                     mqtt=os.environ["BENCH_MQTT"] == "1", intervals=SyncIntervals())
agent = Agent(config, clock=clock, player=player, sleep=sleep)
agent.run_forever(stop, threaded=False, tick=step)
# One more pass a minute later, so the last plays of the week are uploaded too.
stop.clear(); end = clock.now + timedelta(minutes=2)
agent = Agent(config, clock=clock, player=player, sleep=sleep)
agent.run_forever(stop, threaded=False, tick=step)
print(json.dumps({{"plays_started": len(player.started), "loaded": sorted({{m.split(".")[0] for m in sys.modules}})}}))
"""

BASELINE_CHILD = (
    "import requests, paho.mqtt.client, sys, time; print('ready', flush=True); time.sleep(float(sys.argv[1]))"
)


def rss_kb(pid: int, field: str = "VmRSS") -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def broker_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 1883), timeout=1):
            return True
    except OSError:
        return False


def prepare_server(data_dir: Path, port: int, mqtt: bool) -> tuple[Settings, str, datetime]:
    """A province with the demo stations and bulletins, audio rendered, next week's programme built."""
    env = {"LOAXA_DATA_DIR": str(data_dir), "LOAXA_PUBLIC_URL": f"http://127.0.0.1:{port}",
           "LOAXA_TTS_ENGINES": "espeak"}  # fmt: skip
    if mqtt:
        env["LOAXA_MQTT_URL"] = "mqtt://127.0.0.1:1883"
    settings = replace(Settings.from_env(env), audio=AudioSettings(engines=("espeak",)))
    engine = make_engine(settings.database_url)
    upgrade_schema(engine)
    sessions = make_session_factory(engine)
    now = datetime.now(UTC)
    this_week, next_week = current_weeks(now, settings.tz)
    first_day, last_day = this_week.monday(), next_week.monday() + timedelta(days=13)
    demo = ROOT / "scheduler" / "demo"
    bulletins = (demo / "bulletins.csv").read_text(encoding="utf-8")
    bulletins = bulletins.replace("{valid_from}", first_day.isoformat()).replace("{valid_to}", last_day.isoformat())
    with transaction(sessions) as s:
        import_stations(s, (demo / "stations.csv").read_text(encoding="utf-8"))
        approver = create_user(s, "lanhdao", "approver", "mat-khau-bench", now)
        import_bulletins(s, bulletins, demo, settings.media_dir, now, approver)
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    summary = render_pending(sessions, settings.media_dir, settings.audio, lambda: datetime.now(UTC))
    print(f"  rendered {len(summary.rendered)} bulletins with espeak in {time.monotonic() - t0:.0f} s", flush=True)
    with transaction(sessions) as s:
        build_week(s, next_week, now, settings.tz, settings.no_change_minutes, station_code=STATION)
        station = s.scalar(select(Station).where(Station.code == STATION))
        assert station is not None
        token = issue_station_token(station, now)
    engine.dispose()
    start = datetime.combine(next_week.monday(), datetime.min.time(), tzinfo=settings.tz)
    return settings, token, start


def wait_port(port: int, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the server stopped during start-up")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not open port {port}")


def sample(proc: subprocess.Popen[str], every: float = 0.2) -> list[int]:
    samples = []
    while proc.poll() is None:
        value = rss_kb(proc.pid)
        if value:
            samples.append(value)
        time.sleep(every)
    return samples


def measure_baseline(seconds: float = 3.0) -> tuple[int, int]:
    proc = subprocess.Popen([sys.executable, "-c", BASELINE_CHILD, str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    proc.stdout.readline()
    time.sleep(0.5)
    rss, hwm = rss_kb(proc.pid) or 0, rss_kb(proc.pid, "VmHWM") or 0
    proc.wait()
    return rss, hwm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=float, default=20.0, help="simulated seconds per agent loop step")
    parser.add_argument("--no-mqtt", action="store_true", help="HTTP polling only")
    args = parser.parse_args()
    mqtt = not args.no_mqtt and broker_up()
    with tempfile.TemporaryDirectory(prefix="loaxa-bench-agent-") as tmp:
        port = free_port()
        print("preparing the server (demo province, espeak audio, next week's programme)…", flush=True)
        settings, token, week_start = prepare_server(Path(tmp) / "server", port, mqtt)
        server_env = {**os.environ, "LOAXA_DATA_DIR": str(Path(tmp) / "server"), "LOAXA_TTS_ENGINES": "espeak",
                      "LOAXA_PUBLIC_URL": f"http://127.0.0.1:{port}"}  # fmt: skip
        if mqtt:
            server_env["LOAXA_MQTT_URL"] = "mqtt://127.0.0.1:1883"
        server = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(port)], cwd=ROOT,
                                  env=server_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            wait_port(port, server)
            agent_env = {**os.environ, "BENCH_SERVER": f"http://127.0.0.1:{port}", "BENCH_STATION": STATION,
                         "BENCH_TOKEN": token, "BENCH_CACHE": str(Path(tmp) / "box"), "BENCH_STEP": str(args.step),
                         "BENCH_WEEK_START": week_start.isoformat(), "BENCH_MQTT": "1" if mqtt else "0"}  # fmt: skip
            print(f"agent plays the week from {week_start:%Y-%m-%d %H:%M %Z} (step {args.step:g} s, "
                  f"{'MQTT + HTTP' if mqtt else 'HTTP only'})…", flush=True)
            t0 = time.monotonic()
            # The agent's log goes to a file: a full pipe would stall it.
            with (Path(tmp) / "agent.log").open("w+", encoding="utf-8") as log:
                agent = subprocess.Popen([sys.executable, "-c", AGENT_CHILD.format(blocked=SERVER_ONLY)], cwd=ROOT,
                                         env=agent_env, stdout=subprocess.PIPE, stderr=log, text=True)  # fmt: skip
                samples = sample(agent)
                out = agent.stdout.read() if agent.stdout else ""
                elapsed = time.monotonic() - t0
                log.seek(0)
                complaints = [ln for ln in log.read().splitlines() if ln.startswith(("WARNING", "ERROR"))]
                if agent.wait() != 0:
                    raise SystemExit("the agent failed:\n" + "\n".join(complaints[-30:]))
            report = json.loads(out.strip().splitlines()[-1])
        finally:
            server.terminate()
            server.wait(timeout=30)
        engine = make_engine(settings.database_url)
        with engine.connect() as conn:
            logged = conn.execute(select(func.count()).select_from(PlayLog)).scalar_one()
        engine.dispose()
    baseline_rss, baseline_hwm = measure_baseline()
    peak = max(samples)
    steady = statistics.median(samples[len(samples) // 2:])
    leaked = set(report["loaded"]) & set(SERVER_ONLY)
    mb = 1024.0
    print()
    print(f"week simulated in {elapsed:.0f} s real time; {report['plays_started']} items started, "
          f"{logged} play-log rows on the server")
    print(f"{'process':<46} {'peak RSS':>10} {'steady RSS':>11}")
    print(f"{'agent playing a week':<46} {peak / mb:>8.1f} MB {steady / mb:>8.1f} MB")
    name = "python -c import requests, paho (baseline)"
    print(f"{name:<46} {baseline_hwm / mb:>8.1f} MB {baseline_rss / mb:>8.1f} MB")
    print(f"agent log: {len(complaints)} warnings/errors" + "".join(f"\n  {c}" for c in sorted(set(complaints))[:8]))
    print(f"agent / baseline: {peak / baseline_hwm:.2f}x peak; target under 60 MB: "
          f"{'met' if peak / mb < 60 else 'NOT met'}; server packages loaded by the agent: {sorted(leaked) or 'none'}")


if __name__ == "__main__":
    main()
