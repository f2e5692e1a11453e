"""Exactly one active scheduler: locks, heartbeat, and a real standby taking over from a killed leader."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.session import make_engine, transaction
from scheduler.service import heartbeat
from scheduler.service.leader import FileLeaderLock, PostgresLeaderLock, make_lock
from scheduler.settings import Settings

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[3]


def test_only_one_holder_of_the_lock_at_a_time(engine: Engine) -> None:
    # Two engines, as two processes would have: the second cannot lead while the first does.
    other_engine = make_engine(engine.url.render_as_string(hide_password=False))
    first, second = make_lock(engine, 1.0), make_lock(other_engine, 1.0)
    try:
        assert first.acquire() and first.still_held()
        assert not second.acquire() and not second.still_held()
        first.release()
        assert second.acquire() and second.still_held()
        assert not first.acquire()
    finally:
        first.release()
        second.release()
        other_engine.dispose()


def test_sqlite_uses_a_lock_file_beside_the_database(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'loaxa.sqlite3'}")
    lock = make_lock(engine, 1.0)
    assert isinstance(lock, FileLeaderLock)
    assert lock.path == tmp_path / "loaxa.sqlite3.scheduler.lock"
    engine.dispose()


def test_a_leader_whose_database_session_ends_knows_it_lost_the_lead(pg_database_url: str) -> None:
    engine = make_engine(pg_database_url)  # advisory locks are PostgreSQL's
    lock = make_lock(engine, 1.0)
    assert isinstance(lock, PostgresLeaderLock)
    try:
        assert lock.acquire()
        assert lock.conn is not None
        backend = lock.conn.execute(text("SELECT pg_backend_pid()")).scalar()
        with engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
            admin.commit()
        assert lock.still_held() is False
        successor = make_lock(engine, 1.0)
        assert successor.acquire()
        successor.release()
    finally:
        lock.release()
        engine.dispose()


def test_heartbeat_records_the_leader_and_tells_whether_it_is_alive(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        assert heartbeat.read(s) is None
        assert heartbeat.is_alive(None, NOW, timedelta(minutes=1)) is False
    with transaction(sessions) as s:
        heartbeat.beat(s, "may-chu-1:4242", 4242, NOW, NOW)
    with transaction(sessions) as s:
        heartbeat.save_state(s, "rebuild_watch", {"built": "abc"})
        heartbeat.beat(s, "may-chu-1:4242", 4242, NOW, NOW + timedelta(seconds=15))
    with sessions() as s:
        row = heartbeat.read(s)
        assert row is not None and (row.holder, row.pid, row.started_at) == ("may-chu-1:4242", 4242, NOW)
        assert heartbeat.load_state(s, "rebuild_watch") == {"built": "abc"}  # the beat leaves the state alone
        assert heartbeat.is_alive(row, NOW + timedelta(seconds=60), timedelta(minutes=1)) is True
        assert heartbeat.is_alive(row, NOW + timedelta(seconds=76), timedelta(minutes=1)) is False


# --- two real `loaxa scheduler` processes -------------------------------------------------------------


def _wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _leader_pid(sessions: sessionmaker[Session]) -> int | None:
    with sessions() as s:
        row = heartbeat.read(s)
        return row.pid if row is not None else None


@pytest.fixture
def spawn(settings: Settings, tmp_path: Path) -> Iterator[Callable[[str], tuple[subprocess.Popen[bytes], Path]]]:
    env = {
        **os.environ,
        "LOAXA_DATABASE_URL": settings.database_url,
        "LOAXA_DATA_DIR": str(tmp_path),
        "LOAXA_MEDIA_DIR": str(settings.media_dir),
        "LOAXA_TTS_ENGINES": "espeak",
        "LOAXA_LEADER_POLL_SECONDS": "0.3",
        "PYTHONPATH": str(ROOT),
    }
    started: list[subprocess.Popen[bytes]] = []

    def start(name: str) -> tuple[subprocess.Popen[bytes], Path]:
        log = tmp_path / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "web.cli", "scheduler"], env=env, stdout=out,
                                    stderr=subprocess.STDOUT, cwd=ROOT)
        started.append(proc)
        return proc, log

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


@pytest.mark.slow
def test_a_standby_scheduler_takes_over_when_the_leader_is_killed(
    sessions: sessionmaker[Session], jobstore: Engine, spawn: Callable[[str], tuple[subprocess.Popen[bytes], Path]]
) -> None:
    leader, leader_log = spawn("leader")
    _wait_for(lambda: _leader_pid(sessions) == leader.pid, 60, "the first scheduler to lead")
    standby, standby_log = spawn("standby")
    _wait_for(lambda: "Đang dự phòng" in standby_log.read_text(), 60, "the second scheduler to stand by")
    with sessions() as s:
        first_beat = heartbeat.read(s)
    assert first_beat is not None and first_beat.beat_at is not None
    _wait_for(lambda: (b := _beat(sessions)) is not None and b > first_beat.beat_at, 30, "a later heartbeat")  # type: ignore[operator]
    assert _leader_pid(sessions) == leader.pid and standby.poll() is None

    leader.send_signal(signal.SIGKILL)
    leader.wait(timeout=30)
    _wait_for(lambda: _leader_pid(sessions) == standby.pid, 60, "the standby to take over")
    assert "Bộ lập lịch nền bắt đầu làm việc" in standby_log.read_text()
    assert "Các việc định kỳ:" in standby_log.read_text()  # it started the job scheduler on the shared job store

    standby.send_signal(signal.SIGTERM)
    assert standby.wait(timeout=60) == 0, standby_log.read_text()
    assert "Bộ lập lịch nền bắt đầu làm việc" in leader_log.read_text()


def _beat(sessions: sessionmaker[Session]) -> datetime | None:
    with sessions() as s:
        row = heartbeat.read(s)
        return row.beat_at if row is not None else None
