"""The JSON manifest of a stored programme (the contract's shape: scheduler.wire.Manifest)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from scheduler.db.models import Programme, ProgrammeItem
from scheduler.wire import MANIFEST_FORMAT, Manifest, ManifestItem, audio_url

__all__ = ["MANIFEST_FORMAT", "audio_url", "build_manifest"]


def _item(item: ProgrammeItem, tz: ZoneInfo, base_url: str) -> ManifestItem:
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
    if item.kind == "emergency" and item.emergency is not None:
        # The station reports on this play by its emergency's number; volume 100 is this play's own
        # (the station's volume applies again after it), None the station's.
        entry["emergency"] = item.emergency.id
        entry["volume"] = 100 if item.emergency.full_volume else None
    return entry


def build_manifest(programme: Programme, tz: ZoneInfo, base_url: str) -> Manifest:
    """Everything a station needs to play its week offline; times carry the local offset."""
    items: list[ManifestItem] = [_item(item, tz, base_url) for item in programme.items]
    return {
        "format": MANIFEST_FORMAT,
        "station": programme.station.code,
        "week": programme.week,
        "version": programme.version,
        "timezone": tz.key,
        "generated_at": programme.built_at.astimezone(tz).isoformat(),
        "items": items,
    }
