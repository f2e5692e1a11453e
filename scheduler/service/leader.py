"""Leader election: exactly one `loaxa scheduler` runs the jobs; the others stand by.

PostgreSQL: a session-level `pg_try_advisory_lock` held on a dedicated connection. The server
releases it when that session ends: at once when the leader process dies (its socket closes), and
within `idle_session_timeout` when the leader's host vanishes without closing it (the leader
pings far more often than that). SQLite lives on one machine: an exclusive `flock` on a file
beside the database, released by the kernel when the process dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
from pathlib import Path
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

# A fixed 64-bit advisory-lock key, derived from a name so it cannot clash by accident.
LOCK_KEY = int.from_bytes(hashlib.sha256(b"loaxa.scheduler.leader").digest()[:8], "big", signed=True)


class LeaderLock(Protocol):
    def acquire(self) -> bool:
        """Take the lead if free; never blocks."""

    def still_held(self) -> bool:
        """False once the lead is lost (e.g. the database connection broke)."""

    def release(self) -> None: ...


class PostgresLeaderLock:
    """`pg_try_advisory_lock` on a connection kept out of the pool for as long as it is held."""

    def __init__(self, engine: Engine, idle_timeout_seconds: float, key: int = LOCK_KEY) -> None:
        self.engine = engine
        self.key = key
        self.idle_timeout_ms = int(idle_timeout_seconds * 1000)
        self.conn: Connection | None = None
        self.held = False

    def _connection(self) -> Connection:
        if self.conn is None:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            # If this host disappears without closing the socket, the server ends the session (and
            # frees the lock) after this much silence; the leader pings every poll period.
            conn.execute(text(f"SET idle_session_timeout = {self.idle_timeout_ms}"))
            self.conn = conn
        return self.conn

    def _drop(self) -> None:
        self.held = False
        if self.conn is not None:
            try:
                self.conn.invalidate()
                self.conn.close()
            except DBAPIError:
                pass
            self.conn = None

    def acquire(self) -> bool:
        try:
            got = self._connection().execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
        except DBAPIError as exc:
            log.warning("không kết nối được PostgreSQL để giữ khóa bộ lập lịch: %s", exc.__class__.__name__)
            self._drop()
            return False
        self.held = bool(got)
        return self.held

    def still_held(self) -> bool:
        if not self.held or self.conn is None:
            return False
        try:
            count = self.conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                    "AND granted AND objsubid = 1 AND classid::bigint = :high AND objid::bigint = :low"
                ),
                {"high": (self.key >> 32) & 0xFFFFFFFF, "low": self.key & 0xFFFFFFFF},
            ).scalar()
        except DBAPIError as exc:
            log.error("mất kết nối giữ khóa bộ lập lịch: %s", exc.__class__.__name__)
            self._drop()
            return False
        return bool(count)

    def release(self) -> None:
        if self.conn is not None and self.held:
            with contextlib.suppress(DBAPIError):
                self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
        self._drop()


class FileLeaderLock:
    """An exclusive, non-blocking `flock` on a lock file (single machine, e.g. SQLite)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self) -> bool:
        if self.fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # for a person looking at the file
        self.fd = fd
        return True

    def still_held(self) -> bool:
        return self.fd is not None

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def sqlite_lock_path(database_url: str) -> Path:
    path = database_url.split("///", 1)[-1]
    if not path or path == ":memory:":
        raise ValueError("Dịch vụ lập lịch cần một tệp SQLite (không dùng :memory:). Đặt LOAXA_DATABASE_URL.")
    return Path(path).resolve().with_name(Path(path).name + ".scheduler.lock")


def make_lock(engine: Engine, poll_seconds: float) -> LeaderLock:
    """The right lock for the engine's database; ValueError (Vietnamese) for other databases."""
    name = engine.dialect.name
    if name == "postgresql":
        return PostgresLeaderLock(engine, idle_timeout_seconds=max(30.0, 3 * poll_seconds))
    if name == "sqlite":
        return FileLeaderLock(sqlite_lock_path(engine.url.render_as_string(hide_password=False)))
    raise ValueError(f"Dịch vụ lập lịch chỉ chạy với PostgreSQL hoặc SQLite, không chạy với «{name}».")
