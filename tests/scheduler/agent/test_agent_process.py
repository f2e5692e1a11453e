"""Real processes: `loaxa serve` and `loaxa agent` subprocesses, kill -9 mid-item, a server killed mid-download.

These run on the wall clock (the agent process has no other), so items are scheduled a few seconds
ahead of now; waits are timeouts, never assertions on elapsed time.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from agent_world import CODE, acked, make_agent, server_plays
from delivery_world import ItemSpec, add_asset, add_programme, add_station, free_port, make_mp3, wait_for, wait_port
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.session import transaction
from scheduler.domain import IsoWeek
from scheduler.settings import Settings
from tests.fake_clock import FakeClock

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("backend", ["postgresql"], indirect=True)]
LOAXA = [str(Path(sys.executable).with_name("loaxa"))] if Path(sys.executable).with_name("loaxa").exists() \
    else [sys.executable, "-m", "web.cli"]


def this_week(now: datetime) -> str:
    return str(IsoWeek.of(now.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).date()))


@contextmanager
def loaxa_serve(settings: Settings, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "LOAXA_DATABASE_URL": settings.database_url, "LOAXA_MEDIA_DIR": str(settings.media_dir),
           "LOAXA_DATA_DIR": str(settings.data_dir), "LOAXA_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    env.pop("LOAXA_MQTT_URL", None)
    with open(log, "ab") as out:
        proc = subprocess.Popen([*LOAXA, "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", "4"],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_port(port, timeout=60)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=20)


def start_agent(url: str, token: str, cache: Path, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [*LOAXA, "agent", "--server", url, "--station", CODE, "--token", token, "--cache", str(cache),
             "--player", "null", "--no-mqtt", "--poll", "5", "--upload-every", "1", "--status-every", "5"],
            stdout=out, stderr=subprocess.STDOUT)


def outbox(cache: Path) -> list[dict[str, Any]]:
    path = cache / "agent.sqlite3"
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("SELECT * FROM outbox ORDER BY actual_start")]
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()


def test_agent_killed_mid_item_neither_replays_what_aired_nor_loses_a_play(
        settings: Settings, sessions: sessionmaker[Session], media_dir: Path, tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    first, second = now + timedelta(seconds=8), now + timedelta(seconds=12)
    with transaction(sessions) as s:
        station, token = add_station(s, CODE, now)
        short = add_asset(s, media_dir, make_mp3(2.0, 440), now, 2000)
        long = add_asset(s, media_dir, make_mp3(12.0, 550), now, 12000)
        add_programme(s, station, this_week(now), [ItemSpec(first, short, title="Tuyên truyền CCHC"),
                                                   ItemSpec(second, long, title="Dịch vụ công trực tuyến")], now)
    port, cache, log = free_port(), tmp_path / "cache", tmp_path / "processes.log"
    with loaxa_serve(settings, port, log):
        agent = start_agent(f"http://127.0.0.1:{port}", token, cache, log)
        try:
            # Kill once the long item has aired for a while (its progress mark is written every 10 s).
            wait_for(lambda: any(r["result"] == "playing" and r["progress_at"] != r["actual_start"]
                                 for r in outbox(cache)), timeout=60, step=0.1)
            agent.send_signal(signal.SIGKILL)
            agent.wait(timeout=10)
            agent = start_agent(f"http://127.0.0.1:{port}", token, cache, log)
            wait_for(lambda: len(server_plays(sessions)) == 3, timeout=60, step=0.2)
        finally:
            agent.terminate()
            agent.wait(timeout=30)
        plays = server_plays(sessions)
    assert [(p.title, p.result) for p in plays] == [
        ("Tuyên truyền CCHC", "played"),
        ("Dịch vụ công trực tuyến", "partial"),
        ("Dịch vụ công trực tuyến", "played"),
    ], log.read_text()
    assert [p.scheduled_start for p in plays] == [first, second, second]
    assert all(p.scheduled_start is not None and p.actual_start >= p.scheduled_start for p in plays)  # never early
    assert plays[1].played_ms >= 10000 and "phát lại từ đầu" in plays[1].reason
    assert plays[2].played_ms >= 12000
    assert len({p.play_id for p in plays}) == 3
    assert acked(sessions, this_week(now)) == 1


class KillsServerMidDownload(requests.Session):
    """Kills the server process once the first 256 KB of an audio file have arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.server: subprocess.Popen[bytes] | None = None
        self.killed = False

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        response = super().request(str(method), str(url), *args, **kwargs)
        if "/audio/" in str(url) and not self.killed:
            chunks = response.iter_content

            def iter_content(chunk_size: int = 1, decode_unicode: bool = False) -> Iterator[Any]:
                received = 0
                for chunk in chunks(chunk_size, decode_unicode):  # type: ignore[call-overload]
                    yield chunk
                    received += len(chunk)
                    if received >= 256 * 1024 and not self.killed and self.server is not None:
                        self.killed = True
                        self.server.send_signal(signal.SIGKILL)
                        self.server.wait(timeout=10)

            response.iter_content = iter_content  # type: ignore[method-assign,assignment]
        return response


def test_server_killed_mid_download_then_restarted_the_agent_resumes_with_range(
        settings: Settings, sessions: sessionmaker[Session], media_dir: Path, tmp_path: Path, clock: FakeClock) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    clock.current = now
    big = make_mp3(5.0, 200, bitrate="320k") * 150  # ~30 MB of valid MP3 frames
    with transaction(sessions) as s:
        station, token = add_station(s, CODE, now)
        asset = add_asset(s, media_dir, big, now, 750_000)
        add_programme(s, station, this_week(now), [ItemSpec(now + timedelta(hours=1), asset)], now)
    port, log = free_port(), tmp_path / "server.log"
    http = KillsServerMidDownload()
    agent = make_agent(f"http://127.0.0.1:{port}", token, tmp_path / "cache", clock, http=http)
    part, whole = agent.cache.part_path(asset.sha256), agent.cache.path(asset.sha256)
    with loaxa_serve(settings, port, log) as server:
        http.server = server
        agent.run_once(clock())
    assert http.killed
    kept = part.stat().st_size
    assert 0 < kept < len(big)
    assert not whole.exists() and acked(sessions, this_week(now)) == 0
    with loaxa_serve(settings, port, log):
        clock.advance(seconds=6)  # past the agent's first back-off
        agent.run_once(clock())
    assert agent.syncer.state.resumed_bytes == kept  # the server answered the Range request with 206
    assert whole.read_bytes() == big
    assert acked(sessions, this_week(now)) == 1
    agent.shutdown()
