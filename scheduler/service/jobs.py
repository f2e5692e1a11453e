"""The bodies of the service's jobs: each takes the process context and an injected `now`.

They are safe to run again (idempotent) and to run late: APScheduler may coalesce missed runs
into one, and a new leader may repeat what a dying one half did.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler import audit
from scheduler.db.models import Bulletin, Programme, Station
from scheduler.db.session import transaction
from scheduler.domain import BulletinStatus, IsoWeek
from scheduler.programmes import BuildResult, build_week, current_weeks
from scheduler.service import heartbeat
from scheduler.service.config import ServiceConfig
from scheduler.service.watch import decide, planning_fingerprint
from scheduler.settings import Settings

log = logging.getLogger(__name__)

# Statuses that lapse when a bulletin's validity has passed; drafts and returned ones stay with
# their editor, who may change the dates.
EXPIRING = (BulletinStatus.APPROVED.value, BulletinStatus.SUBMITTED.value)
WATCH_KEY = "rebuild_watch"


def optional(module: str, name: str) -> Callable[..., Any] | None:
    """`module.name` if that part of loaxa is installed, else None (another area may not exist yet)."""
    try:
        found = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    return found if callable(found) else None


@dataclass(frozen=True)
class JobContext:
    settings: Settings
    sessions: sessionmaker[Session]
    config: ServiceConfig
    clock: Callable[[], datetime]


def render_audio(ctx: JobContext, now: datetime) -> Any:
    """Render approved or submitted bulletins that have no audio yet."""
    from scheduler.rendering import render_pending

    summary = render_pending(ctx.sessions, ctx.settings.media_dir, ctx.settings.audio, clock=ctx.clock)
    if summary.rendered or summary.failed:
        log.info("đã đọc %d bản tin thành âm thanh, %d lỗi", len(summary.rendered), len(summary.failed))
    return summary


def _build(ctx: JobContext, week: IsoWeek, now: datetime) -> BuildResult:
    with transaction(ctx.sessions) as session:
        result = build_week(session, week, now, ctx.settings.tz, ctx.settings.no_change_minutes)
    log.info("lập lịch tuần %s: %d đài có lịch mới, %d đài giữ nguyên",
             week, len(result.changed), len(result.unchanged))
    return result


def build_next_week(ctx: JobContext, now: datetime) -> BuildResult:
    """Plan and store next week's programmes (by the local calendar) for every station."""
    return _build(ctx, current_weeks(now, ctx.settings.tz)[1], now)


def _weeks_to_rebuild(session: Session, now: datetime, ctx: JobContext) -> list[IsoWeek]:
    this_week, next_week = current_weeks(now, ctx.settings.tz)
    weeks = [this_week]
    # Next week is rebuilt only once it exists: its first build is build_next_week's job.
    if session.scalar(select(Programme.id).where(Programme.week == str(next_week)).limit(1)) is not None:
        weeks.append(next_week)
    return weeks


@dataclass
class WatchOutcome:
    reason: str
    rebuilt: list[BuildResult] = field(default_factory=list)


def watch_changes(ctx: JobContext, now: datetime) -> WatchOutcome:
    """Rebuild this week (and next, if built) once planning inputs changed and then settled."""
    with transaction(ctx.sessions) as session:
        fingerprint = planning_fingerprint(session)
        decision = decide(
            heartbeat.load_state(session, WATCH_KEY), fingerprint, now,
            quiet=timedelta(seconds=ctx.config.rebuild_quiet_seconds),
            max_wait=timedelta(seconds=ctx.config.rebuild_max_wait_seconds),
        )
        if not decision.rebuild:
            heartbeat.save_state(session, WATCH_KEY, decision.state)
            return WatchOutcome(decision.reason)
        weeks = _weeks_to_rebuild(session, now, ctx)
    outcome = WatchOutcome(decision.reason, [_build(ctx, week, now) for week in weeks])
    with transaction(ctx.sessions) as session:
        # The fingerprint read before building: a change made during the build shows next poll.
        heartbeat.save_state(session, WATCH_KEY, {"built": fingerprint})
    return outcome


def push_programmes(ctx: JobContext, now: datetime) -> Any:
    """Push (and re-push) programmes stations have not acknowledged; no-op without the delivery package."""
    push_pending = optional("scheduler.delivery", "push_pending")
    if push_pending is None:
        log.debug("scheduler.delivery is not available: stations fetch programmes by HTTP only")
        return None
    return push_pending(ctx.sessions, ctx.settings, now)


def expire_bulletins(ctx: JobContext, now: datetime) -> list[str]:
    """Archive (lưu trữ) approved or submitted bulletins whose last valid day is over; return their codes."""
    today = now.astimezone(ctx.settings.tz).date()
    with transaction(ctx.sessions) as session:
        rows = list(session.scalars(
            select(Bulletin).where(Bulletin.status.in_(EXPIRING), Bulletin.valid_to < today).order_by(Bulletin.code)
        ))
        for bulletin in rows:
            audit.record(session, now, None, "bulletin.expire", "bulletin", bulletin.id,
                         before={"status": bulletin.status},
                         after={"status": BulletinStatus.ARCHIVED.value, "valid_to": bulletin.valid_to.isoformat()})
            bulletin.status = BulletinStatus.ARCHIVED.value
            bulletin.updated_at = now
    if rows:
        log.info("đã lưu trữ %d bản tin hết hạn", len(rows))
    return [b.code for b in rows]


def last_contact(station: Station) -> datetime | None:
    """The latest of the station's manifest fetch, status report and play-log upload."""
    seen = [t for t in (station.last_manifest_at, station.last_status_at, station.last_log_at) if t is not None]
    return max(seen) if seen else None


@dataclass
class MonitorOutcome:
    went_silent: list[str] = field(default_factory=list)
    came_back: list[str] = field(default_factory=list)
    never_seen: list[str] = field(default_factory=list)


def flag_silent_stations(ctx: JobContext, now: datetime) -> MonitorOutcome:
    """Keep `Station.status["monitor"]` = {online, since, last_contact} current; log each change.

    A station is online if it made any contact in the last `silent_minutes`; one that never made
    contact counts as offline. A row is written only when its state flips.
    """
    limit = timedelta(minutes=ctx.config.silent_minutes)
    outcome = MonitorOutcome()
    with transaction(ctx.sessions) as session:
        for station in list(session.scalars(select(Station).where(Station.active).order_by(Station.code))):
            if _online(station, now, limit) == (station.status or {}).get("monitor", {}).get("online"):
                continue
            # Lock and re-read only the rows that change, so a status report arriving meanwhile is kept.
            session.refresh(station, with_for_update=True)
            online = _online(station, now, limit)
            status = dict(station.status or {})
            if online == status.get("monitor", {}).get("online"):
                continue
            contact = last_contact(station)
            if online:
                outcome.came_back.append(station.code)
                log.info("đài %s đã liên lạc trở lại", station.code)
            elif contact is None:
                outcome.never_seen.append(station.code)
                log.warning("đài %s chưa từng liên lạc với máy chủ", station.code)
            else:
                outcome.went_silent.append(station.code)
                log.warning("đài %s mất liên lạc từ %s", station.code, contact.isoformat())
            status["monitor"] = {"online": online, "since": now.isoformat(), "last_contact": _iso(contact)}
            station.status = status
    return outcome


def _online(station: Station, now: datetime, limit: timedelta) -> bool:
    contact = last_contact(station)
    return contact is not None and now - contact <= limit


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def rollup_reports(ctx: JobContext, now: datetime) -> Any:
    """Nightly report roll-ups; no-op without the reports roll-up module."""
    rollup_pending = optional("scheduler.reports.rollup", "rollup_pending")
    if rollup_pending is None:
        log.debug("scheduler.reports.rollup is not available: no roll-up to run")
        return None
    with transaction(ctx.sessions) as session:
        return rollup_pending(session, now, ctx.settings.tz)


JOBS: dict[str, Callable[[JobContext, datetime], Any]] = {
    "render-audio": render_audio,
    "watch-changes": watch_changes,
    "build-next-week": build_next_week,
    "push-programmes": push_programmes,
    "expire-bulletins": expire_bulletins,
    "flag-silent-stations": flag_silent_stations,
    "rollup-reports": rollup_reports,
}
