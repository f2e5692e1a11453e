"""The service loop: stand by until the lead is free, then run the scheduler while beating.

A leader that loses its lock (database connection broken) stops its scheduler at once and goes
back to standing by, so two schedulers never run the jobs together for longer than one poll.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from scheduler.db.session import make_engine, make_session_factory, transaction
from scheduler.delivery.status_listener import StatusListener
from scheduler.service import heartbeat, runtime
from scheduler.service.config import ServiceConfig
from scheduler.service.jobs import JobContext
from scheduler.service.leader import LeaderLock, make_lock
from scheduler.service.schedule import job_specs, make_scheduler, reconcile
from scheduler.settings import Settings

log = logging.getLogger(__name__)


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_service(
    settings: Settings, config: ServiceConfig, stop: threading.Event, clock: Callable[[], datetime],
    lock: LeaderLock | None = None,
) -> None:
    """Run until `stop` is set: lead when the lock is free, otherwise stand by and retry every poll."""
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    lock = lock or make_lock(engine, config.leader_poll_seconds)
    context = JobContext(settings=settings, sessions=sessions, config=config, clock=clock)
    standing_by = False
    try:
        while not stop.is_set():
            if lock.acquire():
                standing_by = False
                try:
                    _lead(context, engine, lock, stop, holder_name())
                except SQLAlchemyError:
                    log.exception("cơ sở dữ liệu lỗi khi đang chạy chính; chuyển sang dự phòng và thử lại")
                    lock.release()
                    stop.wait(config.leader_poll_seconds)
                continue
            if not standing_by:
                standing_by = True
                log.info("Đang dự phòng: %s", _leader_text(context))
            stop.wait(config.leader_poll_seconds)
    finally:
        lock.release()
        engine.dispose()


def _leader_text(context: JobContext) -> str:
    try:
        with context.sessions() as session:
            row = heartbeat.read(session)
    except SQLAlchemyError:
        return "không kết nối được cơ sở dữ liệu"
    if row is None or not row.holder:
        return "một bộ lập lịch khác đang giữ khóa"
    host, _, pid = row.holder.rpartition(":")
    beat = f"lần báo gần nhất {row.beat_at.isoformat(timespec='seconds')}" if row.beat_at else "chưa báo lần nào"
    return f"bộ lập lịch trên máy {host} (tiến trình {pid}) đang làm việc, {beat}; sẽ thay khi nó dừng"


def _beat(context: JobContext, holder: str, started_at: datetime) -> None:
    try:
        with transaction(context.sessions) as session:
            heartbeat.beat(session, holder, os.getpid(), started_at, context.clock())
    except SQLAlchemyError as exc:  # a missed beat is not fatal; a lost lock is, and is checked apart
        log.warning("không ghi được nhịp hoạt động: %s", exc.__class__.__name__)


def _status_listener(context: JobContext) -> StatusListener | None:
    """With a broker configured, the leader records the stations' MQTT status and last wills."""
    if not context.settings.mqtt_url:
        return None
    listener = StatusListener(context.settings.mqtt_url, context.sessions, context.clock)
    listener.start()  # connects in the background and retries while the broker is down
    return listener


def _lead(context: JobContext, engine: Engine, lock: LeaderLock, stop: threading.Event, holder: str) -> None:
    started_at = context.clock()
    host, _, pid = holder.rpartition(":")
    log.info("Bộ lập lịch nền bắt đầu làm việc (máy %s, tiến trình %s).", host, pid)
    runtime.install(context)
    scheduler = make_scheduler(engine, context.settings.tz)
    scheduler.start(paused=True)
    listener = _status_listener(context)
    lost = False
    try:
        specs = job_specs(context.config, context.settings.tz)
        actions = reconcile(scheduler, specs)
        log.debug("jobs: %s", actions)
        log.info("Các việc định kỳ: %s.", "; ".join(spec.label for spec in specs))
        scheduler.resume()
        _beat(context, holder, started_at)  # only now: a beat means the jobs are scheduled
        while not stop.wait(context.config.leader_poll_seconds):
            if not lock.still_held():
                lost = True
                log.error("mất khóa bộ lập lịch; dừng các việc và chuyển sang dự phòng")
                break
            _beat(context, holder, started_at)
    finally:
        # On a lost lock another leader may already run: do not wait for our jobs to finish.
        scheduler.shutdown(wait=not lost)
        if listener is not None:
            listener.stop()
        runtime.install(None)
        if lost:
            lock.release()
