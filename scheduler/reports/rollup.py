"""Daily and monthly airtime roll-ups, maintained by the scheduler's nightly job.

A day's roll-up is a snapshot of what was planned and aired that local day. It is rebuilt
(delete + insert, so running it twice changes nothing) when play logs for it arrive late.
A station deleted since keeps its last snapshot: its programme items went with it, so
recomputing would turn its planned airtime into nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Insert, bindparam, delete, func, insert, literal, select, union_all
from sqlalchemy.orm import Session

from scheduler.db.models import (
    AirtimeDaily,
    AirtimeMissed,
    AirtimeRollupDay,
    AirtimeSummary,
    Base,
    PlayLog,
    ProgrammeItem,
    Station,
)
from scheduler.reports.figures import DIMENSIONS, MEASURES
from scheduler.reports.periods import day_bounds, month_days
from scheduler.reports.raw import MISSED_COLUMNS, bounds, facts_query, missed_query
from scheduler.reports.scope import Scope


@dataclass
class RollupResult:
    days: list[date] = field(default_factory=list)
    months: list[date] = field(default_factory=list)


def _frozen_stations(session: Session, day: date) -> set[str]:
    """Stations in the day's snapshot that no longer exist: their snapshot is kept as it is."""
    gone = select(AirtimeDaily.station_code).where(
        AirtimeDaily.day == day, AirtimeDaily.station_code.not_in(select(Station.code))
    )
    return set(session.scalars(gone.distinct()))


@lru_cache(maxsize=16)
def _inserts(frozen: frozenset[str]) -> tuple[Insert, Insert]:
    """INSERT … SELECT statements filling one day (bound as r_day, r_start, r_end) of both roll-ups."""
    day = bindparam("r_day", type_=Date())
    facts = facts_query(Scope(), frozen).subquery("f")
    # Core tables, not the ORM classes: the ORM would read a parameter dict as rows to bulk-insert.
    daily = insert(Base.metadata.tables[AirtimeDaily.__tablename__]).from_select(
        ["day", *DIMENSIONS, *MEASURES],
        select(day.label("day"), *(facts.c[name] for name in (*DIMENSIONS, *MEASURES))),
    )
    missed_rows = missed_query(Scope(), frozen).subquery("m")
    missed = insert(Base.metadata.tables[AirtimeMissed.__tablename__]).from_select(
        ["day", *MISSED_COLUMNS],
        select(day.label("day"), *(missed_rows.c[name] for name in MISSED_COLUMNS)),
    )
    return daily, missed


def _roll_day(session: Session, day: date, tz: ZoneInfo, now: datetime | None) -> None:
    # Read the watermark first: a play stored meanwhile has a higher id and re-rolls the day later.
    watermark = session.scalar(select(func.max(PlayLog.id))) or 0
    frozen = _frozen_stations(session, day)
    for table in (AirtimeDaily, AirtimeMissed):
        stmt = delete(table).where(table.day == day)
        if frozen:
            stmt = stmt.where(table.station_code.not_in(frozen))
        session.execute(stmt)
    start, end = day_bounds(day, tz)
    params = {**bounds(start, end, now), "r_day": day}
    daily, missed = _inserts(frozenset(frozen))
    session.execute(daily, params)
    session.execute(missed, params)
    _summarise_day(session, day)
    record = session.get(AirtimeRollupDay, day)
    if record is None:
        record = AirtimeRollupDay(day=day)
        session.add(record)
    record.computed_at = now if now is not None else func.current_timestamp()
    record.play_log_watermark = int(watermark)
    session.flush()


SUMMARY_DIMENSIONS: dict[str, str] = {
    "station": "station_code", "topic": "topic", "language": "language", "priority": "priority",
    "source": "source", "kind": "kind",
}  # fmt: skip
_SUMMARY = Base.metadata.tables[AirtimeSummary.__tablename__]


def _summarise_day(session: Session, day: date) -> None:
    """Rebuild the day's summary rows from its daily roll-up (deleted stations' frozen rows included)."""
    session.execute(delete(AirtimeSummary).where(AirtimeSummary.grain == "day", AirtimeSummary.start == day))
    sums = [func.sum(getattr(AirtimeDaily, m)).label(m) for m in MEASURES]
    parts = [
        select(literal("day").label("grain"), literal(day).label("start"), AirtimeDaily.commune,
               AirtimeDaily.area, literal(name).label("dimension"), getattr(AirtimeDaily, column).label("value"),
               *sums)
        .where(AirtimeDaily.day == day)
        .group_by(AirtimeDaily.commune, AirtimeDaily.area, getattr(AirtimeDaily, column))
        for name, column in SUMMARY_DIMENSIONS.items()
    ]  # fmt: skip
    columns = ["grain", "start", "commune", "area", "dimension", "value", *MEASURES]
    session.execute(insert(_SUMMARY).from_select(columns, union_all(*parts)))


def refresh_month(session: Session, month: date) -> None:
    """Rebuild the monthly summary of `month` (its first day) from the daily summaries."""
    days = month_days(month)
    session.execute(delete(AirtimeSummary).where(AirtimeSummary.grain == "month", AirtimeSummary.start == month))
    keys = [AirtimeSummary.commune, AirtimeSummary.area, AirtimeSummary.dimension, AirtimeSummary.value]
    summed = (
        select(literal("month").label("grain"), literal(month).label("start"), *keys,
               *(func.sum(getattr(AirtimeSummary, name)).label(name) for name in MEASURES))
        .where(AirtimeSummary.grain == "day", AirtimeSummary.start >= days[0], AirtimeSummary.start <= days[-1])
        .group_by(*keys)
    )  # fmt: skip
    columns = ["grain", "start", "commune", "area", "dimension", "value", *MEASURES]
    session.execute(insert(_SUMMARY).from_select(columns, summed))
    session.flush()


def _months(days: Iterable[date]) -> list[date]:
    return sorted({d.replace(day=1) for d in days})


def rollup_days(session: Session, days: Iterable[date], tz: ZoneInfo, now: datetime | None = None) -> RollupResult:
    """Roll up each local day in `days`, then refresh their months once; idempotent."""
    chosen = sorted(set(days))
    for day in chosen:
        _roll_day(session, day, tz, now)
    months = _months(chosen)
    for month in months:
        refresh_month(session, month)
    return RollupResult(chosen, months)


def rollup_day(session: Session, day: date, tz: ZoneInfo, now: datetime | None = None) -> RollupResult:
    """Roll up one local day (and refresh its month); idempotent. `now` stamps the record only."""
    return rollup_days(session, [day], tz, now)


def _first_day(session: Session, tz: ZoneInfo) -> date | None:
    firsts = [
        session.scalar(select(func.min(ProgrammeItem.start))),
        session.scalar(select(func.min(PlayLog.actual_start))),
        session.scalar(select(func.min(PlayLog.scheduled_start))),
    ]
    known = [f for f in firsts if f is not None]
    return min(known).astimezone(tz).date() if known else None


def _late_days(session: Session, rolled: dict[date, int], tz: ZoneInfo, today: date) -> set[date]:
    """Closed, rolled days that play logs stored after their roll-up belong to."""
    if not rolled:
        return set()
    since = max(rolled.values())
    at = func.coalesce(PlayLog.scheduled_start, PlayLog.actual_start)
    late: set[date] = set()
    # Only rows newer than the newest watermark can be news to anyone; a night's worth, not a year.
    for play_id, instant in session.execute(select(PlayLog.id, at).where(PlayLog.id > since)):
        day = instant.astimezone(tz).date()
        if day < today and day in rolled and rolled[day] < play_id:
            late.add(day)
    return late


def rollup_pending(session: Session, now: datetime, tz: ZoneInfo) -> RollupResult:
    """Roll up every closed local day not rolled up yet, and every one with late play logs.

    For the nightly job: days before today (in `tz`) from the first programme item or play log on.
    """
    today = now.astimezone(tz).date()
    marks = select(AirtimeRollupDay.day, AirtimeRollupDay.play_log_watermark)
    rolled = {day: mark for day, mark in session.execute(marks)}
    pending = _late_days(session, rolled, tz, today)
    first = _first_day(session, tz)
    if first is not None:
        day = first
        while day < today:
            if day not in rolled:
                pending.add(day)
            day += timedelta(days=1)
    return rollup_days(session, pending, tz, now)
