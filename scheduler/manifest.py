"""The JSON manifest: the contract between the server and a station (schema: docs/manifest.schema.json)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from scheduler.db.models import Programme, ProgrammeItem

MANIFEST_FORMAT = 1


def audio_url(base_url: str, sha256: str) -> str:
    return f"{base_url}/api/v1/audio/{sha256}.mp3"


def _emergency_fields(item: ProgrammeItem) -> dict[str, Any]:
    """An emergency play names its emergency (the station reports on it) and its volume (None: the
    station's own; 100: full volume for this play only, restored after it)."""
    if item.kind != "emergency" or item.emergency is None:
        return {}
    return {"emergency": item.emergency_id, "volume": 100 if item.emergency.full_volume else None}


def build_manifest(programme: Programme, tz: ZoneInfo, base_url: str) -> dict[str, Any]:
    """Everything a station needs to play its week offline; times carry the local offset."""
    items = []
    for item in programme.items:
        items.append(
            {
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
                **_emergency_fields(item),
            }
        )
    return {
        "format": MANIFEST_FORMAT,
        "station": programme.station.code,
        "week": programme.week,
        "version": programme.version,
        "timezone": tz.key,
        "generated_at": programme.built_at.astimezone(tz).isoformat(),
        "items": items,
    }
