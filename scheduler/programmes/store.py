"""Programme rows: load a station's week, store a plan, bump a version, pin, move or remove an item.

The one place that writes `programme` and `programme_item` rows (the weekly build, the rebuild,
emergencies and hand edits all come through here), so the rules hold everywhere: every change
bumps the version and the content hash (stations fetch again), and no item of one week's
programme overlaps an item of the week before or after (a Sunday session may run past midnight).
Functions work in the caller's transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Literal, overload
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from scheduler.db.models import Programme, ProgrammeItem, Station
from scheduler.domain import IsoWeek, PlannedItem, Priority

# How far a programme may reach into the next week: a session starting on Sunday ends on Monday.
SPILL = timedelta(days=1)


def planned_item(item: ProgrammeItem, station: str) -> PlannedItem:
    """A stored item as the planner sees it; emergencies are placed by hand, so a rebuild keeps them."""
    return PlannedItem(
        station=station,
        start=item.start,
        end=item.end,
        kind=item.kind,  # type: ignore[arg-type]
        bulletin=item.bulletin_code,
        title=item.title,
        language=item.language,
        priority=Priority(item.priority),
        stream_url=item.stream_url,
        audio_sha256=item.audio_sha256,
        locked=item.locked or item.kind == "emergency",
    )


def items_hash(items: Sequence[PlannedItem]) -> str:
    rows = [
        [i.start.astimezone(UTC).isoformat(), i.end.astimezone(UTC).isoformat(), i.kind, i.bulletin,
         i.audio_sha256, i.stream_url, i.locked]
        for i in items
    ]  # fmt: skip
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def week_start(week: IsoWeek, tz: ZoneInfo) -> datetime:
    """The UTC instant of Monday 00:00 local of `week`."""
    return datetime.combine(week.monday(), time(0), tzinfo=tz).astimezone(UTC)


def bump(programme: Programme, now: datetime, station_code: str | None = None) -> None:
    """Record a change: items in time order, a new version and content hash (stations fetch it again)."""
    programme.items.sort(key=lambda i: i.start)
    code = station_code or programme.station.code
    programme.version += 1
    programme.built_at = now
    programme.content_hash = items_hash([planned_item(i, code) for i in programme.items])


def mark_stale(programme: Programme) -> None:
    """The programme no longer matches its inputs (an emergency displaced items): the watcher rebuilds it."""
    programme.inputs_hash = None


def week_programmes(
    session: Session, week: IsoWeek, station_ids: Iterable[int] | None = None, *, lock: bool
) -> dict[int, Programme]:
    """Programmes of `week` (with their items) by station id; `lock` takes row locks for a write."""
    query = select(Programme).options(selectinload(Programme.items)).where(Programme.week == str(week))
    if station_ids is not None:
        query = query.where(Programme.station_id.in_(list(station_ids)))
    if lock:
        query = query.with_for_update()
    return {p.station_id: p for p in session.scalars(query)}


@overload
def programme_for_write(
    session: Session, station: Station, week: IsoWeek, now: datetime,
    cache: dict[tuple[int, str], Programme | None], create: Literal[True] = True,
) -> Programme: ...


@overload
def programme_for_write(
    session: Session, station: Station, week: IsoWeek, now: datetime,
    cache: dict[tuple[int, str], Programme | None], create: bool,
) -> Programme | None: ...


def programme_for_write(
    session: Session, station: Station, week: IsoWeek, now: datetime,
    cache: dict[tuple[int, str], Programme | None], create: bool = True,
) -> Programme | None:
    """The station's programme of `week`, locked, created empty if missing (unless not `create`);
    memoised in `cache`."""
    key = (station.id, str(week))
    if key not in cache:
        cache[key] = session.scalar(
            select(Programme)
            .options(selectinload(Programme.items))
            .where(Programme.station_id == station.id, Programme.week == str(week))
            .with_for_update()  # a rebuild running meanwhile must not overwrite this change
        )
    if cache[key] is None and create:
        programme = Programme(station=station, week=str(week), version=0, built_at=now, items=[])
        session.add(programme)
        cache[key] = programme
    return cache[key]


def preload_for_write(
    session: Session, keys: Iterable[tuple[int, str]], cache: dict[tuple[int, str], Programme | None]
) -> None:
    """Lock and load (with their items) the programmes of many (station id, week) pairs at once,
    one query per week instead of one per station; `programme_for_write` then finds them in `cache`.
    Pairs without a programme are cached as None, so `programme_for_write` creates them without asking again."""
    by_week: dict[str, set[int]] = {}
    for station_id, week in keys:
        if (station_id, week) not in cache:
            by_week.setdefault(week, set()).add(station_id)
    for week, ids in by_week.items():
        for station_id in ids:
            cache[(station_id, week)] = None
        for chunk in _chunks(sorted(ids), 1000):
            for programme in session.scalars(
                select(Programme)
                .options(selectinload(Programme.items))
                .where(Programme.week == week, Programme.station_id.in_(chunk))
                .order_by(Programme.station_id)  # the same lock order as any other batch writer
                .with_for_update()
            ):
                cache[(programme.station_id, week)] = programme


def _chunks(values: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def neighbour_items(
    session: Session, week: IsoWeek, stations: Sequence[Station], tz: ZoneInfo
) -> dict[str, list[PlannedItem]]:
    """Items of the weeks before and after `week` that reach into its span, per station code.

    The week before may run into this Monday; this week's last sessions may run into the next
    Monday, where the next week's items already are. A plan of `week` must leave them room.
    """
    if not stations:
        return {}
    start = week_start(week, tz)
    end = week_start(week.next(), tz)
    previous = IsoWeek.of(week.monday() - timedelta(days=7))
    codes = {s.id: s.code for s in stations}
    rows = session.execute(
        select(Programme.station_id, ProgrammeItem)
        .join(ProgrammeItem, ProgrammeItem.programme_id == Programme.id)
        .where(
            Programme.station_id.in_(list(codes)),
            or_(
                and_(Programme.week == str(previous), ProgrammeItem.end > start),
                and_(Programme.week == str(week.next()), ProgrammeItem.start < end + SPILL),
            ),
        )
        .order_by(ProgrammeItem.start)
    )
    found: dict[str, list[PlannedItem]] = {}
    for station_id, item in rows:
        found.setdefault(codes[station_id], []).append(planned_item(item, codes[station_id]))
    return found


def store_items(
    programme: Programme,
    items: Sequence[PlannedItem],
    now: datetime,
    *,
    bulletin_ids: Mapping[str, int],
    topics: Mapping[str, str],
    durations: Mapping[str, int],
) -> None:
    """Replace the programme's items with a plan's and bump its version (the caller checked it changed)."""
    programme.items.clear()
    for item in items:
        programme.items.append(
            ProgrammeItem(
                start=item.start.astimezone(UTC),
                end=item.end.astimezone(UTC),
                kind=item.kind,
                bulletin_id=bulletin_ids.get(item.bulletin) if item.bulletin else None,
                bulletin_code=item.bulletin,
                title=item.title,
                topic=topics.get(item.bulletin, "") if item.bulletin else "",
                language=item.language,
                priority=item.priority.value,
                audio_sha256=item.audio_sha256,
                duration_ms=durations.get(item.bulletin or "", 0)
                or int((item.end - item.start).total_seconds() * 1000),
                stream_url=item.stream_url,
                locked=item.locked,
            )
        )
    programme.version += 1
    programme.built_at = now
    programme.content_hash = items_hash(items)


def clash(
    session: Session, programme: Programme, start: datetime, end: datetime, ignore: ProgrammeItem | None = None
) -> ProgrammeItem | None:
    """An item of the station's programmes (this week's or a neighbouring week's) overlapping [start, end)."""
    own = next(
        (o for o in programme.items if o is not ignore and o.start < end and start < o.end), None
    )
    if own is not None:
        return own
    week = IsoWeek.parse(programme.week)
    around = [str(IsoWeek.of(week.monday() - timedelta(days=7))), str(week.next())]
    return session.scalar(
        select(ProgrammeItem)
        .join(Programme, Programme.id == ProgrammeItem.programme_id)
        .where(
            Programme.station_id == programme.station_id,
            Programme.week.in_(around),
            ProgrammeItem.start < end,
            ProgrammeItem.end > start,
        )
        .order_by(ProgrammeItem.start)
        .limit(1)
    )


def set_locked(programme: Programme, item: ProgrammeItem, locked: bool, now: datetime) -> None:
    item.locked = locked
    bump(programme, now)


def move(programme: Programme, item: ProgrammeItem, start: datetime, now: datetime) -> None:
    """Give the item a new start (same length) and pin it there; the caller checked for clashes."""
    end = start + (item.end - item.start)
    item.start, item.end, item.locked = start, end, True
    bump(programme, now)


def remove(programme: Programme, item: ProgrammeItem, now: datetime) -> None:
    programme.items.remove(item)
    bump(programme, now)
