"""Airtime straight from programme items and play logs, for any UTC range (one SQL statement each).

Planned = ProgrammeItem rows (bulletin, relay, emergency; never jingles) starting in the range.
A play belongs to the range by its scheduled start, or its actual start when it had none, so a
late play still answers the plan it fulfils. A play answers an item when it is the same station's
and names the item's id or its scheduled start. Per planned item, successful plays (played, or
partial for its played_ms) count once, so an agent's log and an operator's confirmation of the
same item never count twice. Successful plays answering no item count as aired, unplanned.
Missed = planned items already over (ended by `now`) that no successful play answers, plus
skipped/failed plays answering no item. An item still to come, or on air at `now`, is planned but
neither aired nor missed yet.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import CTE, Select, and_, bindparam, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from scheduler.db.models import Area, Commune, PlayLog, Programme, ProgrammeItem, Station
from scheduler.db.types import UTCDateTime
from scheduler.reports.figures import DIMENSIONS, MANUAL_MISS, MEASURES, Fact, fact_from_row, merge_facts
from scheduler.reports.scope import Scope

PLANNED_KINDS = ("bulletin", "relay", "emergency", "live")  # live: plays only (Phát trực tiếp), never planned
AIRED_RESULTS = ("played", "partial")
# The range is bound at execution time, so each statement is built (and compiled) once per scope.
START = bindparam("r_start", type_=UTCDateTime())
END = bindparam("r_end", type_=UTCDateTime())
NOW = bindparam("r_now", type_=UTCDateTime())
EVER = datetime.max.replace(tzinfo=UTC)  # `now` for a range wholly in the past: every item is over


def bounds(start: datetime, end: datetime, now: datetime | None = None) -> dict[str, datetime]:
    """Parameters for a statement built over START/END; items ending after `now` are not missed yet."""
    return {"r_start": start, "r_end": end, "r_now": now if now is not None else EVER}


@dataclass(frozen=True)
class MissedRow:
    """A planned item that did not air, or a skipped/failed play; `result` "" = no log at all, MANUAL_MISS =
    an operator's «Không phát được» (labels: scheduler.reports.figures.RESULTS)."""

    station_code: str
    commune: str
    area: str
    scheduled_start: datetime
    kind: str
    bulletin_code: str | None
    title: str
    topic: str
    language: str
    priority: str
    planned_ms: int
    result: str
    reason: str


MISSED_COLUMNS = tuple(MissedRow.__dataclass_fields__)


class _Parts:
    """The CTEs both statements share: items, plays, which play answers which item, per-item results.

    `detail` adds the text columns only the missed list needs; the figures stay narrow (and fast).
    """

    def __init__(self, scope: Scope, skip_stations: Collection[str], detail: bool = False) -> None:
        start, end = START, END
        item_detail: list[Any] = [
            ProgrammeItem.bulletin_code.label("bulletin_code"),
            ProgrammeItem.title.label("title"),
        ]
        items_q = (
            select(
                ProgrammeItem.id.label("item_id"),
                Programme.station_id.label("station_id"),
                Station.code.label("station_code"),
                Commune.name.label("commune"),
                func.coalesce(Area.name, "").label("area"),
                ProgrammeItem.start.label("start"),
                ProgrammeItem.kind.label("kind"),
                ProgrammeItem.topic.label("topic"),
                ProgrammeItem.language.label("language"),
                ProgrammeItem.priority.label("priority"),
                ProgrammeItem.duration_ms.label("planned_ms"),
                case((ProgrammeItem.end <= NOW, 1), else_=0).label("over"),
                *(item_detail if detail else []),
            )
            .join(Programme, Programme.id == ProgrammeItem.programme_id)
            .join(Station, Station.id == Programme.station_id)
            .join(Commune, Commune.id == Station.commune_id)
            .outerjoin(Area, Area.id == Commune.area_id)
            .where(
                ProgrammeItem.start >= start,
                ProgrammeItem.start < end,
                ProgrammeItem.kind.in_(PLANNED_KINDS),
                scope.condition(Station.code, Commune.name, Area.name),
            )
        )
        aired = PlayLog.result.in_(AIRED_RESULTS)
        played_ms = case(
            (PlayLog.result == "partial", PlayLog.played_ms),
            (PlayLog.played_ms > 0, PlayLog.played_ms),
            else_=PlayLog.scheduled_ms,
        )
        play_detail: list[Any] = [
            func.coalesce(PlayLog.scheduled_start, PlayLog.actual_start).label("at"),
            PlayLog.bulletin_code.label("bulletin_code"),
            PlayLog.title.label("title"),
            PlayLog.scheduled_ms.label("scheduled_ms"),
            # An operator's «Không phát được» reads as reported by hand, whatever result it was stored with.
            case((and_(PlayLog.source == "manual", ~aired), MANUAL_MISS), else_=PlayLog.result).label("result"),
            PlayLog.reason.label("reason"),
        ]
        plays_q = select(
            PlayLog.id.label("play_id"),
            PlayLog.station_id.label("station_id"),
            PlayLog.station_code.label("station_code"),
            PlayLog.commune.label("commune"),
            PlayLog.area.label("area"),
            PlayLog.programme_item_id.label("programme_item_id"),
            PlayLog.scheduled_start.label("scheduled_start"),
            PlayLog.kind.label("kind"),
            PlayLog.topic.label("topic"),
            PlayLog.language.label("language"),
            PlayLog.priority.label("priority"),
            PlayLog.source.label("source"),
            case((aired, 1), else_=0).label("ok"),
            case((aired, played_ms), else_=0).label("ms"),
            *(play_detail if detail else []),
        ).where(
            or_(
                and_(PlayLog.scheduled_start >= start, PlayLog.scheduled_start < end),
                and_(PlayLog.scheduled_start.is_(None), PlayLog.actual_start >= start, PlayLog.actual_start < end),
            ),
            PlayLog.kind.in_(PLANNED_KINDS),
            scope.condition(PlayLog.station_code, PlayLog.commune, PlayLog.area),
        )
        if skip_stations:
            items_q = items_q.where(Station.code.not_in(list(skip_stations)))
            plays_q = plays_q.where(PlayLog.station_code.not_in(list(skip_stations)))
        self.items: CTE = items_q.cte("r_items")
        self.plays: CTE = plays_q.cte("r_plays")
        items, plays = self.items, self.plays
        # Which item each play answers: by the item's id, else (for plays whose id answers nothing,
        # e.g. after a rebuild) by station + scheduled start. Two equi-joins, so both hash-join.
        by_id = items.alias("r_by_id")
        by_start = items.alias("r_by_start")
        carried = [plays.c.play_id, plays.c.ok, plays.c.ms, plays.c.source]
        if detail:
            carried += [plays.c.result, plays.c.reason]
        id_known = (
            select(by_id.c.item_id)
            .where(by_id.c.item_id == plays.c.programme_item_id, by_id.c.station_id == plays.c.station_id)
            .exists()
        )
        self.match: CTE = union_all(
            select(by_id.c.item_id, *carried).select_from(
                plays.join(by_id, and_(by_id.c.item_id == plays.c.programme_item_id,
                                       by_id.c.station_id == plays.c.station_id))
            ),
            select(by_start.c.item_id, *carried)
            .select_from(
                plays.join(by_start, and_(by_start.c.station_id == plays.c.station_id,
                                          by_start.c.start == plays.c.scheduled_start))
            )
            .where(~id_known),
        ).cte("r_match")  # fmt: skip
        match = self.match
        ok_by = {
            src: func.max(case((and_(match.c.ok == 1, match.c.source == src), 1), else_=0))
            for src in ("agent", "manual")
        }
        failure: list[Any] = []
        if detail:  # an operator's report wins over the agent's: its result and its reason (scheduler.item_states)
            by_hand = and_(match.c.ok == 0, match.c.result == MANUAL_MISS)
            reported = func.max(case((by_hand, 1), else_=0)) == 1
            failure = [
                case((reported, func.max(case((by_hand, match.c[name]), else_=""))),
                     else_=func.max(case((match.c.ok == 0, match.c[name]), else_=""))).label(f"fail_{name}")
                for name in ("result", "reason")
            ]
        self.per_item: CTE = (
            select(
                match.c.item_id,
                func.max(match.c.ok).label("aired"),
                func.max(match.c.ms).label("aired_ms"),
                # A relay the watchdog dropped and retried airs in pieces, one agent row each: they add up
                # (an operator's confirmation of the same block is the same airtime, not more).
                func.sum(case((match.c.source == "agent", match.c.ms), else_=0)).label("agent_pieces_ms"),
                ok_by["agent"].label("agent_ok"),
                ok_by["manual"].label("manual_ok"),
                *failure,
            )
            .group_by(match.c.item_id)
            .cte("r_per_item")
        )
        # Plays that answer no item of the range.
        self.unmatched = ~select(match.c.play_id).where(match.c.play_id == plays.c.play_id).exists()


def _is_emergency(kind: Any, priority: Any) -> Any:
    return or_(kind == "emergency", priority == "khan_cap")


@lru_cache(maxsize=128)
def facts_query(scope: Scope, skip_stations: frozenset[str] = frozenset()) -> Select[Any]:
    """SELECT of the figures for [START, END), one row per distinct DIMENSIONS key (built once, cached)."""
    parts = _Parts(scope, skip_stations)
    items, plays, per = parts.items, parts.plays, parts.per_item
    aired = func.coalesce(per.c.aired, 0)
    planned_source = case(
        (items.c.kind == "relay", "relay"),
        (func.coalesce(per.c.agent_ok, 0) == 1, "own"),
        (func.coalesce(per.c.manual_ok, 0) == 1, "manual"),
        else_="own",
    )
    planned_dims = [
        items.c.station_code, items.c.commune, items.c.area, items.c.topic, items.c.language,
        items.c.priority, planned_source, items.c.kind,
    ]  # fmt: skip
    planned = (
        select(
            *(col.label(name) for col, name in zip(planned_dims, DIMENSIONS, strict=True)),
            func.count().label("planned_items"),
            func.sum(items.c.planned_ms).label("planned_ms"),
            func.sum(aired).label("aired_items"),
            func.sum(case((and_(items.c.kind == "relay", func.coalesce(per.c.agent_pieces_ms, 0)
                               > func.coalesce(per.c.aired_ms, 0)), per.c.agent_pieces_ms),
                          else_=func.coalesce(per.c.aired_ms, 0))).label("aired_ms"),
            func.sum(case((and_(aired == 0, items.c.over == 1), 1), else_=0)).label("missed_items"),
            func.sum(case((and_(_is_emergency(items.c.kind, items.c.priority), aired == 1), 1), else_=0)).label(
                "emergency_items"
            ),
        )
        .select_from(items.outerjoin(per, per.c.item_id == items.c.item_id))
        .group_by(*planned_dims)
    )
    play_source = case(
        (plays.c.kind == "relay", "relay"), (plays.c.kind == "live", "live"), (plays.c.source == "manual", "manual"),
        else_="own",
    )
    play_dims = [
        plays.c.station_code, plays.c.commune, plays.c.area, plays.c.topic, plays.c.language,
        plays.c.priority, play_source, plays.c.kind,
    ]  # fmt: skip
    unplanned = (
        select(
            *(col.label(name) for col, name in zip(play_dims, DIMENSIONS, strict=True)),
            literal(0).label("planned_items"),
            literal(0).label("planned_ms"),
            func.sum(plays.c.ok).label("aired_items"),
            func.sum(plays.c.ms).label("aired_ms"),
            func.sum(1 - plays.c.ok).label("missed_items"),
            func.sum(case((and_(_is_emergency(plays.c.kind, plays.c.priority), plays.c.ok == 1), 1), else_=0)).label(
                "emergency_items"
            ),
        )
        .where(parts.unmatched)
        .group_by(*play_dims)
    )
    # A key can come from both halves (a planned item and an unplanned play alike): add them up.
    both = union_all(planned, unplanned).subquery("r_facts")
    dims = [both.c[name] for name in DIMENSIONS]
    return select(*dims, *(func.sum(both.c[name]).label(name) for name in MEASURES)).group_by(*dims)


def raw_facts(
    session: Session, start: datetime, end: datetime, scope: Scope | None = None,
    skip_stations: Collection[str] = (), now: datetime | None = None,
) -> list[Fact]:
    """Figures for [start, end) by every dimension, computed from the raw rows, as of `now` (default: all over)."""
    query = facts_query(scope or Scope(), frozenset(skip_stations))
    rows = session.execute(query, bounds(start, end, now)).mappings()
    return merge_facts(fact_from_row(row) for row in rows)


@lru_cache(maxsize=128)
def missed_query(scope: Scope, skip_stations: frozenset[str] = frozenset()) -> Select[Any]:
    """SELECT of the missed rows in [START, END), columns as MISSED_COLUMNS, unordered (cached)."""
    parts = _Parts(scope, skip_stations, detail=True)
    items, plays, per = parts.items, parts.plays, parts.per_item
    never_aired = (
        select(
            items.c.station_code, items.c.commune, items.c.area, items.c.start.label("scheduled_start"),
            items.c.kind, items.c.bulletin_code, items.c.title, items.c.topic, items.c.language,
            items.c.priority, items.c.planned_ms,
            func.coalesce(per.c.fail_result, "").label("result"),
            func.coalesce(per.c.fail_reason, "").label("reason"),
        )
        .select_from(items.outerjoin(per, per.c.item_id == items.c.item_id))
        .where(func.coalesce(per.c.aired, 0) == 0, items.c.over == 1)
    )  # fmt: skip
    failed_unplanned = (
        select(
            plays.c.station_code, plays.c.commune, plays.c.area, plays.c.at.label("scheduled_start"),
            plays.c.kind, plays.c.bulletin_code, plays.c.title, plays.c.topic, plays.c.language,
            plays.c.priority, plays.c.scheduled_ms.label("planned_ms"), plays.c.result, plays.c.reason,
        )
        .where(parts.unmatched, plays.c.ok == 0)
    )  # fmt: skip
    both = union_all(never_aired, failed_unplanned).subquery("r_missed")
    return select(*(both.c[name] for name in MISSED_COLUMNS))


def raw_missed(
    session: Session, start: datetime, end: datetime, scope: Scope | None = None,
    skip_stations: Collection[str] = (), limit: int | None = None, now: datetime | None = None,
) -> list[MissedRow]:
    """Missed items in [start, end) with their reasons, earliest first (at most `limit`), as of `now`."""
    both = missed_query(scope or Scope(), frozenset(skip_stations)).subquery("r_missed_sorted")
    query = select(both).order_by(both.c.scheduled_start, both.c.station_code, both.c.title)
    if limit is not None:
        query = query.limit(limit)
    return [MissedRow(**row) for row in session.execute(query, bounds(start, end, now)).mappings()]
