"""Add up roll-up rows (SQL) and raw facts (Python) into every grouping a report shows.

On PostgreSQL one GROUPING SETS query scans the roll-ups once; SQLite (small installs) gets one
GROUP BY per grouping. Both give the same `Groups`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, String, and_, cast, func, null, or_, select, tuple_, union_all
from sqlalchemy.orm import Session

from scheduler.db.models import AirtimeDaily, AirtimeSummary
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


def _grouped(session: Session, src: Any, groupings: dict[str, tuple[str, ...]]) -> Iterator[tuple[str, RowMapping]]:
    """Sum `src` (a subquery with every column of `groupings` and the MEASURES) once per grouping."""
    columns = sorted({c for cols in groupings.values() for c in cols})
    sums = [func.sum(src.c[m]).label(m) for m in MEASURES]
    if session.get_bind().dialect.name == "postgresql":
        sets = [tuple_(*(src.c[c] for c in cols)) for cols in groupings.values()]
        query: Any = select(*(src.c[c] for c in columns), *sums).group_by(func.grouping_sets(*sets))
    else:
        query = union_all(*(
            select(*((src.c[c] if c in cols else null()).label(c) for c in columns), *sums)
            .group_by(*(src.c[c] for c in cols))
            for cols in groupings.values()
        ))  # fmt: skip
    patterns = {frozenset(cols): name for name, cols in groupings.items()}
    for row in session.execute(query).mappings():
        name = patterns[frozenset(c for c in columns if row[c] is not None)]
        if name == "total" and Figures.of(row) == Figures():
            continue  # SQLite's total over no rows
        yield name, row


def _fold(groups: Groups, rows: Iterator[tuple[str, RowMapping]], rename: dict[str, str] | None = None) -> None:
    for name, row in rows:
        values = {(rename or {}).get(k, k): v for k, v in row.items()}
        _add(groups, name, tuple(str(values[c]) for c in GROUPINGS[name]), Figures.of(row))


def add_daily(session: Session, groups: Groups, scope: Scope, days: Sequence[date]) -> None:
    """Fold the full-grain daily roll-up rows of `days` into `groups` (for one station's report)."""
    if not days:
        return
    src = select(
        cast(AirtimeDaily.day, String).label("bucket"),
        *(getattr(AirtimeDaily, c) for c in _COLUMNS[:-1]),
        *(getattr(AirtimeDaily, m) for m in MEASURES),
    ).where(in_days(AirtimeDaily.day, days), scope.condition(AirtimeDaily.station_code, AirtimeDaily.commune,
                                                             AirtimeDaily.area)).subquery("src")
    _fold(groups, _grouped(session, src, GROUPINGS))


def _summaries(scope: Scope, months: Sequence[date], days: Sequence[date]) -> ColumnElement[bool] | None:
    spans = [and_(AirtimeSummary.grain == grain, in_days(AirtimeSummary.start, chosen))
             for grain, chosen in (("month", months), ("day", days)) if chosen]  # fmt: skip
    if not spans:
        return None
    return and_(or_(*spans), scope.condition(None, AirtimeSummary.commune, AirtimeSummary.area))


def add_summaries(session: Session, groups: Groups, scope: Scope, station_spans: tuple[Sequence[date], Sequence[date]],
                  dimension_spans: tuple[Sequence[date], Sequence[date]]) -> None:
    """Fold summary rows into `groups`: per-station rows of (months, days) `station_spans` give the
    places, totals and trend; per-value rows of `dimension_spans` give topic, language, priority,
    source and kind. Not for a one-station scope (summaries hold no station × topic)."""
    if scope.level == "station":
        raise ValueError("summaries hold no per-station topics: use add_daily for one station")
    where = _summaries(scope, *station_spans)
    if where is not None:
        src = select(
            AirtimeSummary.value.label("station_code"), AirtimeSummary.commune, AirtimeSummary.area,
            cast(AirtimeSummary.start, String).label("bucket"), *(getattr(AirtimeSummary, m) for m in MEASURES),
        ).where(where, AirtimeSummary.dimension == "station").subquery("src")
        places = {k: v for k, v in GROUPINGS.items() if k in ("station", "commune", "area", "bucket", "total")}
        _fold(groups, _grouped(session, src, places))
    where = _summaries(scope, *dimension_spans)
    if where is not None:
        query = (
            select(AirtimeSummary.dimension, AirtimeSummary.value,
                   *(func.sum(getattr(AirtimeSummary, m)).label(m) for m in MEASURES))
            .where(where, AirtimeSummary.dimension != "station")
            .group_by(AirtimeSummary.dimension, AirtimeSummary.value)
        )  # fmt: skip
        for row in session.execute(query).mappings():
            _add(groups, row["dimension"], (str(row["value"]),), Figures.of(row))
