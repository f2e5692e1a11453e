"""Which bulletins did not get all their plays on a station this week, and why.

Runs the pure planner for that one station without storing anything (a dry run with the
stored programme as `existing`) and words its shortfalls with scheduler.planning.explain.
Bulletins still waiting for their audio are listed too: the planner never sees them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler.db.models import Commune, Programme, Station
from scheduler.domain import IsoWeek
from scheduler.programmes import _planned, bulletin_inputs, station_input, target_codes, week_bulletins

NO_AUDIO = "Bản tin đã duyệt nhưng chưa có âm thanh (đang chờ tạo ở chế độ nền); chưa thể xếp lịch."


@dataclass(frozen=True)
class UnplacedRow:
    code: str
    title: str
    quota: int
    planned: int
    reasons: tuple[str, ...]


@dataclass
class Unplaced:
    rows: list[UnplacedRow] = field(default_factory=list)
    unavailable: str | None = None  # why the analysis could not run


def unplaced_for(
    db: Session,
    station: Station,
    week: IsoWeek,
    programme: Programme | None,
    now: datetime,
    tz: ZoneInfo,
    horizon_minutes: int = 30,
) -> Unplaced:
    """Shortfalls of a dry-run plan of `week` for `station`, plus approved bulletins with no audio yet."""
    station = db.scalars(
        select(Station)
        .options(selectinload(Station.commune).selectinload(Commune.province))
        .where(Station.id == station.id)
    ).one()
    result = Unplaced()
    silent = db.scalars(week_bulletins(week, rendered=False))
    for bulletin in silent:
        if target_codes(bulletin.targets, [station]):
            result.rows.append(UnplacedRow(bulletin.code, bulletin.title, bulletin.plays_per_week, 0, (NO_AUDIO,)))
    try:
        from scheduler.planning import PlanRequest, plan_week
        from scheduler.planning.explain import explain

        request = PlanRequest(
            week=week,
            stations=[station_input(station)],
            bulletins=bulletin_inputs(db, week, [station]),
            now=now,
            tz=tz,
            existing={station.code: [_planned(i, station.code) for i in programme.items]} if programme else {},
            horizon=timedelta(minutes=horizon_minutes),
        )
        plan = plan_week(request)
    except ImportError:
        result.unavailable = "Bộ lập lịch chưa được cài đặt nên chưa phân tích được lý do."
        return result
    except ValueError as exc:
        result.unavailable = f"Chưa phân tích được: {exc}"
        return result
    for row in explain(plan, request, station=station.code):
        result.rows.append(UnplacedRow(row["bulletin"], row["title"], row["quota"], row["planned"], (row["reasons"],)))
    return result
