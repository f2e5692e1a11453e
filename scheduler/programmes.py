"""Build and store weekly programmes: database rows in, the pure planner, database rows out."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from scheduler.db.models import Bulletin, Commune, Programme, ProgrammeItem, Station
from scheduler.domain import (
    BulletinInput,
    BulletinStatus,
    IsoWeek,
    PlannedItem,
    Policy,
    Priority,
    StationInput,
)
from scheduler.planning import Plan, PlanRequest, plan_week
from scheduler.planning.windows import parse_windows


@dataclass
class BuildResult:
    week: IsoWeek
    changed: list[str] = field(default_factory=list)  # station codes whose version grew
    unchanged: list[str] = field(default_factory=list)
    plan: Plan | None = None
    request: PlanRequest | None = None  # what the planner was given (for explanations)


def _time(value: Any) -> time | None:
    return time.fromisoformat(value) if isinstance(value, str) and value else None


def policy_for(station: Station) -> Policy:
    """Province policy overlaid by the commune's; see docs/planner.md for the keys."""
    merged: dict[str, Any] = {**(station.commune.province.policy or {}), **(station.commune.policy or {})}
    from scheduler.calendar_vn import holiday_windows

    return Policy(
        quiet_before=_time(merged.get("quiet_before", "05:00")),
        quiet_after=_time(merged.get("quiet_after", "21:30")),
        max_sessions_per_day=merged.get("max_sessions_per_day"),
        max_session_minutes=merged.get("max_session_minutes"),
        jingle_ms=int(merged.get("jingle_ms", 0)),
        gap_ms=int(merged.get("gap_ms", 2000)),
        holidays=holiday_windows(merged.get("holidays", {})),
    )


def windows_spec(station: Station) -> str:
    """A station's own windows, else its commune's, else its province's defaults."""
    return station.windows or station.commune.default_windows or station.commune.province.default_windows


def station_input(station: Station) -> StationInput:
    return StationInput(
        code=station.code,
        languages=station.language_list,
        windows=parse_windows(windows_spec(station)) if windows_spec(station) else (),
        commune=station.commune.name,
        policy=policy_for(station),
    )


def target_codes(targets: Sequence[str], stations: Sequence[Station]) -> frozenset[str]:
    wanted = set(targets)
    if "*" in wanted:
        return frozenset(s.code for s in stations)
    return frozenset(s.code for s in stations if s.code in wanted or s.commune.name in wanted)


def week_bulletins(week: IsoWeek, *, rendered: bool) -> Select[Bulletin]:
    """Approved, non-emergency bulletins valid at some point of the week, with (or still without) audio, by code."""
    first, last = week.monday(), week.monday() + timedelta(days=6)
    return (
        select(Bulletin)
        .where(
            Bulletin.status == BulletinStatus.APPROVED.value,
            Bulletin.audio_asset_id.is_not(None) if rendered else Bulletin.audio_asset_id.is_(None),
            Bulletin.priority != Priority.EMERGENCY.value,
            Bulletin.valid_from <= last,
            Bulletin.valid_to >= first,
        )
        .order_by(Bulletin.code)
    )


def bulletin_inputs(session: Session, week: IsoWeek, stations: Sequence[Station]) -> list[BulletinInput]:
    """Approved, rendered, non-emergency bulletins valid at some point of the week."""
    rows = session.scalars(week_bulletins(week, rendered=True).options(selectinload(Bulletin.audio)))
    return [
        BulletinInput(
            code=b.code,
            title=b.title,
            language=b.language,
            priority=Priority(b.priority),
            valid_from=b.valid_from,
            valid_to=b.valid_to,
            plays_per_week=b.plays_per_week,
            duration_ms=b.audio.duration_ms if b.audio else 0,
            stations=target_codes(b.targets, stations),
            audio_sha256=b.audio.sha256 if b.audio else None,
            topic=b.topic,
        )
        for b in rows
    ]


def _planned(item: ProgrammeItem, station: str) -> PlannedItem:
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
        # Emergencies are placed by hand, not by the planner: a rebuild must keep them.
        locked=item.locked or item.kind == "emergency",
    )


def items_hash(items: Sequence[PlannedItem]) -> str:
    rows = [
        [i.start.astimezone(UTC).isoformat(), i.end.astimezone(UTC).isoformat(), i.kind, i.bulletin,
         i.audio_sha256, i.stream_url, i.locked]
        for i in items
    ]
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def load_stations(session: Session, station_code: str | None = None) -> list[Station]:
    query = (
        select(Station)
        .options(selectinload(Station.commune).selectinload(Commune.province))
        .where(Station.active)
        .order_by(Station.code)
    )
    if station_code:
        query = query.where(Station.code == station_code)
    return list(session.scalars(query))


def build_week(
    session: Session, week: IsoWeek, now: datetime, tz: ZoneInfo, horizon_minutes: int = 30,
    station_code: str | None = None,
) -> BuildResult:
    """Plan `week` and store it; only stations whose programme changed get a new version."""
    stations = load_stations(session, station_code)
    if station_code and not stations:
        raise ValueError(f"Không có đài mã «{station_code}».")
    all_stations = load_stations(session) if station_code else stations
    programmes = {
        p.station_id: p
        for p in session.scalars(
            # Locked: an emergency placed meanwhile must not be lost, nor a version bump.
            select(Programme).options(selectinload(Programme.items)).where(Programme.week == str(week))
            .with_for_update()
        )
    }
    by_code = {s.code: s for s in stations}
    existing = {
        s.code: [_planned(i, s.code) for i in programmes[s.id].items] for s in stations if s.id in programmes
    }
    request = PlanRequest(
        week=week,
        stations=[station_input(s) for s in stations],
        bulletins=bulletin_inputs(session, week, all_stations),
        now=now,
        tz=tz,
        existing=existing,
        horizon=timedelta(minutes=horizon_minutes),
    )
    plan = plan_week(request)
    result = BuildResult(week=week, plan=plan, request=request)
    bulletin_ids = dict(session.execute(select(Bulletin.code, Bulletin.id)).all())
    topics = dict(session.execute(select(Bulletin.code, Bulletin.topic)).all())
    durations = {b.code: b.duration_ms for b in request.bulletins}
    for code, station in by_code.items():
        items = plan.items.get(code, [])
        digest = items_hash(items)
        programme = programmes.get(station.id)
        if programme is not None and programme.content_hash == digest:
            result.unchanged.append(code)
            continue
        if programme is None:
            programme = Programme(station_id=station.id, week=str(week), version=0, built_at=now)
            session.add(programme)
        programme.version += 1
        programme.built_at = now
        programme.content_hash = digest
        programme.items.clear()
        session.flush()
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
        result.changed.append(code)
    session.flush()
    return result


def current_weeks(now: datetime, tz: ZoneInfo) -> tuple[IsoWeek, IsoWeek]:
    """This week and next, by the local calendar."""
    today: date = now.astimezone(tz).date()
    week = IsoWeek.of(today)
    return week, week.next()
