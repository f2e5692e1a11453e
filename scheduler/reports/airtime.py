"""The airtime report: planned versus aired over a period, for a scope, grouped every useful way.

Closed days come from the roll-ups (whole months from the monthly one when the trend is by
month), today, days still to come and any day not rolled up yet from the raw rows. A period
reaching past `now` counts everything planned in it; aired and missed only what is over by `now`
(an item still to come, or on air, is planned but neither aired nor missed yet).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler import catalogue
from scheduler.catalogue import LANGUAGES, TOPICS, language_label
from scheduler.db.models import AirtimeMissed, AirtimeRollupDay, Area, Commune, ProgrammeItem, Province, Station
from scheduler.domain import Priority, priority_label
from scheduler.reports.breakdown import Groups, add_daily, add_facts, add_summaries, empty_groups, in_days
from scheduler.reports.declined import DeclinedRow, declined_rows
from scheduler.reports.figures import KINDS, SOURCES, Figures
from scheduler.reports.periods import Period, day_bounds, month_days, months_within
from scheduler.reports.raw import MISSED_COLUMNS, MissedRow, raw_facts, raw_missed
from scheduler.reports.scope import Scope

BY_CHOICES: dict[str, str] = {
    "station": "Đài",
    "commune": "Xã",
    "area": "Khu vực",
    "topic": "Chủ đề",
    "language": "Ngôn ngữ",
    "priority": "Mức ưu tiên",
    "source": "Nguồn",
}
DAILY_TREND_MAX_DAYS = 62  # longer periods show a monthly trend (and read the monthly roll-up)
NO_AREA = "(không thuộc khu vực)"


@dataclass(frozen=True)
class ReportRequest:
    period: Period
    by: str = "station"
    scope: Scope = field(default_factory=Scope)
    issuing_unit: str = ""  # empty: derived from the province's name
    missed_limit: int = 1000

    def __post_init__(self) -> None:
        if self.by not in BY_CHOICES:
            raise ValueError(f"Không nhóm báo cáo theo «{self.by}» được. Chọn một trong: {', '.join(BY_CHOICES)}.")


@dataclass(frozen=True)
class StationInfo:
    code: str
    name: str
    speakers: int
    lat: float | None
    lon: float | None


@dataclass
class Row:
    """One line of a report table: a group's label, where it is, and its figures."""

    key: str
    label: str
    figures: Figures
    commune: str = ""
    area: str = ""
    stations: int = 0
    speakers: int = 0
    station: StationInfo | None = None


@dataclass(frozen=True)
class TrendPoint:
    start: date
    label: str
    figures: Figures


@dataclass
class AirtimeReport:
    request: ReportRequest
    generated_at: datetime
    as_of: datetime  # planned covers the whole period; aired and missed what is over by this instant
    timezone: str
    issuing_unit: str
    province: str
    totals: Figures
    rows: list[Row]  # grouped by request.by
    breakdowns: dict[str, list[Row]]  # every BY_CHOICES grouping
    trend_unit: str  # "day" | "month"
    trend: list[TrendPoint]
    missed: list[MissedRow]
    rollup_days: int = 0  # closed days read from the roll-ups…
    rollup_months: int = 0  # …of which whole months from the monthly roll-up
    raw_days: int = 0  # days computed from the raw rows (today, days not rolled up yet)
    declined: list[DeclinedRow] = field(default_factory=list)  # TT 39: bulletins from above a commune did not air

    @property
    def declined_pairs(self) -> int:
        """Station × bulletin pairs kept off the air by a commune's «Không phát»."""
        return sum(d.stations for d in self.declined)

    @property
    def relay_lost_ms(self) -> int:
        """Relay airtime planned but not aired (a stream the watchdog dropped, a box that was down): the
        lost minutes of relays, counted over the planned relay blocks of the period."""
        return sum(max(r.figures.planned_ms - r.figures.aired_ms, 0)
                   for r in self.breakdowns.get("source", []) if r.key == "relay")

    @property
    def missed_shown_all(self) -> bool:
        return len(self.missed) >= self.totals.missed_items


def topic_label(code: str) -> str:
    """The topic's name; rows without a topic (relays, emergencies) get a word of their own."""
    return catalogue.topic_label(code) if code else "(không theo chủ đề)"


def source_label(code: str) -> str:
    return SOURCES.get(code, code)


def kind_label(code: str) -> str:
    return KINDS.get(code, code)


def issuing_unit_for(province: str) -> str:
    """'Gia Lai' -> 'UBND TỈNH GIA LAI'; names already saying tỉnh/thành phố keep their word."""
    if not province:
        return "TRUNG TÂM PHÁT THANH"
    lowered = province.lower()
    prefix = "" if lowered.startswith(("tỉnh ", "thành phố ")) else "tỉnh "
    return f"UBND {prefix}{province}".upper()


def _stations(session: Session, scope: Scope) -> dict[str, StationInfo]:
    query = (
        select(Station.code, Station.name, Station.speakers, Station.lat, Station.lon)
        .join(Commune, Commune.id == Station.commune_id)
        .outerjoin(Area, Area.id == Commune.area_id)
        .where(scope.condition(Station.code, Commune.name, Area.name))
    )
    return {row.code: StationInfo(row.code, row.name, row.speakers or 0, row.lat, row.lon)
            for row in session.execute(query)}  # fmt: skip


def _order(choice: str) -> Any:
    catalogue: dict[str, list[str]] = {
        "topic": list(TOPICS),
        "language": list(LANGUAGES),
        "priority": [p.value for p in Priority],
        "source": list(SOURCES),
    }
    known = catalogue.get(choice)

    def key(row: Row) -> tuple[Any, ...]:
        if known is not None:
            return (known.index(row.key) if row.key in known else len(known), row.key)
        return (row.area, row.commune, row.label)

    return key


def _rows(groups: Groups, choice: str, stations: dict[str, StationInfo]) -> list[Row]:
    rows: list[Row] = []
    per_commune: dict[tuple[str, str], list[StationInfo | None]] = {}
    per_area: dict[str, list[StationInfo | None]] = {}
    for (code, commune, area), _fig in groups["station"].items():
        info = stations.get(code)
        per_commune.setdefault((commune, area), []).append(info)
        per_area.setdefault(area, []).append(info)

    def counts(infos: list[StationInfo | None]) -> tuple[int, int]:
        return len(infos), sum(i.speakers for i in infos if i is not None)

    for key, figures in groups[choice].items():
        if choice == "station":
            code, commune, area = key
            info = stations.get(code)
            label = f"{info.name} ({code})" if info else f"{code} (đã xóa)"
            rows.append(Row(code, label, figures, commune, area, 1, info.speakers if info else 0, info))
        elif choice == "commune":
            commune, area = key
            n, speakers = counts(per_commune.get((commune, area), []))
            rows.append(Row(commune, commune, figures, commune, area, n, speakers))
        elif choice == "area":
            (area,) = key
            n, speakers = counts(per_area.get(area, []))
            rows.append(Row(area, area or NO_AREA, figures, "", area, n, speakers))
        else:
            (code,) = key
            labeller: dict[str, Callable[[str], str]] = {
                "topic": topic_label,
                "language": language_label,
                "priority": priority_label,
                "source": source_label,
            }
            label = labeller[choice](code)
            rows.append(Row(code, label, figures))
    return sorted(rows, key=_order(choice))


def _trend(groups: Groups, unit: str, period: Period) -> list[TrendPoint]:
    """One point per day (or month) of the whole period, zero where nothing was planned or aired, so a
    6-month report always shows six months."""
    buckets: dict[date, Figures] = {}
    for (iso,), figures in groups["bucket"].items():
        day = date.fromisoformat(iso[:10])
        start = day if unit == "day" else day.replace(day=1)
        buckets.setdefault(start, Figures()).add(figures)
    days = (period.first + timedelta(days=i) for i in range((period.last - period.first).days + 1))
    starts = {day if unit == "day" else day.replace(day=1) for day in days}

    def label(d: date) -> str:
        return f"{d.day:02d}/{d.month:02d}" if unit == "day" else f"{d.month:02d}/{d.year}"

    return [TrendPoint(d, label(d), buckets.get(d, Figures())) for d in sorted({*starts, *buckets})]


def _rolled_missed(session: Session, scope: Scope, days: list[date], limit: int) -> list[MissedRow]:
    if not days or limit <= 0:
        return []
    query = (
        select(*(getattr(AirtimeMissed, c) for c in MISSED_COLUMNS))
        .where(
            in_days(AirtimeMissed.day, days),
            scope.condition(AirtimeMissed.station_code, AirtimeMissed.commune, AirtimeMissed.area),
        )
        .order_by(AirtimeMissed.day, AirtimeMissed.scheduled_start, AirtimeMissed.station_code)
        .limit(limit)
    )
    return [MissedRow(**row) for row in session.execute(query).mappings()]


def build_report(session: Session, request: ReportRequest, now: datetime, tz: ZoneInfo) -> AirtimeReport:
    """Compute the report for `request` as of `now`; reads only, never writes."""
    period, scope = request.period, request.scope
    today = now.astimezone(tz).date()
    start, end = period.utc_bounds(tz)
    as_of = min(end, max(now, start))
    closed = [d for d in period.each_day() if d < today]
    rolled = set(
        session.scalars(
            select(AirtimeRollupDay.day).where(AirtimeRollupDay.day >= period.first, AirtimeRollupDay.day < today,
                                               AirtimeRollupDay.day <= period.last)
        )
    )  # fmt: skip
    unit = "day" if period.days <= DAILY_TREND_MAX_DAYS else "month"
    # Whole closed months read their monthly summary; the other rolled days their daily one.
    months = [m for m in months_within(period)
              if all(d in rolled for d in month_days(m)) and month_days(m)[-1] < today]  # fmt: skip
    in_months = {d for m in months for d in month_days(m)}
    daily = sorted(d for d in rolled if d not in in_months)
    raw_days = [d for d in closed if d not in rolled]
    # Today and the days to come: what is planned there counts as planned, nothing of it as missed.
    last_planned = session.scalar(select(func.max(ProgrammeItem.start)))
    last_day = max(today, last_planned.astimezone(tz).date()) if last_planned is not None else today
    raw_days += [d for d in period.each_day() if today <= d <= last_day]

    groups = empty_groups()
    if scope.level == "station":
        add_daily(session, groups, scope, sorted(rolled))  # one station: its few full-grain rows
    else:
        # A daily trend needs the per-station rows by day; topics and the like never do.
        station_spans = (months, daily) if unit == "month" else ([], sorted(rolled))
        add_summaries(session, groups, scope, station_spans, (months, daily))
    missed = _rolled_missed(session, scope, sorted(rolled), request.missed_limit)
    for day in raw_days:
        day_start, day_end = day_bounds(day, tz)
        add_facts(groups, raw_facts(session, day_start, day_end, scope, now=now), day)
        if len(missed) < request.missed_limit and day_start < now:
            missed += raw_missed(session, day_start, day_end, scope, limit=request.missed_limit, now=now)
    missed = sorted(missed, key=lambda m: (m.scheduled_start, m.station_code, m.title))[: request.missed_limit]

    stations = _stations(session, scope)
    breakdowns = {choice: _rows(groups, choice, stations) for choice in BY_CHOICES}
    totals = next(iter(groups["total"].values()), Figures())
    province = session.scalar(select(Province.name).order_by(Province.id).limit(1)) or ""
    return AirtimeReport(
        request=request,
        generated_at=now,
        as_of=as_of,
        timezone=str(tz),
        issuing_unit=request.issuing_unit or issuing_unit_for(province),
        province=province,
        totals=totals,
        rows=breakdowns[request.by],
        breakdowns=breakdowns,
        trend_unit=unit,
        trend=_trend(groups, unit, period),
        missed=missed,
        rollup_days=len(rolled),
        rollup_months=len(months),
        raw_days=len(raw_days),
        declined=declined_rows(session, period, scope, tz),
    )
