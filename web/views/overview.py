"""What the dashboard (Tổng quan) shows: a handful of bounded queries, whatever the number of stations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager, selectinload

from scheduler import commune_choice
from scheduler.access import commune_clause, covers, places, scope_of
from scheduler.db.models import Bulletin, Commune, Emergency, Programme, ProgrammeItem, Station, User
from scheduler.domain import BulletinStatus, IsoWeek, Priority
from scheduler.emergencies import list_active, list_pending, release_refusal
from scheduler.emergencies.tracking import Board, board, visible_to
from scheduler.programmes.warnings import bulletin_warnings, station_warnings
from web.views.helpers import day_bounds, local_today, online_clause, scope_stations

LIST_LIMIT = 12
ALL_UPCOMING_LIMIT = 2000  # «Xem tất cả»: the rest of today, bounded for a province of thousands of stations


@dataclass
class Overview:
    items_today: int = 0
    upcoming: list[ProgrammeItem] = field(default_factory=list)
    upcoming_total: int = 0  # items still to start today; `upcoming` may show only the first few
    stations_total: int = 0
    stations_online: int = 0
    silent: list[Station] = field(default_factory=list)
    waiting_count: int = 0
    waiting: list[Bulletin] = field(default_factory=list)
    emergencies: list[Emergency] = field(default_factory=list)
    emergency_boards: dict[int, Board] = field(default_factory=dict)
    pending_emergencies: list[Emergency] = field(default_factory=list)  # waiting for an approver's release
    releasable: set[int] = field(default_factory=set)  # ids of those this user may release
    warnings: list[str] = field(default_factory=list)
    upstream_waiting: int | None = None  # TT 39: bulletins from above waiting for a commune's answer (deciders only)

    @property
    def stations_offline(self) -> int:
        return self.stations_total - self.stations_online


def _count_items(db: Session, user: User, start: datetime, end: datetime) -> int:
    """Items starting in [start, end); only scoped accounts need the join to their stations."""
    query = (
        select(func.count()).select_from(ProgrammeItem).where(ProgrammeItem.start >= start, ProgrammeItem.start < end)
    )
    if not scope_of(user).everywhere:
        query = scope_stations(query.join(ProgrammeItem.programme).join(Programme.station), user)
    return db.scalar(query) or 0


def active_emergencies(db: Session, user: User, now: datetime) -> list[Emergency]:
    """Running or held and not yet over (scheduler.emergencies.list_active), aimed inside the user's scope."""
    return [e for e in list_active(db, now) if visible_to(db, e, user)]


def pending_emergencies(db: Session, user: User, now: datetime) -> list[Emergency]:
    """Requests and CAP alerts waiting for release (scheduler.emergencies.list_pending), aimed within scope."""
    return [e for e in list_pending(db, now) if visible_to(db, e, user)]


def planner_warnings(db: Session, user: User, week: IsoWeek) -> list[str]:
    """Things that keep bulletins off the air (scheduler.programmes.warnings), within what `user` may see."""
    warnings = bulletin_warnings(db) if user.role != "operator" else []
    return warnings + station_warnings(db, week, lambda query: scope_stations(query, user))


def build_overview(db: Session, user: User, now: datetime, all_upcoming: bool = False) -> Overview:
    today = local_today()
    start, end = day_bounds(today)
    overview = Overview()
    overview.items_today = _count_items(db, user, start, end)
    overview.upcoming_total = _count_items(db, user, now, end)
    # Ordered by start alone so the start index yields the first few without sorting the whole day.
    upcoming = (
        select(ProgrammeItem)
        .join(ProgrammeItem.programme)
        .join(Programme.station)
        .where(ProgrammeItem.start >= now, ProgrammeItem.start < end)
        .options(contains_eager(ProgrammeItem.programme).contains_eager(Programme.station))
        .order_by(ProgrammeItem.start, ProgrammeItem.id)
        .limit(ALL_UPCOMING_LIMIT if all_upcoming else LIST_LIMIT)
    )
    overview.upcoming = list(db.scalars(scope_stations(upcoming, user)).unique())
    stations = scope_stations(select(func.count()).select_from(Station).where(Station.active), user)
    overview.stations_total = db.scalar(stations) or 0
    overview.stations_online = db.scalar(stations.where(online_clause(now))) or 0
    overview.silent = list(
        db.scalars(
            scope_stations(select(Station), user)
            .options(selectinload(Station.commune))
            .where(Station.active, ~online_clause(now))
            .order_by(Station.last_status_at.asc().nulls_first(), Station.code)
            .limit(LIST_LIMIT)
        )
    )
    if user.role != "operator":
        waiting = select(Bulletin).where(Bulletin.status == BulletinStatus.SUBMITTED.value)
        inside = places(db, user)
        if inside is not None:  # a scoped account waits only for what it may approve (scheduler.access)
            rows = db.execute(
                select(Bulletin.id, Bulletin.targets).where(Bulletin.status == BulletinStatus.SUBMITTED.value)
            )
            waiting = waiting.where(Bulletin.id.in_([i for i, t in rows if covers(db, user, t or [], inside)]))
        overview.waiting_count = db.scalar(select(func.count()).select_from(waiting.subquery())) or 0
        overview.waiting = list(
            db.scalars(
                waiting.options(selectinload(Bulletin.author))
                .order_by(Bulletin.priority == Priority.NORMAL.value, Bulletin.updated_at)
                .limit(LIST_LIMIT)
            )
        )
    overview.emergencies = active_emergencies(db, user, now)
    overview.emergency_boards = {e.id: board(db, e, now, user=user, summary_only=True) for e in overview.emergencies}
    overview.pending_emergencies = pending_emergencies(db, user, now)
    overview.releasable = {e.id for e in overview.pending_emergencies if release_refusal(e, user) is None}
    overview.warnings = planner_warnings(db, user, IsoWeek.of(today))
    if user.role in commune_choice.DECIDERS:
        choosing = list(db.scalars(select(Commune).options(selectinload(Commune.stations))
                                   .where(commune_clause(user), Commune.upstream_mode == "chon")))
        if choosing:
            overview.upstream_waiting = sum(
                1 for w in commune_choice.choices(db, now, choosing) if w.choice == commune_choice.Choice.PENDING)
    return overview
