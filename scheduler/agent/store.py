"""The agent's durable state in one SQLite file: manifests, the play outbox, handled items, settings.

Every write commits at once with synchronous=FULL, so a power cut loses nothing already written.
A play row is inserted when the item starts and updated when it ends; rows leave the outbox only
after the server has confirmed them.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scheduler.wire import PLAY_TEXT_LIMITS, Manifest, clamp_ms, clean_text

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


class Store:
    """Thread-safe access to the agent's SQLite file (one connection, one lock)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._db.execute(sql, params))

    # -- settings -------------------------------------------------------------------------------

    def get_value(self, key: str, default: str | None = None) -> str | None:
        rows = self._query("SELECT value FROM kv WHERE key = ?", (key,))
        return str(rows[0]["value"]) if rows else default

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

    def put_manifest(self, week: str, slot: str, version: int, etag: str, body: Manifest,
                     now: datetime) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO manifest (week, slot, version, etag, body, fetched_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(week, slot) DO UPDATE SET version = excluded.version, etag = excluded.etag, "
                "body = excluded.body, fetched_at = excluded.fetched_at",
                (week, slot, version, etag, json.dumps(body, ensure_ascii=False), iso(now)),
            )

    def promote(self, week: str) -> None:
        """The pending version of `week` becomes the active one, in one transaction."""
        with self._tx() as db:
            db.execute("DELETE FROM manifest WHERE week = ? AND slot = 'active'", (week,))
            db.execute("UPDATE manifest SET slot = 'active' WHERE week = ? AND slot = 'pending'", (week,))

    def drop_manifest(self, week: str, slot: str | None = None) -> None:
        with self._tx() as db:
            if slot is None:
                db.execute("DELETE FROM manifest WHERE week = ?", (week,))
            else:
                db.execute("DELETE FROM manifest WHERE week = ? AND slot = ?", (week, slot))

    # -- outbox ---------------------------------------------------------------------------------

    def start_play(self, row: PlayRow) -> None:
        """Written before the player starts, so a crash mid-item leaves a trace to recover."""
        with self._tx() as db:
            self._insert(db, row)

    def progress(self, play_id: str, at: datetime) -> None:
        with self._tx() as db:
            db.execute("UPDATE outbox SET progress_at = ? WHERE play_id = ?", (iso(at), play_id))

    def finish_play(self, play_id: str, end: datetime, played_ms: int, result: str, reason: str,
                    handled_key: str | None) -> None:
        """Close a play row and, unless the item may be aired again, mark its item handled."""
        with self._tx() as db:
            db.execute(
                "UPDATE outbox SET actual_end = ?, played_ms = ?, result = ?, reason = ?, progress_at = ? "
                "WHERE play_id = ?",
                (iso(end), clamp_ms(played_ms), result, clean_text(reason, PLAY_TEXT_LIMITS["reason"]), iso(end),
                 play_id),
            )
            if handled_key is not None:
                self._handle(db, handled_key, end)

    def log_closed(self, row: PlayRow, handled_key: str | None) -> None:
        """A row that is complete when written (skipped, failed)."""
        with self._tx() as db:
            self._insert(db, row)
            if handled_key is not None:
                self._handle(db, handled_key, datetime.fromisoformat(row.actual_start))

    @staticmethod
    def _insert(db: sqlite3.Connection, row: PlayRow) -> None:
        data = asdict(row)
        # What the box records is what the server accepts: a player's stderr may carry NUL bytes.
        for name in ("title", "reason", "bulletin", "kind", "language", "priority", "week"):
            if data[name] is not None:
                data[name] = clean_text(data[name], PLAY_TEXT_LIMITS[name])
        data["played_ms"], data["scheduled_ms"] = clamp_ms(data["played_ms"]), clamp_ms(data["scheduled_ms"])
        cols = ", ".join(_ROW_FIELDS)
        marks = ", ".join("?" for _ in _ROW_FIELDS)
        db.execute(f"INSERT INTO outbox ({cols}) VALUES ({marks})", [data[f] for f in _ROW_FIELDS])

    def open_plays(self) -> list[PlayRow]:
        return [self._row(r) for r in self._query("SELECT * FROM outbox WHERE result = 'playing'")]

    def closed_plays(self, limit: int) -> list[PlayRow]:
        rows = self._query(
            "SELECT * FROM outbox WHERE result != 'playing' ORDER BY actual_start, play_id LIMIT ?", (limit,)
        )
        return [self._row(r) for r in rows]

    def all_plays(self) -> list[PlayRow]:
        return [self._row(r) for r in self._query("SELECT * FROM outbox ORDER BY actual_start, play_id")]

    @staticmethod
    def _row(row: sqlite3.Row) -> PlayRow:
        return PlayRow(**{f: row[f] for f in _ROW_FIELDS})

    def delete_plays(self, play_ids: Iterable[str]) -> int:
        """Remove rows the server confirmed; rows still playing are never removed."""
        ids = list(play_ids)
        deleted = 0
        with self._tx() as db:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                cur = db.execute(f"DELETE FROM outbox WHERE result != 'playing' AND play_id IN ({marks})", chunk)
                deleted += cur.rowcount
        return deleted

    def outbox_size(self) -> int:
        return int(self._query("SELECT COUNT(*) AS n FROM outbox")[0]["n"])

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
        with self._tx() as db:
            self._handle(db, key, at)

    def handled_keys(self) -> set[str]:
        return {str(r["item_key"]) for r in self._query("SELECT item_key FROM handled")}

    def prune_handled(self, before: datetime) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM handled WHERE at < ?", (iso(before),))
