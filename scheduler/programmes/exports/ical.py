"""iCalendar (RFC 5545) of a programme manifest, written by hand: escaped TEXT, folded lines, CRLF."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler.catalogue import language_label
from scheduler.domain import kind_label, priority_label
from scheduler.programmes.exports.labels import item_title
from scheduler.wire import Manifest

PRODID = "-//loaxa//Lich phat thanh//VI"


def escape_text(value: str) -> str:
    """RFC 5545 §3.3.11: backslash, semicolon, comma and newlines are escaped in TEXT values."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def fold(line: str) -> str:
    """RFC 5545 §3.1: lines longer than 75 octets continue on the next line after CRLF and one space.

    Cuts fall between characters, never inside a UTF-8 sequence.
    """
    parts: list[str] = []
    current = ""
    size = 0
    limit = 75
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            parts.append(current)
            current, size, limit = "", 0, 74  # continuation lines start with a space
        current += ch
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


def _utc(value: str, round_up: bool = False) -> str:
    """UTC DATE-TIME text; iCalendar has whole seconds, so an end is rounded up to cover the item."""
    instant = datetime.fromisoformat(value).astimezone(UTC)
    if round_up and instant.microsecond:
        instant += timedelta(microseconds=1_000_000 - instant.microsecond)
    return instant.replace(microsecond=0).strftime("%Y%m%dT%H%M%SZ")


def to_ics(manifest: Manifest) -> str:
    """A VCALENDAR with one VEVENT per item; UIDs are stable across versions for an unmoved item."""
    station, week = manifest["station"], manifest["week"]
    stamp = _utc(manifest["generated_at"])
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(f'Lịch phát thanh {station} tuần {week}')}",
        f"X-WR-TIMEZONE:{manifest['timezone']}",
    ]
    for item in manifest["items"]:
        start = _utc(item["start"])
        details = [
            f"Loại: {kind_label(item['kind'])}",
            f"Ngôn ngữ: {language_label(item.get('language') or 'vi')}",
            f"Mức ưu tiên: {priority_label(item.get('priority') or 'thuong')}",
        ]
        if item.get("bulletin"):
            details.append(f"Mã bản tin: {item['bulletin']}")
        url = item.get("audio_url") or item.get("stream_url")
        if url:
            details.append(f"Nguồn: {url}")
        lines += [
            "BEGIN:VEVENT",
            f"UID:{station}-{start}-{item['kind']}@loaxa",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{start}",
            f"DTEND:{_utc(item['end'], round_up=True)}",
            f"SEQUENCE:{manifest['version']}",
            f"SUMMARY:{escape_text(item_title(item))}",
            f"DESCRIPTION:{escape_text(chr(10).join(details))}",
            f"CATEGORIES:{escape_text(kind_label(item['kind']))}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
