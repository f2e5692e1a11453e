"""Operational figures for /metrics, read from the database at one instant `now`.

Online is scheduler.liveness's answer: any contact (manifest fetch, status report or play-log
upload) within the last `silent_minutes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.db.models import Bulletin, PlayLog, Programme, ServiceHeartbeat, Station
from scheduler.domain import BulletinStatus, IsoWeek
from scheduler.liveness import never_seen_clause, online_clause

DELAY_WINDOW = timedelta(hours=1)  # play-log rows received this recently feed the delay figures


@dataclass
class Snapshot:
    stations_online: int = 0
    stations_offline: int = 0
    stations_never_seen: int = 0  # also counted offline
    programmes_awaiting_delivery: int = 0  # this week's or later, version > acked_version
    render_queue: int = 0  # approved bulletins without audio and without a render error
    render_failed: int = 0  # approved bulletins whose last render failed
    playlog_age_seconds: dict[str, float] = field(default_factory=dict)  # station -> since last upload
    playlog_delay_max_seconds: float = 0.0  # received_at - actual_start, rows received in DELAY_WINDOW
    playlog_delay_mean_seconds: float = 0.0
    playlog_recent_rows: int = 0
    scheduler_beat_age_seconds: float | None = None
    job_failures: dict[str, int] = field(default_factory=dict)  # job name -> failures counted by the service


def _job_failures(state: dict[str, Any]) -> dict[str, int]:
    """Failure counters the scheduler service keeps in its heartbeat state, if it keeps any."""
    jobs = state.get("jobs")
    if not isinstance(jobs, dict):
        return {}
    out = {}
    for name, record in jobs.items():
        if isinstance(record, dict) and isinstance(record.get("failures"), int):
            out[str(name)] = int(record["failures"])
    return out


def _count(session: Session, model: Any, *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def collect(session: Session, now: datetime, tz: ZoneInfo, silent_minutes: int) -> Snapshot:
    snap = Snapshot()
    active = Station.active.is_(True)
    total = _count(session, Station, active)
    snap.stations_online = _count(session, Station, active, online_clause(now, silent_minutes))
    snap.stations_offline = total - snap.stations_online
    snap.stations_never_seen = _count(session, Station, active, never_seen_clause())

    this_week = str(IsoWeek.of(now.astimezone(tz).date()))  # "2026-W05" sorts as text
    awaiting = (Programme.week >= this_week, Programme.version > Programme.acked_version)
    snap.programmes_awaiting_delivery = _count(session, Programme.__table__.join(Station.__table__), active, *awaiting)

    approved_silent = (Bulletin.status == BulletinStatus.APPROVED.value, Bulletin.audio_asset_id.is_(None))
    snap.render_queue = _count(session, Bulletin, *approved_silent, Bulletin.render_error.is_(None))
    snap.render_failed = _count(session, Bulletin, *approved_silent, Bulletin.render_error.is_not(None))

    for code, last_log in session.execute(select(Station.code, Station.last_log_at).where(active)):
        if last_log is not None:
            snap.playlog_age_seconds[code] = max(0.0, (now - last_log).total_seconds())
    recent = session.execute(
        select(PlayLog.received_at, PlayLog.actual_start).where(PlayLog.received_at >= now - DELAY_WINDOW)
    ).all()
    delays = [max(0.0, (received - started).total_seconds()) for received, started in recent]
    if delays:
        snap.playlog_recent_rows = len(delays)
        snap.playlog_delay_max_seconds = max(delays)
        snap.playlog_delay_mean_seconds = sum(delays) / len(delays)

    beat = session.scalar(select(ServiceHeartbeat).where(ServiceHeartbeat.name == "scheduler"))
    if beat is not None:
        if beat.beat_at is not None:
            snap.scheduler_beat_age_seconds = max(0.0, (now - beat.beat_at).total_seconds())
        snap.job_failures = _job_failures(beat.state or {})
    return snap
