"""Which stations' programmes no longer match what they would be planned from, and rebuilding them.

A programme records the digest of its inputs when it is built (scheduler.programmes.inputs); an
approval, an edit of a bulletin, a station, a commune or a province changes the digest of exactly
the stations it concerns, whichever page or command made it. Those stations are stale until the
watcher (scheduler.service.jobs.watch_changes) rebuilds them, and pages say so meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.db.models import Programme, Station
from scheduler.domain import BulletinInput, IsoWeek
from scheduler.programmes.build import BuildResult, build_week
from scheduler.programmes.inputs import bulletin_inputs, inputs_digest, load_stations, station_input

log = logging.getLogger(__name__)

PENDING_TEXT = (
    "Lịch tuần này chưa theo kịp thay đổi mới nhất (bản tin vừa duyệt hoặc sửa, khung giờ, quy định). "
    "Hệ thống tự lập lại lịch cho đài trong vòng một phút; tải lại trang để xem lịch mới."
)


def _digests(session: Session, week: IsoWeek, stations: Sequence[Station]) -> dict[str, str]:
    bulletins: list[BulletinInput] = bulletin_inputs(session, week, stations)
    out: dict[str, str] = {}
    for station in stations:
        try:
            out[station.code] = inputs_digest(station_input(station), bulletins, week)
        except ValueError:
            out[station.code] = "bad-input"  # windows that no longer parse: the build will say why
    return out


def stale_stations(session: Session, week: IsoWeek, stations: Sequence[Station] | None = None) -> list[str]:
    """Codes of active stations (of `stations`, default all) whose programme of `week` is missing or stale."""
    chosen = list(stations) if stations is not None else load_stations(session)
    if not chosen:
        return []
    stored: dict[int, str | None] = {
        station_id: digest
        for station_id, digest in session.execute(
            select(Programme.station_id, Programme.inputs_hash).where(
                Programme.week == str(week), Programme.station_id.in_([s.id for s in chosen])
            )
        )
    }
    digests = _digests(session, week, chosen)
    return [s.code for s in chosen if s.id not in stored or stored[s.id] != digests[s.code]]


def is_stale(session: Session, station: Station, week: IsoWeek) -> bool:
    """Whether a rebuild of this station's `week` is pending."""
    return bool(stale_stations(session, week, [station]))


def rebuild_stale(
    session: Session, week: IsoWeek, now: datetime, tz: ZoneInfo, horizon_minutes: int
) -> BuildResult | None:
    """Rebuild the stale stations of `week` (None when there are none). A station whose stored input
    cannot be planned (windows that no longer parse) is left out and logged; the others still are."""
    chosen = load_stations(session)
    codes = stale_stations(session, week, chosen)
    if not codes:
        return None
    good = []
    for station in (s for s in chosen if s.code in codes):
        try:
            station_input(station)
        except ValueError as exc:
            log.error("không lập lại được lịch tuần %s cho đài %s: %s", week, station.code, exc)
            continue
        good.append(station.code)
    if not good:
        return None
    return build_week(session, week, now, tz, horizon_minutes, station_codes=good)
