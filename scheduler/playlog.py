"""Receive play-log rows from stations and operators; a row sent twice is stored once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.db.models import Bulletin, PlayLog, ProgrammeItem, Station
from scheduler.liveness import record_contact

RESULTS = ("played", "partial", "skipped", "failed")
SOURCES = ("agent", "manual")


@dataclass
class IngestResult:
    stored: int
    duplicates: int
    accepted_ids: list[str]


def _instant(value: Any, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError(f"trường {field}: thời điểm «{value}» thiếu múi giờ")
    return parsed


def ingest(
    session: Session, station: Station, rows: Sequence[dict[str, Any]], now: datetime, source: str = "agent"
) -> IngestResult:
    """Store new rows (validated first: one bad row rejects the batch); duplicates by play_id are ignored."""
    parsed = []
    for n, row in enumerate(rows, 1):
        try:
            play_id = str(row["play_id"])
            if not play_id or len(play_id) > 64:
                raise ValueError("play_id rỗng hoặc dài quá 64 ký tự")
            result = str(row.get("result", "played"))
            if result not in RESULTS:
                raise ValueError(f"kết quả «{result}» không hợp lệ; dùng {', '.join(RESULTS)}")
            actual_start = _instant(row.get("actual_start"), "actual_start")
            if actual_start is None:
                raise ValueError("thiếu actual_start")
            parsed.append((play_id, result, actual_start, row))
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"Bản ghi thứ {n} không hợp lệ: {exc}.") from None
    ids = [p[0] for p in parsed]
    known = set(session.scalars(select(PlayLog.play_id).where(PlayLog.play_id.in_(ids)))) if ids else set()
    commune = station.commune
    stored = 0
    for play_id, result, actual_start, row in parsed:
        if play_id in known:
            continue
        known.add(play_id)
        item = session.get(ProgrammeItem, row["item_id"]) if row.get("item_id") else None
        if item is not None and item.programme.station_id != station.id:
            item = None  # a station may only log its own items
        bulletin_code = row.get("bulletin") or (item.bulletin_code if item else None)
        topic = item.topic if item else ""
        if not topic and bulletin_code:
            topic = session.scalar(select(Bulletin.topic).where(Bulletin.code == bulletin_code)) or ""
        session.add(
            PlayLog(
                play_id=play_id,
                station_id=station.id,
                station_code=station.code,
                commune=commune.name,
                area=commune.area.name if commune.area else "",
                programme_item_id=item.id if item else row.get("item_id"),
                week=str(row.get("week") or (item.programme.week if item else "")),
                programme_version=int(row.get("version") or (item.programme.version if item else 0)),
                kind=str(row.get("kind") or (item.kind if item else "bulletin")),
                bulletin_code=bulletin_code,
                title=str(row.get("title") or (item.title if item else "")),
                topic=topic,
                language=str(row.get("language") or (item.language if item else "vi")),
                priority=str(row.get("priority") or (item.priority if item else "thuong")),
                scheduled_start=_instant(row.get("scheduled_start"), "scheduled_start")
                or (item.start if item else None),
                scheduled_ms=int(row.get("scheduled_ms") or (item.duration_ms if item else 0)),
                actual_start=actual_start,
                actual_end=_instant(row.get("actual_end"), "actual_end"),
                played_ms=int(row.get("played_ms") or 0),
                result=result,
                reason=str(row.get("reason") or ""),
                source=source,
                received_at=now,
            )
        )
        stored += 1
    record_contact(station, "log", now, every=timedelta(0))  # rows were written anyway
    session.flush()
    return IngestResult(stored=stored, duplicates=len(parsed) - stored, accepted_ids=ids)
