"""The bodies of the service's jobs: each takes the process context and an injected `now`.

They are safe to run again (idempotent) and to run late: APScheduler may coalesce missed runs
into one, and a new leader may repeat what a dying one half did.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler import audit, commune_choice
from scheduler.alerts.engine import CheckOutcome, check_alerts, send_summaries
from scheduler.db.changes import prune_changes
from scheduler.db.models import Bulletin, Programme, Station
from scheduler.db.session import transaction
from scheduler.delivery import push_pending
from scheduler.domain import BulletinStatus, IsoWeek
from scheduler.liveness import is_online, last_contact
from scheduler.planning import collector_paused
from scheduler.programmes import BuildResult, build_week, current_weeks
from scheduler.programmes.staleness import rebuild_stale
from scheduler.rendering import render_pending
from scheduler.reports.rollup import rollup_pending
from scheduler.service import heartbeat
from scheduler.service.config import ServiceConfig
from scheduler.service.watch import planning_fingerprint
from scheduler.settings import Settings

log = logging.getLogger(__name__)

# Statuses that lapse when a bulletin's validity has passed; drafts and returned ones stay with
# their editor, who may change the dates.
EXPIRING = (BulletinStatus.APPROVED.value, BulletinStatus.SUBMITTED.value)
WATCH_KEY = "rebuild_watch"


@dataclass(frozen=True)
class JobContext:
    settings: Settings
    sessions: sessionmaker[Session]
    config: ServiceConfig
    clock: Callable[[], datetime]


def render_audio(ctx: JobContext, now: datetime) -> Any:
    """Render approved or submitted bulletins that have no audio yet."""
    summary = render_pending(ctx.sessions, ctx.settings.media_dir, ctx.settings.audio, clock=ctx.clock)
    if summary.rendered or summary.failed:
        log.info("đã đọc %d bản tin thành âm thanh, %d lỗi", len(summary.rendered), len(summary.failed))
    return summary


def _log_build(result: BuildResult) -> None:
    log.info("lập lịch tuần %s: %d đài có lịch mới, %d đài giữ nguyên",
             result.week, len(result.changed), len(result.unchanged))


def build_next_week(ctx: JobContext, now: datetime) -> BuildResult:
    """Plan and store next week's programmes (by the local calendar) for every station."""
    week = current_weeks(now, ctx.settings.tz)[1]
    with transaction(ctx.sessions) as session, collector_paused():
        result = build_week(session, week, now, ctx.settings.tz, ctx.settings.no_change_minutes)
    _log_build(result)
    return result


def _weeks_to_rebuild(session: Session, now: datetime, ctx: JobContext) -> list[IsoWeek]:
    this_week, next_week = current_weeks(now, ctx.settings.tz)
    weeks = [this_week]
    # Next week is rebuilt only once it exists: its first build is build_next_week's job.
    if session.scalar(select(Programme.id).where(Programme.week == str(next_week)).limit(1)) is not None:
        weeks.append(next_week)
    return weeks


@dataclass
class WatchOutcome:
    reason: str  # unchanged: nothing the planner reads changed | checked: nothing stale | rebuilt
    rebuilt: list[BuildResult] = field(default_factory=list)
    rendered: list[str] = field(default_factory=list)


def _rebuild_stale(ctx: JobContext, now: datetime, weeks: list[IsoWeek]) -> list[BuildResult]:
    results = []
    for week in weeks:
        with transaction(ctx.sessions) as session:
            result = rebuild_stale(session, week, now, ctx.settings.tz, ctx.settings.no_change_minutes)
        if result is not None:
            _log_build(result)
            results.append(result)
    return results


def watch_changes(ctx: JobContext, now: datetime) -> WatchOutcome:
    """Rebuild the stations whose inputs changed (this week, and next once built), render new audio,
    and rebuild again the stations its bulletins reach: an approval airs within a tick or two."""
    with transaction(ctx.sessions) as session:
        commune_choice.apply_deadlines(session, now)  # a commune's default, once its deadline passed
    with transaction(ctx.sessions) as session:
        weeks = _weeks_to_rebuild(session, now, ctx)
        fingerprint = planning_fingerprint(session, weeks)
        unchanged = heartbeat.load_state(session, WATCH_KEY).get("checked") == fingerprint
    outcome = WatchOutcome("unchanged")
    if not unchanged:
        outcome.rebuilt = _rebuild_stale(ctx, now, weeks)
    summary = render_audio(ctx, now)
    outcome.rendered = list(summary.rendered)
    if summary.rendered:
        outcome.rebuilt += _rebuild_stale(ctx, now, weeks)
    if outcome.rebuilt:
        outcome.reason = "rebuilt"
    elif not unchanged or summary.rendered:
        outcome.reason = "checked"
    if not unchanged:
        with transaction(ctx.sessions) as session:
            # The fingerprint read before building: a change made during the build shows next time.
            heartbeat.save_state(session, WATCH_KEY, {"checked": fingerprint})
    return outcome


def push_programmes(ctx: JobContext, now: datetime) -> Any:
    """Push (and re-push) programmes stations have not acknowledged."""
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


def prune_manifest_changes(ctx: JobContext, now: datetime) -> int:
    """Drop manifest change rows older than a day (scheduler.db.changes); how many."""
    with transaction(ctx.sessions) as session:
        return prune_changes(session.connection(), now)


@dataclass
class MonitorOutcome:
    went_silent: list[str] = field(default_factory=list)
    came_back: list[str] = field(default_factory=list)
    never_seen: list[str] = field(default_factory=list)


def flag_silent_stations(ctx: JobContext, now: datetime) -> MonitorOutcome:
    """Keep `Station.status["monitor"]` = {online, since, last_contact} current; log each change.

    Online as scheduler.liveness says (any contact within LOAXA_SILENT_MINUTES). A row is written
    only when its state flips.
    """
    limit = ctx.settings.silent_minutes
    outcome = MonitorOutcome()
    with transaction(ctx.sessions) as session:
        for station in list(session.scalars(select(Station).where(Station.active).order_by(Station.code))):
            if is_online(station, now, limit) == (station.status or {}).get("monitor", {}).get("online"):
                continue
            # Lock and re-read only the rows that change, so a status report arriving meanwhile is kept.
            session.refresh(station, with_for_update=True)
            online = is_online(station, now, limit)
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


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def rollup_reports(ctx: JobContext, now: datetime) -> Any:
    """Nightly report roll-ups."""
    with transaction(ctx.sessions) as session:
        return rollup_pending(session, now, ctx.settings.tz)


def alert_people(ctx: JobContext, now: datetime) -> CheckOutcome:
    """Evaluate the alert rules; tell the people in scope of new alerts and of recoveries."""
    return check_alerts(ctx.sessions, ctx.settings, now)


def alert_summary(ctx: JobContext, now: datetime) -> dict[str, str | None]:
    """The daily alert summary, once a local day from LOAXA_ALERT_SUMMARY_AT on (hourly runs retry)."""
    at = ctx.config.alert_summary_at
    if now.astimezone(ctx.settings.tz).time().replace(tzinfo=None) < at:
        return {}
    return send_summaries(ctx.sessions, ctx.settings, now)


JOBS: dict[str, Callable[[JobContext, datetime], Any]] = {
    "watch-changes": watch_changes,
    "build-next-week": build_next_week,
    "push-programmes": push_programmes,
    "expire-bulletins": expire_bulletins,
    "flag-silent-stations": flag_silent_stations,
    "prune-manifest-changes": prune_manifest_changes,
    "rollup-reports": rollup_reports,
    "check-alerts": alert_people,
    "alert-summary": alert_summary,
}
