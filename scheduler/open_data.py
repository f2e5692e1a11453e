"""What the open read API answers: stations, programmes, per-day airtime and bulletins, paged and filtered.

Every answer is plain JSON-ready data described by web/openapi.py. Nothing here counts or judges on
its own: station status is scheduler.fleet's, item states scheduler.item_states', airtime figures
the airtime report's own (scheduler.reports.build_report, one local day at a time). Bad parameters
raise ValueError with a Vietnamese message (the API answers 400).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, selectinload

from scheduler.catalogue import language_label, topic_label
from scheduler.db.models import Area, AudioAsset, Bulletin, Commune, Programme, Province, Station
from scheduler.domain import BulletinStatus, IsoWeek, priority_label
from scheduler.fleet import Glance, MapState, glance, station_query
from scheduler.item_states import load_states
from scheduler.programmes import current_weeks
from scheduler.reports import BY_CHOICES, ReportRequest, Scope, build_report
from scheduler.reports.periods import Period, parse_local_date

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_PROGRAMMES = 50  # a programme carries its week's items
MAX_AIRTIME_DAYS = 31  # days computed per call
MAX_AIRTIME_SPAN = 366
PUBLIC_BULLETINS = (BulletinStatus.APPROVED.value, BulletinStatus.ARCHIVED.value)


@dataclass(frozen=True)
class Paging:
    limit: int
    offset: int

    def envelope(self, data: list[dict[str, Any]], total: int) -> dict[str, Any]:
        following = self.offset + self.limit
        return {
            "data": data,
            "paging": {"total": total, "limit": self.limit, "offset": self.offset,
                       "next_offset": following if following < total else None},
        }


def _int(args: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = (args.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"Tham số {name}=«{raw[:40]}» phải là số nguyên.") from None
    if not low <= value <= high:
        raise ValueError(f"Tham số {name}={value} ngoài khoảng cho phép ({low}–{high}).")
    return value


def paging(args: Mapping[str, str], default: int = DEFAULT_LIMIT, most: int = MAX_LIMIT) -> Paging:
    return Paging(_int(args, "limit", default, 1, most), _int(args, "offset", 0, 0, 10**9))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _place_filters(args: Mapping[str, str]) -> list[ColumnElement[bool]]:
    """Filters by area name, commune name and station code (exact), on a query joined to Commune and Area."""
    where: list[ColumnElement[bool]] = []
    if args.get("area"):
        where.append(Area.name == args["area"].strip())
    if args.get("commune"):
        where.append(Commune.name == args["commune"].strip())
    if args.get("station"):
        where.append(Station.code == args["station"].strip())
    return where


def _count(session: Session, query: Select[Any]) -> int:
    return session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


# -- stations -----------------------------------------------------------------------------------


def station_json(g: Glance, province: str, languages: str) -> dict[str, Any]:
    playing = g.now_playing
    return {
        "code": g.code,
        "name": g.name,
        "lat": g.lat,
        "lon": g.lon,
        "speakers": g.speakers,
        "languages": [x for x in languages.split(";") if x] or ["vi"],
        "active": g.active,
        "scope": {"province": province, "area": g.area or None, "commune": g.commune},
        "status": {
            "online": g.online,
            "state": g.state.value,
            "state_label": g.state.label,
            "last_contact": _iso(g.last_contact),
            "contacts": {kind: _iso(at) for kind, at in g.contacts.items()},
            "now_playing": None if playing is None else {
                "title": playing.title, "kind": playing.kind, "since": _iso(playing.since), "source": playing.source,
            },
            "today": {"planned": g.today.planned, "aired": g.today.aired, "missed": g.today.missed,
                      "upcoming": g.today.upcoming},
        },
    }


def stations(session: Session, args: Mapping[str, str], now: datetime, tz: ZoneInfo, silent_minutes: int
             ) -> dict[str, Any]:
    """Filters: area, commune, station (code), state (a scheduler.fleet.MapState value), active (true|false)."""
    page = paging(args)
    where = _place_filters(args)
    active = (args.get("active") or "").strip().lower()
    if active:
        if active not in ("true", "false"):
            raise ValueError(f"Tham số active=«{active[:20]}» chỉ nhận true hoặc false.")
        where.append(Station.active.is_(active == "true"))
    state = (args.get("state") or "").strip()
    if state and state not in {s.value for s in MapState}:
        raise ValueError(f"Trạng thái «{state[:40]}» không có. Chọn trong: {', '.join(s.value for s in MapState)}.")
    query = station_query(where)
    province = session.scalar(select(Province.name).order_by(Province.id).limit(1)) or ""
    if state:  # the state is known only once judged: judge all that match, then page
        judged = [g for g in glance(session, list(session.scalars(query)), now, tz, silent_minutes)
                  if g.state.value == state]
        total, shown = len(judged), judged[page.offset: page.offset + page.limit]
    else:
        total = _count(session, query)
        shown = glance(session, list(session.scalars(query.limit(page.limit).offset(page.offset))), now, tz,
                       silent_minutes)
    languages = dict(session.execute(select(Station.id, Station.languages)
                                     .where(Station.id.in_([g.station_id for g in shown]))).all())
    return page.envelope([station_json(g, province, languages.get(g.station_id, "vi")) for g in shown], total)


# -- programmes ---------------------------------------------------------------------------------


def programmes(session: Session, args: Mapping[str, str], now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """One ISO week's programmes (default: this week), filtered by area, commune and station, items with state."""
    page = paging(args, default=20, most=MAX_PROGRAMMES)
    week = str(IsoWeek.parse(args["week"])) if args.get("week") else str(current_weeks(now, tz)[0])
    query = (
        select(Programme).join(Programme.station).join(Station.commune)
        .outerjoin(Area, Area.id == Commune.area_id)
        .where(Programme.week == week, *_place_filters(args))
        .order_by(Station.code)
    )
    total = _count(session, query)
    rows = list(session.scalars(
        query.options(selectinload(Programme.items), selectinload(Programme.station))
        .limit(page.limit).offset(page.offset)
    ))
    items = [i for p in rows for i in p.items]
    verdicts = load_states(session, items, now)
    data = [
        {
            "station": p.station.code,
            "week": p.week,
            "version": p.version,
            "acked_version": p.acked_version,
            "built_at": _iso(p.built_at),
            "items": [
                {
                    "id": i.id, "start": _iso(i.start), "end": _iso(i.end), "kind": i.kind, "title": i.title,
                    "bulletin": i.bulletin_code, "topic": i.topic or None, "language": i.language,
                    "priority": i.priority, "duration_ms": i.duration_ms, "stream_url": i.stream_url,
                    "state": verdicts[i.id].state.value, "state_label": verdicts[i.id].label,
                }
                for i in p.items
            ],
        }
        for p in rows
    ]
    return page.envelope(data, total)


# -- airtime ------------------------------------------------------------------------------------


def _airtime_scope(args: Mapping[str, str]) -> Scope:
    given = [(level, (args.get(level) or "").strip()) for level in ("station", "commune", "area")]
    given = [(level, value) for level, value in given if value]
    if len(given) > 1:
        raise ValueError("Chỉ lọc theo một trong station, commune, area mỗi lần.")
    if not given:
        return Scope()
    level, value = given[0]
    return Scope(level, value)  # type: ignore[arg-type]


def airtime_daily(session: Session, args: Mapping[str, str], now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """Per local day from `from` to `to`, the airtime report's figures, grouped by `by`; paged by day."""
    if not args.get("from") or not args.get("to"):
        raise ValueError("Cần tham số from và to (ngày, dạng 2026-11-23).")
    first, last = parse_local_date(args["from"]), parse_local_date(args["to"])
    Period.custom(first, last)  # the order of the two dates, said in Vietnamese
    days = (last - first).days + 1
    if days > MAX_AIRTIME_SPAN:
        raise ValueError(f"Khoảng ngày dài {days} ngày; tối đa {MAX_AIRTIME_SPAN} ngày mỗi truy vấn.")
    by = (args.get("by") or "station").strip()
    if by not in BY_CHOICES:
        raise ValueError(f"Không nhóm theo «{by[:40]}» được. Chọn một trong: {', '.join(BY_CHOICES)}.")
    scope = _airtime_scope(args)
    page = paging(args, default=7, most=MAX_AIRTIME_DAYS)
    data = []
    for n in range(page.offset, min(days, page.offset + page.limit)):
        day = first + timedelta(days=n)
        report = build_report(session, ReportRequest(Period.custom(day, day), by, scope, missed_limit=0), now, tz)
        data.append({
            "day": day.isoformat(),
            "as_of": _iso(report.as_of),
            "totals": report.totals.as_dict(),
            "rows": [{"key": r.key, "label": r.label, "commune": r.commune or None, "area": r.area or None,
                      **r.figures.as_dict()} for r in report.rows],
        })
    return {**page.envelope(data, days), "by": by, "scope": {"level": scope.level, "value": scope.value or None}}


# -- bulletins ----------------------------------------------------------------------------------


def _since(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"Tham số updated_since=«{text[:40]}» phải là thời điểm ISO 8601, "
                         "ví dụ 2026-11-23T00:00:00+07:00.") from None
    if value.tzinfo is None:
        raise ValueError("Tham số updated_since cần múi giờ, ví dụ 2026-11-23T00:00:00+07:00.")
    return value


def bulletins(session: Session, args: Mapping[str, str]) -> dict[str, Any]:
    """Approved (or archived) bulletins; filters: status, topic, language, priority, valid_on, updated_since."""
    page = paging(args)
    status = (args.get("status") or BulletinStatus.APPROVED.value).strip()
    if status not in PUBLIC_BULLETINS:
        raise ValueError(f"Trạng thái «{status[:40]}» không đọc được qua API. Chọn: {', '.join(PUBLIC_BULLETINS)}.")
    query = select(Bulletin).where(Bulletin.status == status)
    for name in ("topic", "language", "priority"):
        if args.get(name):
            query = query.where(getattr(Bulletin, name) == args[name].strip())
    if args.get("valid_on"):
        day: date = parse_local_date(args["valid_on"])
        query = query.where(Bulletin.valid_from <= day, Bulletin.valid_to >= day)
    if args.get("updated_since"):
        query = query.where(Bulletin.updated_at >= _since(args["updated_since"]))
    total = _count(session, query)
    rows = list(session.scalars(
        query.options(selectinload(Bulletin.audio)).order_by(Bulletin.updated_at.desc(), Bulletin.id.desc())
        .limit(page.limit).offset(page.offset)
    ))
    return page.envelope([bulletin_json(b) for b in rows], total)


def bulletin_json(b: Bulletin) -> dict[str, Any]:
    audio: AudioAsset | None = b.audio
    return {
        "code": b.code,
        "title": b.title,
        "text": b.text,
        "topic": b.topic,
        "topic_label": topic_label(b.topic),
        "language": b.language,
        "language_label": language_label(b.language),
        "priority": b.priority,
        "priority_label": priority_label(b.priority),
        "status": b.status,
        "valid_from": b.valid_from.isoformat(),
        "valid_to": b.valid_to.isoformat(),
        "plays_per_week": b.plays_per_week,
        "targets": list(b.targets or []),
        "approved_at": _iso(b.approved_at),
        "updated_at": _iso(b.updated_at),
        "audio": None if audio is None else {"sha256": audio.sha256, "duration_ms": audio.duration_ms},
    }
