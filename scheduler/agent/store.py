"""The agent's durable state in one SQLite file: manifests, the play outbox, handled items, settings.

Every write commits at once with synchronous=FULL, so a power cut loses nothing already written.
A play row is inserted when the item starts and updated when it ends; rows leave the outbox only
after the server has confirmed them.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from scheduler.agent.storage import DiskFull, is_disk_full
from scheduler.wire import PLAY_TEXT_LIMITS, Manifest, clamp_ms, clean_text

P = ParamSpec("P")
T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS manifest (
    week TEXT NOT NULL,
    slot TEXT NOT NULL,              -- active | pending
    version INTEGER NOT NULL,
    etag TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (week, slot)
);
CREATE TABLE IF NOT EXISTS outbox (
    play_id TEXT PRIMARY KEY,
    item_key TEXT NOT NULL,
    item_id INTEGER,
    week TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 0,
    kind TEXT NOT NULL,
    bulletin TEXT,
    title TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT 'vi',
    priority TEXT NOT NULL DEFAULT 'thuong',
    sha256 TEXT,
    stream_url TEXT,
    scheduled_start TEXT,
    scheduled_ms INTEGER NOT NULL DEFAULT 0,
    actual_start TEXT NOT NULL,
    actual_end TEXT,
    played_ms INTEGER NOT NULL DEFAULT 0,
    progress_at TEXT,
    result TEXT NOT NULL,            -- playing | played | partial | skipped | failed
    reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS ix_outbox_result ON outbox (result);
CREATE TABLE IF NOT EXISTS set_aside (  -- rows the server refused as invalid: kept, never resent
    play_id TEXT PRIMARY KEY,
    row_json TEXT NOT NULL,
    error TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS handled (
    item_key TEXT PRIMARY KEY,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

UPLOAD_FIELDS = (
    "play_id", "item_id", "week", "version", "kind", "bulletin", "title", "language", "priority",
    "scheduled_start", "scheduled_ms", "actual_start", "actual_end", "played_ms", "result", "reason",
)  # fmt: skip


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def parse_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass
class PlayRow:
    """One play as the station saw it: the scheduled item and what actually happened, on one row."""

    play_id: str
    item_key: str
    kind: str
    actual_start: str
    result: str
    item_id: int | None = None
    week: str = ""
    version: int = 0
    bulletin: str | None = None
    title: str = ""
    language: str = "vi"
    priority: str = "thuong"
    sha256: str | None = None
    stream_url: str | None = None
    scheduled_start: str | None = None
    scheduled_ms: int = 0
    actual_end: str | None = None
    played_ms: int = 0
    progress_at: str | None = None
    reason: str = ""

    def upload_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: data[k] for k in UPLOAD_FIELDS}


@dataclass(frozen=True)
class StoredManifest:
    week: str
    slot: str
    version: int
    etag: str
    body: Manifest  # checked by scheduler.wire.parse_manifest before it was stored
    fetched_at: str


_ROW_FIELDS = tuple(f.name for f in fields(PlayRow))


def _retry_once_when_full(method: Callable[Concatenate[Store, P], T]) -> Callable[Concatenate[Store, P], T]:
    """A write that failed for want of space runs once more after `on_full` freed what it could."""

    def wrapper(self: Store, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(self, *args, **kwargs)
        except DiskFull:
            return method(self, *args, **kwargs)

    return wrapper


def clean_row(row: PlayRow) -> PlayRow:
    """What the box records is what the server accepts: a player's stderr may carry NUL bytes."""
    data = asdict(row)
    for name in ("title", "reason", "bulletin", "kind", "language", "priority", "week"):
        if data[name] is not None:
            data[name] = clean_text(data[name], PLAY_TEXT_LIMITS[name])
    data["played_ms"], data["scheduled_ms"] = clamp_ms(row.played_ms), clamp_ms(row.scheduled_ms)
    return PlayRow(**data)


class Store:
    """Thread-safe access to the agent's SQLite file (one connection, one lock).

    On a full disk, play rows that cannot be written are held in memory (uploaded from there and
    written once there is room) so no play is lost while the process lives; `on_full` is told first.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.on_full: Callable[[str], None] | None = None
        self._held: dict[str, PlayRow] = {}  # play rows not yet on disk, by play_id
        self._held_handled: dict[str, datetime] = {}
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        # A short write-ahead log (about 400 KB before it starts over) so the disk reserve
        # (scheduler.agent.storage) is always enough for the play log.
        self._db.execute("PRAGMA wal_autocheckpoint=100")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One immediate transaction; a failure for want of space is told to `on_full` and raised as DiskFull."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                    self._db.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as exc:
                if not is_disk_full(exc):
                    raise
                if self.on_full is not None:
                    self.on_full("không ghi được nhật ký phát")
                raise DiskFull(str(exc)) from exc

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._db.execute(sql, params))

    # -- settings -------------------------------------------------------------------------------

    def get_value(self, key: str, default: str | None = None) -> str | None:
        rows = self._query("SELECT value FROM kv WHERE key = ?", (key,))
        return str(rows[0]["value"]) if rows else default

    @_retry_once_when_full
    def set_value(self, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = ?",
                       (key, value, value))

    def get_json(self, key: str) -> Any:
        raw = self.get_value(key)
        return json.loads(raw) if raw else None

    def set_json(self, key: str, value: Any) -> None:
        self.set_value(key, json.dumps(value, ensure_ascii=False))

    # -- manifests ------------------------------------------------------------------------------

    def manifest(self, week: str, slot: str) -> StoredManifest | None:
        rows = self._query("SELECT * FROM manifest WHERE week = ? AND slot = ?", (week, slot))
        return self._manifest(rows[0]) if rows else None

    def manifests(self, slot: str) -> list[StoredManifest]:
        return [self._manifest(r) for r in self._query("SELECT * FROM manifest WHERE slot = ? ORDER BY week",
                                                       (slot,))]

    @staticmethod
    def _manifest(row: sqlite3.Row) -> StoredManifest:
        return StoredManifest(row["week"], row["slot"], row["version"], row["etag"], json.loads(row["body"]),
                              row["fetched_at"])

    @_retry_once_when_full
    def put_manifest(self, week: str, slot: str, version: int, etag: str, body: Manifest,
                     now: datetime) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO manifest (week, slot, version, etag, body, fetched_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(week, slot) DO UPDATE SET version = excluded.version, etag = excluded.etag, "
                "body = excluded.body, fetched_at = excluded.fetched_at",
                (week, slot, version, etag, json.dumps(body, ensure_ascii=False), iso(now)),
            )

    @_retry_once_when_full
    def promote(self, week: str) -> None:
        """The pending version of `week` becomes the active one, in one transaction."""
        with self._tx() as db:
            db.execute("DELETE FROM manifest WHERE week = ? AND slot = 'active'", (week,))
            db.execute("UPDATE manifest SET slot = 'active' WHERE week = ? AND slot = 'pending'", (week,))

    @_retry_once_when_full
    def drop_manifest(self, week: str, slot: str | None = None) -> None:
        with self._tx() as db:
            if slot is None:
                db.execute("DELETE FROM manifest WHERE week = ?", (week,))
            else:
                db.execute("DELETE FROM manifest WHERE week = ? AND slot = ?", (week, slot))

    # -- outbox ---------------------------------------------------------------------------------

    def start_play(self, row: PlayRow) -> None:
        """Written before the player starts, so a crash mid-item leaves a trace to recover."""
        row = clean_row(row)
        try:
            self._write_rows([row], {})
        except DiskFull:
            with self._lock:
                self._held[row.play_id] = row

    def stamp_start(self, play_id: str, at: datetime) -> None:
        """The real start of a row written ahead of its item's start (the agent's PREPARE_AHEAD)."""
        with self._lock:
            if play_id in self._held:
                self._held[play_id].actual_start = self._held[play_id].progress_at = iso(at) or ""
                return
        try:
            with self._tx() as db:
                db.execute("UPDATE outbox SET actual_start = ?, progress_at = ? WHERE play_id = ?",
                           (iso(at), iso(at), play_id))
        except DiskFull:
            pass  # the row keeps its scheduled start, milliseconds off: never worth stopping for

    def withdraw_play(self, play_id: str) -> None:
        """Remove a row written ahead for a start that never came: nothing of it aired."""
        with self._lock:
            if self._held.pop(play_id, None) is not None:
                return
        try:
            with self._tx() as db:
                db.execute("DELETE FROM outbox WHERE play_id = ? AND result = 'playing'", (play_id,))
        except DiskFull:
            pass  # recovery at the next start-up withdraws it, or closes it with 0 s played

    def progress(self, play_id: str, at: datetime) -> None:
        with self._lock:
            if play_id in self._held:
                self._held[play_id].progress_at = iso(at)
                return
        try:
            with self._tx() as db:
                db.execute("UPDATE outbox SET progress_at = ? WHERE play_id = ?", (iso(at), play_id))
        except DiskFull:
            pass  # a progress mark is a hint for crash recovery, never worth stopping for

    def finish_play(self, play_id: str, end: datetime, played_ms: int, result: str, reason: str,
                    handled_key: str | None) -> None:
        """Close a play row and, unless the item may be aired again, mark its item handled."""
        closing = {"actual_end": iso(end), "played_ms": clamp_ms(played_ms), "result": result,
                   "reason": clean_text(reason, PLAY_TEXT_LIMITS["reason"]), "progress_at": iso(end)}
        handled = {handled_key: end} if handled_key is not None else {}
        with self._lock:
            held = self._held.get(play_id)
            if held is None:
                try:
                    with self._tx() as db:
                        db.execute(
                            "UPDATE outbox SET actual_end = ?, played_ms = ?, result = ?, reason = ?, progress_at = ? "
                            "WHERE play_id = ?",
                            (*closing.values(), play_id),
                        )
                        for key, at in handled.items():
                            self._handle(db, key, at)
                    return
                except DiskFull:
                    found = self._query("SELECT * FROM outbox WHERE play_id = ?", (play_id,))
                    if not found:
                        return
                    held = self._row(found[0])
            closed = replace(held, **closing)  # type: ignore[arg-type]
            try:
                self._write_rows([closed], handled)
                self._held.pop(play_id, None)
            except DiskFull:
                self._held[play_id] = closed
                self._held_handled.update(handled)

    def log_closed(self, row: PlayRow, handled_key: str | None) -> None:
        """A row that is complete when written (skipped, failed)."""
        row = clean_row(row)
        handled = {handled_key: datetime.fromisoformat(row.actual_start)} if handled_key is not None else {}
        try:
            self._write_rows([row], handled)
        except DiskFull:
            with self._lock:
                self._held[row.play_id] = row
                self._held_handled.update(handled)

    @_retry_once_when_full
    def _write_rows(self, rows: list[PlayRow], handled: dict[str, datetime]) -> None:
        with self._tx() as db:
            for row in rows:
                self._insert(db, row)
            for key, at in handled.items():
                self._handle(db, key, at)

    def flush_held(self) -> int:
        """Write the rows held in memory while the disk was full; how many are still held."""
        with self._lock:
            if not self._held and not self._held_handled:
                return 0
            try:
                self._write_rows(list(self._held.values()), dict(self._held_handled))
            except DiskFull:
                return len(self._held)
            self._held.clear()
            self._held_handled.clear()
            return 0

    @property
    def held(self) -> int:
        return len(self._held)

    @staticmethod
    def _insert(db: sqlite3.Connection, row: PlayRow) -> None:
        data = asdict(row)
        cols = ", ".join(_ROW_FIELDS)
        marks = ", ".join("?" for _ in _ROW_FIELDS)
        # OR REPLACE: a row held in memory replaces its own earlier, still open, copy on disk.
        db.execute(f"INSERT OR REPLACE INTO outbox ({cols}) VALUES ({marks})", [data[f] for f in _ROW_FIELDS])

    def open_plays(self) -> list[PlayRow]:
        return [self._row(r) for r in self._query("SELECT * FROM outbox WHERE result = 'playing'")]

    def closed_plays(self, limit: int) -> list[PlayRow]:
        rows = self._query(
            "SELECT * FROM outbox WHERE result != 'playing' ORDER BY actual_start, play_id LIMIT ?", (limit,)
        )
        found = [self._row(r) for r in rows]
        with self._lock:
            held = [r for r in self._held.values() if r.result != "playing"]
        if not held:
            return found
        merged = {r.play_id: r for r in found} | {r.play_id: r for r in held}
        return sorted(merged.values(), key=lambda r: (r.actual_start, r.play_id))[:limit]

    def all_plays(self) -> list[PlayRow]:
        return [self._row(r) for r in self._query("SELECT * FROM outbox ORDER BY actual_start, play_id")]

    @staticmethod
    def _row(row: sqlite3.Row) -> PlayRow:
        return PlayRow(**{f: row[f] for f in _ROW_FIELDS})

    @_retry_once_when_full
    def delete_plays(self, play_ids: Iterable[str]) -> int:
        """Remove rows the server confirmed; rows still playing are never removed."""
        ids = list(play_ids)
        deleted = 0
        with self._lock:
            for play_id in ids:
                if play_id in self._held and self._held[play_id].result != "playing":
                    del self._held[play_id]
                    deleted += 1
        with self._tx() as db:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                cur = db.execute(f"DELETE FROM outbox WHERE result != 'playing' AND play_id IN ({marks})", chunk)
                deleted += cur.rowcount
        return deleted

    def outbox_size(self) -> int:
        return int(self._query("SELECT COUNT(*) AS n FROM outbox")[0]["n"]) + self.held

    @_retry_once_when_full
    def set_aside(self, play_id: str, error: str, at: datetime) -> bool:
        """Move a closed row the server refused as invalid out of the outbox, keeping it (and why) so
        the rows behind it flow; True if a row moved."""
        with self._tx() as db:
            rows = list(db.execute("SELECT * FROM outbox WHERE play_id = ? AND result != 'playing'", (play_id,)))
            if not rows:
                return False
            data = {f: rows[0][f] for f in _ROW_FIELDS}
            db.execute("INSERT OR REPLACE INTO set_aside (play_id, row_json, error, at) VALUES (?, ?, ?, ?)",
                       (play_id, json.dumps(data, ensure_ascii=False), error, iso(at)))
            db.execute("DELETE FROM outbox WHERE play_id = ?", (play_id,))
        return True

    def set_aside_rows(self) -> list[tuple[PlayRow, str, str]]:
        """Rows set aside, oldest first: (row, the server's reason, when)."""
        return [(PlayRow(**json.loads(r["row_json"])), str(r["error"]), str(r["at"]))
                for r in self._query("SELECT * FROM set_aside ORDER BY at, play_id")]

    def set_aside_count(self) -> int:
        return int(self._query("SELECT COUNT(*) AS n FROM set_aside")[0]["n"])

    # -- handled items --------------------------------------------------------------------------

    @staticmethod
    def _handle(db: sqlite3.Connection, key: str, at: datetime) -> None:
        db.execute("INSERT OR IGNORE INTO handled (item_key, at) VALUES (?, ?)", (key, iso(at)))

    def mark_handled(self, key: str, at: datetime) -> None:
        try:
            self._write_rows([], {key: at})
        except DiskFull:
            with self._lock:
                self._held_handled[key] = at

    def handled_keys(self) -> set[str]:
        return {str(r["item_key"]) for r in self._query("SELECT item_key FROM handled")}

    @_retry_once_when_full
    def prune_handled(self, before: datetime) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM handled WHERE at < ?", (iso(before),))
