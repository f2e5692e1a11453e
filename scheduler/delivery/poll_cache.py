"""Manifest poll answers kept in memory, never older than a bound, on any number of nodes.

Each process reads the manifest change log (scheduler.db.changes) every `every` seconds on a connection
of its own. A kept answer (token hash and week → station, programme, ETag) is used only while the last
successful read STARTED less than `Bound.seconds` ago, on this process's monotonic clock; a change seen
in the log forgets every kept answer. So an answer from memory at instant t reflects every change
committed before t − B, on every node, without clocks shared between machines (only durations count).

The other half of the rule: whoever tells a station that something changed waits B after the read that
saw the change before telling it (`Bound.wait_past`: push_pending's notices, a manifest index that
differs from the station's), so no node answers the told station from before the change.

On PostgreSQL the log's ids are not in commit order (a transaction holding id 5 may commit after the one
holding 6): each row carries its transaction id, and a read asks for the rows of transactions not yet
finished at the previous read (`pg_snapshot_xmin`). SQLite commits one writer at a time, in id order.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.engine import Connection, Engine

from scheduler.db.models import ManifestChange
from scheduler.db.session import autocommit, make_engine, read

log = logging.getLogger("loaxa.delivery.poll_cache")

POLL_BOUND = 0.25  # seconds: the oldest a kept answer may be (B)
READ_EVERY = 0.1  # seconds between reads of the change log
# A reader that did not read for this long starts over (forgets everything): change rows are pruned
# after a day (scheduler.db.changes.KEEP), so one it never saw could otherwise be gone.
START_OVER_AFTER = 60.0
MAX_KEPT = 200_000


@dataclass(frozen=True)
class Bound:
    """B, measured on a monotonic clock (injected in tests)."""

    seconds: float = POLL_BOUND
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def wait_past(self, mark: float) -> None:
        """Return once B has passed since `mark` (a `monotonic()` taken after the read that saw a change)."""
        left = mark + self.seconds - self.monotonic()
        if left > 0:
            self.sleep(left)


@dataclass(frozen=True)
class Kept:
    """What week_manifest read for a token and week, enough to answer again without the database."""

    station_id: int
    code: str
    stamped: datetime | None
    programme_id: int | None  # None: the station has no programme that week
    etag: str | None
    zone: str


_PG_NEWER = text(
    "SELECT x.xmin, c.id FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin) AS x "
    "LEFT JOIN manifest_change AS c ON c.tx >= :horizon"
).bindparams(bindparam("horizon"))
_PG_XMIN = text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
_NEWEST = select(func.max(ManifestChange.id))


@dataclass
class ChangeLog:
    """Where this reader is in the change log; `changed(conn)` says whether a row it never saw appeared."""

    started: bool = False  # read at least once
    newest: int | None = None  # SQLite: the newest id seen
    horizon: int = 0  # PostgreSQL: transactions from this id on may still add rows
    seen: set[int] = field(default_factory=set)  # PostgreSQL: ids seen of those transactions

    def changed(self, conn: Connection) -> bool:
        """True on the first read (nothing known yet) and whenever a row this reader never saw appeared."""
        first, self.started = not self.started, True
        if conn.dialect.name != "postgresql":
            newest, self.newest = self.newest, conn.scalar(_NEWEST)
            return first or newest != self.newest
        if first:
            self.horizon = int(conn.scalar(_PG_XMIN) or 0)
        rows = conn.execute(_PG_NEWER, {"horizon": self.horizon}).all()
        ids = {row.id for row in rows if row.id is not None}
        new = ids - self.seen
        # Transactions finished before this read's snapshot added all their rows: not asked for again.
        self.horizon, self.seen = int(rows[0].xmin), ids
        return first or bool(new)

    def holds_all(self, conn: Connection) -> bool:
        """Has this reader already seen every row `conn` sees now? (Asks; changes nothing.)"""
        if not self.started:
            return False
        if conn.dialect.name != "postgresql":
            return bool(conn.scalar(_NEWEST) == self.newest)
        return {row.id for row in conn.execute(_PG_NEWER, {"horizon": self.horizon}) if row.id is not None} <= self.seen


class PollCache:
    """Kept answers, used only while fresh (see the module docstring). `url`: the database the change
    log is read from, on an engine of its own; the reading thread starts with the first poll and stops
    after `idle` seconds without one (`thread=False`: tests call `check()` themselves)."""

    def __init__(self, url: str, bound: Bound | None = None, every: float = READ_EVERY, idle: float = 10.0,
                 thread: bool = True) -> None:
        self.url = url
        self.bound = bound or Bound()
        self.every = every
        self.idle = idle
        self.thread = thread
        self.reads = 0  # successful reads of the change log
        self._log = ChangeLog()
        self._kept: dict[Hashable, Kept] = {}
        self._generation = 0
        self._last_read: float | None = None  # when the last successful read started
        self._last_change_read: float | None = None  # when the last read that found a new row ended
        self._used = self.bound.monotonic()
        self._lock = threading.Lock()
        self._reading = threading.Lock()
        self._reader: threading.Thread | None = None
        self._stop = threading.Event()
        self._engine: Engine | None = None

    # -- answering ---------------------------------------------------------------------------------

    def fresh(self) -> bool:
        last = self._last_read
        return last is not None and self.bound.monotonic() - last < self.bound.seconds

    def get(self, token_hash: str, week: str) -> Kept | None:
        """The kept answer if there is one and the change log was read less than B ago; else None."""
        self._used = self.bound.monotonic()
        if self.thread and self._reader is None:
            self._start()
        if not self.fresh():
            return None
        return self._kept.get((token_hash, week))

    def generation(self) -> int:
        """Take before reading the database; give to `put` with what was read."""
        return self._generation

    def put(self, token_hash: str, week: str, kept: Kept, generation: int) -> None:
        """Keep an answer read from the database, unless a change was seen since `generation` was taken
        (the read may predate it)."""
        with self._lock:
            if generation != self._generation:
                return
            if len(self._kept) >= MAX_KEPT:
                self._kept.clear()
            self._kept[(token_hash, week)] = kept

    # -- reading the change log ----------------------------------------------------------------------

    def before_telling(self, reads: Engine) -> None:
        """Return once no node answers from before the changes committed so far: B after the commit of the
        newest. Call it after reading what the station is about to be told. When this process's reader has
        already seen every change in the log, they all committed before the end of the last read that found
        one, often long ago; otherwise B from now."""
        mark = self.bound.monotonic()
        with self._lock:
            log_then, found_at = replace(self._log, seen=set(self._log.seen)), self._last_change_read
        if found_at is not None and read(reads, log_then.holds_all):
            mark = found_at
        self.bound.wait_past(mark)

    def check(self) -> bool:
        """Read the change log once; True if a change was seen (everything kept is forgotten)."""
        with self._reading:  # the reading thread, or a test making sure a read started after its change
            started = self.bound.monotonic()
            changed = read(self._reads(), self._log.changed)
            self._record(started, changed, self.bound.monotonic())
        return changed

    def _record(self, started: float, changed: bool, ended: float) -> None:
        with self._lock:
            long_gap = self._last_read is not None and started - self._last_read > START_OVER_AFTER
            if changed or long_gap:
                self._kept.clear()
                self._generation += 1
                self._last_change_read = ended  # every row seen so far committed before this
            if self._last_read is None or started > self._last_read:
                self._last_read = started
            self.reads += 1

    def stop(self) -> None:
        """Stop the reading thread (kept answers go stale within B) and close its connection."""
        self._stop.set()
        reader = self._reader
        if reader is not None:
            reader.join()
        if self._engine is not None:
            self._engine.dispose()

    def _reads(self) -> Engine:
        if self._engine is None:
            self._engine = autocommit(make_engine(self.url, pool_size=1, max_overflow=1)
                                      if not self.url.startswith("sqlite") else make_engine(self.url))
        return self._engine

    def _start(self) -> None:
        with self._lock:
            if self._reader is not None or self._stop.is_set():
                return
            self._reader = threading.Thread(target=self._run, name="loaxa-poll-cache", daemon=True)
            self._reader.start()

    def _run(self) -> None:
        failures = 0
        try:
            while not self._stop.is_set() and self.bound.monotonic() - self._used < self.idle:
                try:
                    self.check()
                    failures = 0
                except Exception as exc:  # the database is away: answers come from it (or fail) meanwhile
                    failures += 1
                    if failures == 1:
                        log.warning("Không đọc được nhật ký thay đổi lịch phát: %s", exc)
                self._stop.wait(self.every)
        finally:
            with self._reading, self._lock:
                self._reader = None
                self._last_read = self._last_change_read = None
                self._log = ChangeLog()  # the next reader starts over: its first read forgets everything
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None
