"""Receive play-log rows from stations and operators; a row sent twice is stored once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from scheduler.db.models import Bulletin, PlayLog, ProgrammeItem, Station
from scheduler.liveness import record_contact
from scheduler.wire import PlayInvalid, parse_plays

SOURCES = ("agent", "manual")


@dataclass
class IngestResult:
    stored: int
    duplicates: int
    accepted_ids: list[str]


class PlaysInvalid(ValueError):
    """Some rows of a batch are wrong; nothing was stored. `invalid` names each row and field."""

    def __init__(self, invalid: list[PlayInvalid]) -> None:
        self.invalid = invalid
        more = f" (và {len(invalid) - 1} bản ghi sai khác)" if len(invalid) > 1 else ""
        super().__init__(f"{invalid[0]}{more}")


def ingest(
    session: Session, station: Station, rows: Sequence[Any], now: datetime, source: str = "agent"
) -> IngestResult:
    """Store new rows, every field checked first (scheduler.wire.parse_play): one bad row rejects the
    batch with PlaysInvalid naming every bad row. Duplicates by (station, play_id) are ignored."""
    records, invalid = parse_plays(list(rows), now)
    items: dict[int, ProgrammeItem | None] = {}
    for n, record in enumerate(records, 1):
        if record.item_id is None:
            continue
        item = items[record.item_id] = session.get(ProgrammeItem, record.item_id)
        if item is not None and item.programme.station_id != station.id:
            # A station may only log its own items (an item id that no longer exists is kept: items are rebuilt).
            invalid.append(PlayInvalid(n, record.play_id, "item_id",
                                       f"mục {record.item_id} thuộc lịch phát của đài khác"))
    if invalid:
        raise PlaysInvalid(sorted(invalid, key=lambda e: e.row))
    ids = [r.play_id for r in records]
    known = set(session.scalars(select(PlayLog.play_id).where(PlayLog.station_id == station.id,
                                                               PlayLog.play_id.in_(ids)))) if ids else set()
    commune = station.commune
    stored = 0
    values: list[dict[str, Any]] = []
    for record in records:
        if record.play_id in known:
            continue
        known.add(record.play_id)
        item = items.get(record.item_id) if record.item_id is not None else None
        bulletin_code = record.bulletin or (item.bulletin_code if item else None)
        topic = item.topic if item else ""
        if not topic and bulletin_code:
            topic = session.scalar(select(Bulletin.topic).where(Bulletin.code == bulletin_code)) or ""
        values.append(
            dict(
                play_id=record.play_id,
                station_id=station.id,
                station_code=station.code,
                commune=commune.name,
                area=commune.area.name if commune.area else "",
                programme_item_id=item.id if item else record.item_id,
                week=record.week or (item.programme.week if item else ""),
                programme_version=record.version or (item.programme.version if item else 0),
                kind=record.kind or (item.kind if item else "bulletin"),
                bulletin_code=bulletin_code,
                title=record.title or (item.title if item else ""),
                topic=topic,
                language=record.language or (item.language if item else "vi"),
                priority=record.priority or (item.priority if item else "thuong"),
                scheduled_start=record.scheduled_start or (item.start if item else None),
                scheduled_ms=record.scheduled_ms or (item.duration_ms if item else 0),
                actual_start=record.actual_start,
                actual_end=record.actual_end,
                played_ms=record.played_ms,
                result=record.result,
                reason=record.reason,
                source=source,
                received_at=now,
            )
        )
    if values:
        # The same batch sent twice at once (a retry racing its original): the unique (station, play_id) decides,
        # and the loser's rows are skipped instead of failing the whole batch.
        insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = insert(PlayLog).values(values).on_conflict_do_nothing(index_elements=["station_id", "play_id"])
        stored = len(session.execute(statement.returning(PlayLog.play_id)).all())
    record_contact(station, "log", now, every=timedelta(0))  # rows were written anyway
    session.flush()
    return IngestResult(stored=stored, duplicates=len(records) - stored, accepted_ids=ids)
