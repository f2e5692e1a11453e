"""The JSON manifest of a stored programme (the contract's shape: scheduler.wire.Manifest).

Built from plain rows (`ItemRow`, `snapshot`) so the station API can render it without loading ORM
objects, and from a loaded Programme (`build_manifest`) for exports; both go through `manifest_of`.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from datetime import datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from scheduler.db.models import Emergency, Programme, ProgrammeItem
from scheduler.wire import MANIFEST_FORMAT, Manifest, ManifestItem, audio_url

__all__ = ["MANIFEST_FORMAT", "ItemRow", "ManifestBodies", "Snapshot", "audio_url", "build_manifest", "manifest_bytes",
           "manifest_of", "snapshot"]


class ItemRow(NamedTuple):
    """What a manifest says about one programme item."""

    id: int
    start: datetime
    end: datetime
    kind: str
    bulletin_code: str | None
    title: str
    language: str
    priority: str
    audio_sha256: str | None
    duration_ms: int
    stream_url: str | None
    emergency_id: int | None
    emergency_full_volume: bool | None


def _item(item: ItemRow, tz: ZoneInfo, base_url: str) -> ManifestItem:
    entry: ManifestItem = {
        "id": item.id,
        "start": item.start.astimezone(tz).isoformat(),
        "end": item.end.astimezone(tz).isoformat(),
        "kind": item.kind,
        "bulletin": item.bulletin_code,
        "title": item.title,
        "language": item.language,
        "priority": item.priority,
        "audio_url": audio_url(base_url, item.audio_sha256) if item.audio_sha256 else None,
        "sha256": item.audio_sha256,
        "duration_ms": item.duration_ms,
        "stream_url": item.stream_url,
    }
    if item.kind == "emergency" and item.emergency_id is not None:
        # The station reports on this play by its emergency's number; volume 100 is this play's own
        # (the station's volume applies again after it), None the station's.
        entry["emergency"] = item.emergency_id
        entry["volume"] = 100 if item.emergency_full_volume else None
    return entry


def manifest_of(station: str, week: str, version: int, built_at: datetime, items: Iterable[ItemRow], tz: ZoneInfo,
                base_url: str) -> Manifest:
    """Everything a station needs to play its week offline; times carry the local offset."""
    return {
        "format": MANIFEST_FORMAT,
        "station": station,
        "week": week,
        "version": version,
        "timezone": tz.key,
        "generated_at": built_at.astimezone(tz).isoformat(),
        "items": [_item(item, tz, base_url) for item in items],
    }


def build_manifest(programme: Programme, tz: ZoneInfo, base_url: str) -> Manifest:
    """The manifest of a loaded programme (its items and station)."""
    rows = [ItemRow(i.id, i.start, i.end, i.kind, i.bulletin_code, i.title, i.language, i.priority, i.audio_sha256,
                    i.duration_ms, i.stream_url, i.emergency.id if i.emergency is not None else None,
                    i.emergency.full_volume if i.emergency is not None else None) for i in programme.items]
    return manifest_of(programme.station.code, programme.week, programme.version, programme.built_at, rows, tz,
                       base_url)


class Snapshot(NamedTuple):
    """A programme's version and items, read in one statement (so they belong together)."""

    version: int
    content_hash: str
    built_at: datetime
    items: list[ItemRow]


_i = ProgrammeItem
SNAPSHOT_QUERY = (
    select(Programme.version, Programme.content_hash, Programme.built_at, _i.id, _i.start, _i.end, _i.kind,
           _i.bulletin_code, _i.title, _i.language, _i.priority, _i.audio_sha256, _i.duration_ms, _i.stream_url,
           Emergency.id, Emergency.full_volume)
    .select_from(Programme)
    .outerjoin(_i, _i.programme_id == Programme.id)
    .outerjoin(Emergency, Emergency.id == _i.emergency_id)
    .where(Programme.id == bindparam("programme_id"))
    .order_by(_i.start, _i.id)
)


def snapshot(conn: Connection, programme_id: int) -> Snapshot | None:
    """The programme's version and its items in time order, as plain rows; None if it is gone."""
    rows = conn.execute(SNAPSHOT_QUERY, {"programme_id": programme_id}).all()
    if not rows:
        return None
    version, content_hash, built_at = rows[0][:3]
    items = [ItemRow._make(row[3:]) for row in rows if row[3] is not None]
    return Snapshot(version, content_hash, built_at, items)


class ManifestBodies:
    """Rendered manifests kept in memory, least recently used dropped beyond `max_bytes`. A key names
    everything the bytes depend on (programme, ETag, station code, zone, base URL), so an entry is never
    out of date: a new version has a new key."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._bodies: OrderedDict[Hashable, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            body = self._bodies.get(key)
            if body is not None:
                self._bodies.move_to_end(key)
            return body

    def put(self, key: Hashable, body: bytes) -> None:
        with self._lock:
            old = self._bodies.pop(key, None)
            self._size -= len(old) if old is not None else 0
            self._bodies[key] = body
            self._size += len(body)
            while self._size > self.max_bytes and self._bodies:
                self._size -= len(self._bodies.popitem(last=False)[1])

    def __len__(self) -> int:
        return len(self._bodies)


def manifest_bytes(manifest: Manifest | dict[str, Any]) -> bytes:
    """The manifest as sent: compact UTF-8 JSON (Vietnamese kept readable), keys sorted as Flask sorts them."""
    return json.dumps(manifest, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
