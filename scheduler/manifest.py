"""The JSON manifest of a stored programme (the contract's shape: scheduler.wire.Manifest).

Built from plain rows (`ItemRow`, `ITEM_COLUMNS`) so the station API can render it without loading ORM
objects, and from a loaded Programme (`build_manifest`) for exports; both go through `manifest_of`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import orjson

from scheduler.db.models import Emergency, Programme, ProgrammeItem
from scheduler.wire import MANIFEST_FORMAT, Manifest, ManifestItem, audio_url

__all__ = ["MANIFEST_FORMAT", "ITEM_COLUMNS", "ITEM_EMERGENCY", "ITEM_ORDER", "ItemRow", "ManifestBodies", "audio_url",
           "build_manifest", "item_rows", "manifest_bytes", "manifest_of"]


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


@lru_cache(maxsize=65_536)
def _local(instant: datetime, tz: ZoneInfo) -> str:
    """An instant in local time with its offset. Kept: slots repeat across stations and versions, and the
    conversion was a third of rendering a manifest (every station's, after each change)."""
    return instant.astimezone(tz).isoformat()


def _item(item: ItemRow, tz: ZoneInfo, base_url: str) -> ManifestItem:
    entry: ManifestItem = {
        "id": item.id,
        "start": _local(item.start, tz),
        "end": _local(item.end, tz),
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


_i = ProgrammeItem
# What a manifest says about each item, in ItemRow's order: select these next to ProgrammeItem (outer-)joined
# to Emergency on `ITEM_EMERGENCY`, ordered by `ITEM_ORDER`, and make each row's tail an ItemRow.
ITEM_COLUMNS = (_i.id, _i.start, _i.end, _i.kind, _i.bulletin_code, _i.title, _i.language, _i.priority,
                _i.audio_sha256, _i.duration_ms, _i.stream_url, Emergency.id, Emergency.full_volume)
ITEM_EMERGENCY = Emergency.id == _i.emergency_id
ITEM_ORDER = (_i.start, _i.id)


def item_rows(rows: Iterable[Sequence[Any]], first: int) -> list[ItemRow]:
    """The items of rows whose columns from `first` on are ITEM_COLUMNS (an outer join's NULL row: none)."""
    return [ItemRow._make(row[first:]) for row in rows if row[first] is not None]


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
    """The manifest as sent: compact UTF-8 JSON (Vietnamese kept readable), keys sorted as Flask sorts them.
    orjson writes the same bytes as `json.dumps(..., ensure_ascii=False, sort_keys=True, separators=(",", ":"))`
    about ten times faster: after a programme change every station's manifest is rendered once."""
    return orjson.dumps(manifest, option=orjson.OPT_SORT_KEYS)
