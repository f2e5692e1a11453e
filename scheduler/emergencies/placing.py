"""Emergency plays in the stations' programmes: each play a locked `emergency` item in the ISO week
of its instant; the programme's version grows so stations re-sync.

What a play displaces (docs/scheduler-service.md#emergencies):
- an item already on air when the emergency starts is cut at the emergency's start;
- a relay (a stream) that has not started is split around the emergency slot;
- any other item (bulletin, jingle, pinned item) overlapping the slot is removed; the next
  rebuild of the week may place the bulletin again in a free slot;
- a play that would overlap another emergency is moved to start just after it.
Removing plays (hold, cancel) takes out those not yet started; what was displaced comes back with
the next rebuild.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler.db.models import Bulletin, Emergency, Programme, ProgrammeItem, Station
from scheduler.domain import DEFAULT_TZ, IsoWeek, Priority
from scheduler.programmes import store

GAP = timedelta(seconds=2)  # silence between back-to-back emergencies


def station_zone(station: Station) -> ZoneInfo:
    """The zone of the station's province: its programme weeks start Monday 00:00 there."""
    return ZoneInfo(station.commune.province.timezone or DEFAULT_TZ)


def _describe(item: ProgrammeItem) -> dict[str, Any]:
    return {"start": item.start.isoformat(), "kind": item.kind, "bulletin": item.bulletin_code}


def _clear_slot(programme: Programme, start: datetime, end: datetime, now: datetime) -> list[dict[str, Any]]:
    """Make [start, end) free of non-emergency items; return what was cut or removed."""
    touched: list[dict[str, Any]] = []
    for item in list(programme.items):
        if item.kind == "emergency" or item.start >= end or item.end <= start:
            continue
        touched.append(_describe(item))
        original_end = item.end
        if item.start < start and (item.start <= now or item.kind == "relay"):
            item.end = start  # on air already, or a stream: keep the part before the emergency
            if item.kind == "relay":
                item.duration_ms = int((item.end - item.start).total_seconds() * 1000)
        elif item.kind == "relay" and original_end > end:
            item.start = end
            item.duration_ms = int((item.end - item.start).total_seconds() * 1000)
            continue
        else:
            programme.items.remove(item)
            continue
        if item.kind == "relay" and original_end > end:
            programme.items.append(
                ProgrammeItem(
                    start=end, end=original_end, kind="relay", bulletin_id=None, bulletin_code=None,
                    title=item.title, topic=item.topic, language=item.language, priority=item.priority,
                    audio_sha256=None, duration_ms=int((original_end - end).total_seconds() * 1000),
                    stream_url=item.stream_url, locked=item.locked,
                )
            )
    return touched


def _free_start(programme: Programme, start: datetime, duration: timedelta) -> datetime:
    """The first instant from `start` on where the play does not overlap another emergency."""
    moved = True
    while moved:
        moved = False
        for item in programme.items:
            if item.kind == "emergency" and item.start < start + duration and item.end > start:
                start = item.end + GAP
                moved = True
    return start


def bump(programmes: Iterable[Programme], now: datetime, codes: dict[int, str] | None = None) -> None:
    """New versions for the touched programmes (scheduler.programmes.store), and a rebuild soon to
    place displaced bulletins again. `codes` (station id -> code) spares loading each station."""
    for programme in programmes:
        store.bump(programme, now, (codes or {}).get(programme.station_id) or None)
        store.mark_stale(programme)


def place_plays(
    session: Session, emergency: Emergency, bulletin: Bulletin, stations: Sequence[Station],
    plays: Sequence[datetime], now: datetime,
) -> list[dict[str, Any]]:
    """Put every play on every station's programme; return what was displaced (for the audit)."""
    assert bulletin.audio is not None
    duration = timedelta(milliseconds=bulletin.audio.duration_ms)
    cache: dict[tuple[int, str], Programme | None] = {}
    zones = {station.id: station_zone(station) for station in stations}
    # Every programme this touches, locked and loaded in one query per week (not one per station).
    weeks = {(station.id, str(IsoWeek.of(instant.astimezone(zones[station.id]).date())))
             for station in stations for play in plays for instant in (play, play + duration)}
    store.preload_for_write(session, weeks, cache)
    displaced: list[dict[str, Any]] = []
    for station in stations:
        tz = zones[station.id]
        for play in plays:
            week = IsoWeek.of(play.astimezone(tz).date())
            programme = store.programme_for_write(session, station, week, now, cache)
            start = _free_start(programme, play.astimezone(UTC), duration)
            for gone in _clear_slot(programme, start, start + duration, now):
                displaced.append({"station": station.code, **gone})
            # A play late on Sunday may run into next week, whose programme must make room too.
            end_week = IsoWeek.of((start + duration - timedelta(milliseconds=1)).astimezone(tz).date())
            if end_week != week:
                spill = store.programme_for_write(session, station, end_week, now, cache, create=False)
                if spill is not None:
                    for gone in _clear_slot(spill, start, start + duration, now):
                        displaced.append({"station": station.code, **gone})
            programme.items.append(
                ProgrammeItem(
                    start=start,
                    end=start + duration,
                    kind="emergency",
                    bulletin_id=bulletin.id,
                    bulletin_code=bulletin.code,
                    title=bulletin.title,
                    topic=bulletin.topic,
                    language=bulletin.language,
                    priority=Priority.EMERGENCY.value,
                    audio_sha256=bulletin.audio.sha256,
                    duration_ms=bulletin.audio.duration_ms,
                    stream_url=None,
                    locked=True,
                    emergency=emergency,
                )
            )
    bump([p for p in cache.values() if p is not None], now, {station.id: station.code for station in stations})
    return displaced


def remove_future_plays(session: Session, emergency: Emergency, now: datetime) -> tuple[int, list[str]]:
    """Take the emergency's plays that have not started out of the programmes; (plays removed, stations)."""
    future = (ProgrammeItem.kind == "emergency") & (ProgrammeItem.start > now) & (
        (ProgrammeItem.emergency_id == emergency.id)
        # Plays placed before items named their emergency.
        | (ProgrammeItem.emergency_id.is_(None) & (ProgrammeItem.bulletin_code == emergency.bulletin.code))
    )
    programmes = {
        p.id: p
        for p in session.scalars(
            select(Programme)
            .options(selectinload(Programme.items), selectinload(Programme.station))
            .where(Programme.id.in_(select(ProgrammeItem.programme_id).where(future)))
            .with_for_update()
        )
    }

    def ours(item: ProgrammeItem) -> bool:
        named = item.emergency_id == emergency.id
        legacy = item.emergency_id is None and item.bulletin_code == emergency.bulletin.code
        return item.kind == "emergency" and item.start > now and (named or legacy)

    items = [item for p in programmes.values() for item in p.items if ours(item)]
    for item in items:
        programmes[item.programme_id].items.remove(item)
    bump(programmes.values(), now)
    return len(items), sorted({p.station.code for p in programmes.values()})
