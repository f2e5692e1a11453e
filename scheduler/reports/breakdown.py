"""Add up roll-up rows (SQL) and raw facts (Python) into every grouping a report shows, in one pass.

On PostgreSQL one GROUPING SETS query scans the roll-ups once; SQLite (small installs) gets one
GROUP BY per grouping. Both give the same `Groups`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, cast, func, null, or_, select, tuple_, union_all
from sqlalchemy.orm import Session

from scheduler.db.models import AirtimeDaily, AirtimeMonthly
from scheduler.reports.figures import MEASURES, Fact, Figures
from scheduler.reports.scope import Scope

# grouping name -> the columns it groups by; every dimension is NOT NULL in the roll-ups, so in a
# GROUPING SETS result the set a row belongs to shows in which columns are not NULL.
GROUPINGS: dict[str, tuple[str, ...]] = {
    "station": ("station_code", "commune", "area"),
    "commune": ("commune", "area"),
    "area": ("area",),
    "topic": ("topic",),
    "language": ("language",),
    "priority": ("priority",),
    "source": ("source",),
    "kind": ("kind",),
    "bucket": ("bucket",),
    "total": (),
}
_COLUMNS = ("station_code", "commune", "area", "topic", "language", "priority", "source", "kind", "bucket")

# grouping -> key -> figures; "bucket" keys are ISO dates (a roll-up day or month).
Groups = dict[str, dict[tuple[str, ...], Figures]]


def empty_groups() -> Groups:
    return {name: {} for name in GROUPINGS}


def _add(groups: Groups, name: str, key: tuple[str, ...], figures: Figures) -> None:
    groups[name].setdefault(key, Figures()).add(figures)


def add_facts(groups: Groups, facts: Iterable[Fact], bucket: date) -> None:
    """Fold raw facts of one day (`bucket`) into `groups`."""
    for fact in facts:
        values = {**dict(zip(_COLUMNS[:-1], fact.key, strict=True)), "bucket": bucket.isoformat()}
        for name, columns in GROUPINGS.items():
            _add(groups, name, tuple(values[c] for c in columns), fact.figures)


def _ranges(days: Sequence[date]) -> list[tuple[date, date]]:
    """Consecutive runs of sorted days, as (first, last)."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and (day - runs[-1][1]).days == 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def in_days(column: Any, days: Sequence[date]) -> ColumnElement[bool]:
    """`column` falls on one of `days` (as a few BETWEEN ranges, not a long IN list)."""
    return or_(*(and_(column >= a, column <= b) for a, b in _ranges(days)))


def rollup_source(scope: Scope, months: Sequence[date], days: Sequence[date]) -> Any:
    """The monthly rows of `months` and the daily rows of `days`, `bucket` = the month or the day."""
    parts: list[Select[Any]] = []
    for table, column, chosen in (
        (AirtimeMonthly, AirtimeMonthly.month, months),
        (AirtimeDaily, AirtimeDaily.day, days),
    ):
        if not chosen:
            continue
        parts.append(
            select(
                cast(column, String).label("bucket"),
                *(getattr(table, c) for c in _COLUMNS[:-1]),
                *(getattr(table, m) for m in MEASURES),
            ).where(in_days(column, chosen), scope.condition(table.station_code, table.commune, table.area))
        )
    if not parts:
        return None
    return (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("src")


def add_rollups(session: Session, groups: Groups, scope: Scope, months: Sequence[date], days: Sequence[date]) -> None:
    """Fold the roll-up rows of `months` (monthly table) and `days` (daily table) into `groups`."""
    src = rollup_source(scope, months, days)
    if src is None:
        return
    sums = [func.sum(src.c[m]).label(m) for m in MEASURES]
    if session.get_bind().dialect.name == "postgresql":
        sets = [tuple_(*(src.c[c] for c in cols)) for cols in GROUPINGS.values()]
        query: Any = select(*(src.c[c] for c in _COLUMNS), *sums).group_by(func.grouping_sets(*sets))
    else:
        query = union_all(*(
            select(
                *((src.c[c] if c in cols else null()).label(c) for c in _COLUMNS), *sums
            ).group_by(*(src.c[c] for c in cols))
            for cols in GROUPINGS.values()
        ))  # fmt: skip
    patterns = {frozenset(cols): name for name, cols in GROUPINGS.items()}
    for row in session.execute(query).mappings():
        present = frozenset(c for c in _COLUMNS if row[c] is not None)
        name = patterns[present]
        figures = Figures.of(row)
        if name == "total" and figures == Figures():
            continue  # SQLite's total over no rows
        _add(groups, name, tuple(str(row[c]) for c in GROUPINGS[name]), figures)

