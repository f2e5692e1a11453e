"""Plan a week from the database and store it, or plan it as a dry run that writes nothing.

`build_week` is the one way a programme is (re)planned: the weekly build, the rebuild after a
change, the editing pages' "Lập lại lịch" and the CLI all call it. `dry_run` plans the same way
from the same inputs but takes no row locks and writes nothing (the explanations use it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.db.models import Bulletin, Programme, Station
from scheduler.domain import IsoWeek
from scheduler.planning import Plan, PlanRequest, plan_week
from scheduler.programmes.inputs import bulletin_inputs, inputs_digest, load_stations, station_input
from scheduler.programmes.store import items_hash, neighbour_items, planned_item, store_items, week_programmes


@dataclass
class BuildResult:
    week: IsoWeek
    changed: list[str] = field(default_factory=list)  # station codes whose version grew
    unchanged: list[str] = field(default_factory=list)
    plan: Plan | None = None
    request: PlanRequest | None = None  # what the planner was given (for explanations)
    digests: dict[str, str] = field(default_factory=dict)  # station code -> inputs digest
    stale: list[str] = field(default_factory=list)  # dry run: stored programme missing or built from other inputs


@dataclass
class _Prepared:
    stations: list[Station]
    programmes: dict[int, Programme]
    request: PlanRequest
    digests: dict[str, str]


def _stations(session: Session, station_codes: Sequence[str] | None) -> list[Station]:
    stations = load_stations(session)
    if station_codes is None:
        return stations
    wanted = set(station_codes)
    chosen = [s for s in stations if s.code in wanted]
    unknown = sorted(wanted - {s.code for s in chosen})
    if unknown:
        raise ValueError(f"Không có đài đang hoạt động mã «{', '.join(unknown)}».")
    return chosen


def _prepare(
    session: Session, week: IsoWeek, now: datetime, tz: ZoneInfo, horizon_minutes: int,
    station_codes: Sequence[str] | None, *, lock: bool,
) -> _Prepared:
    stations = _stations(session, station_codes)
    # Locked for a build: an emergency placed meanwhile must not be lost, nor a version bump.
    programmes = week_programmes(session, week, [s.id for s in stations], lock=lock)
    inputs = [station_input(s) for s in stations]
    bulletins = bulletin_inputs(session, week, stations)
    request = PlanRequest(
        week=week,
        stations=inputs,
        bulletins=bulletins,
        now=now,
        tz=tz,
        existing={
            s.code: [planned_item(i, s.code) for i in programmes[s.id].items] for s in stations if s.id in programmes
        },
        neighbours=neighbour_items(session, week, stations, tz),
        horizon=timedelta(minutes=horizon_minutes),
    )
    digests = {station.code: inputs_digest(station, bulletins, week) for station in inputs}
    return _Prepared(stations, programmes, request, digests)


def build_week(
    session: Session,
    week: IsoWeek,
    now: datetime,
    tz: ZoneInfo,
    horizon_minutes: int = 30,
    station_code: str | None = None,
    *,
    station_codes: Sequence[str] | None = None,
) -> BuildResult:
    """Plan `week` (every active station, or the ones named) and store it; only stations whose
    programme changed get a new version. Raises ValueError (Vietnamese) for an unknown station."""
    codes = [station_code] if station_code else station_codes
    prepared = _prepare(session, week, now, tz, horizon_minutes, codes, lock=True)
    request = prepared.request
    plan = plan_week(request)
    result = BuildResult(week=week, plan=plan, request=request, digests=prepared.digests)
    codes_used = {i.bulletin for items in plan.items.values() for i in items if i.bulletin}
    bulletin_ids: dict[str, int] = {}
    topics: dict[str, str] = {}
    if codes_used:
        for code, bulletin_id, topic in session.execute(
            select(Bulletin.code, Bulletin.id, Bulletin.topic).where(Bulletin.code.in_(codes_used))
        ):
            bulletin_ids[code], topics[code] = bulletin_id, topic
    durations = {b.code: b.duration_ms for b in request.bulletins}
    for station in prepared.stations:
        code = station.code
        items = plan.items.get(code, [])
        digest = items_hash(items)
        programme = prepared.programmes.get(station.id)
        if programme is not None and programme.content_hash == digest:
            programme.inputs_hash = prepared.digests[code]
            result.unchanged.append(code)
            continue
        if programme is None:
            programme = Programme(station_id=station.id, week=str(week), version=0, built_at=now)
            session.add(programme)
            session.flush()
        store_items(programme, items, now, bulletin_ids=bulletin_ids, topics=topics, durations=durations)
        programme.inputs_hash = prepared.digests[code]
        result.changed.append(code)
    session.flush()
    return result


def dry_run(
    session: Session, week: IsoWeek, now: datetime, tz: ZoneInfo, horizon_minutes: int = 30,
    station_codes: Sequence[str] | None = None,
) -> BuildResult:
    """What `build_week` would plan now, without row locks and without writing anything."""
    prepared = _prepare(session, week, now, tz, horizon_minutes, station_codes, lock=False)
    plan = plan_week(prepared.request)
    result = BuildResult(week=week, plan=plan, request=prepared.request, digests=prepared.digests)
    for station in prepared.stations:
        programme = prepared.programmes.get(station.id)
        same = programme is not None and programme.content_hash == items_hash(plan.items.get(station.code, []))
        (result.unchanged if same else result.changed).append(station.code)
        if programme is None or programme.inputs_hash != prepared.digests[station.code]:
            result.stale.append(station.code)
    return result


def current_weeks(now: datetime, tz: ZoneInfo) -> tuple[IsoWeek, IsoWeek]:
    """This week and next, by the local calendar."""
    today: date = now.astimezone(tz).date()
    week = IsoWeek.of(today)
    return week, week.next()
