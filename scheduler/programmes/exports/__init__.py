"""Programme exports for people and other tools: JSON manifest, M3U, iCalendar, printable PDF sheet."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from scheduler.db.models import Programme
from scheduler.manifest import build_manifest

FORMATS: dict[str, str] = {
    "json": "application/json",
    "m3u": "audio/x-mpegurl",
    "ics": "text/calendar",
    "pdf": "application/pdf",
}


def export_programme(programme: Programme, fmt: str, tz: ZoneInfo, base_url: str) -> bytes:
    """The programme in `fmt` (one of FORMATS); ValueError (Vietnamese) for an unknown format."""
    manifest = build_manifest(programme, tz, base_url)
    if fmt == "json":
        return (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode()
    if fmt == "m3u":
        from scheduler.programmes.exports.m3u import to_m3u

        return to_m3u(manifest).encode()
    if fmt == "ics":
        from scheduler.programmes.exports.ical import to_ics

        return to_ics(manifest).encode()
    if fmt == "pdf":
        from scheduler.programmes.exports.sheet import to_pdf

        station = programme.station
        return to_pdf(manifest, station_name=station.name, commune=station.commune.name)
    raise ValueError(f"Định dạng «{fmt}» không hỗ trợ: chọn một trong {', '.join(FORMATS)}.")
