"""The APScheduler set-up: which job runs when, with what misfire grace, in the SQLAlchemy job store.

Misfires: every job is idempotent, so missed runs are coalesced into one. Frequent jobs get one
interval of grace, so after a takeover the missed run fires at once instead of an interval later;
daily and weekly jobs get hours of grace, so a service that was down at 02:00 still builds next week
when it comes back that morning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from scheduler.service.config import ServiceConfig
from scheduler.service.runtime import run_job

JOBSTORE_TABLE = "apscheduler_jobs"
RUN_JOB = "scheduler.service.runtime:run_job"
HOUR = 3600


@dataclass(frozen=True)
class JobSpec:
    id: str
    trigger: BaseTrigger
    signature: str  # stored as the job's name; a job whose signature changed is replaced
    misfire_grace_seconds: int
    label: str = ""  # what and when, in Vietnamese, for the operator's log


WEEKDAYS_VI = {"mon": "thứ Hai", "tue": "thứ Ba", "wed": "thứ Tư", "thu": "thứ Năm", "fri": "thứ Sáu",
               "sat": "thứ Bảy", "sun": "Chủ nhật"}  # fmt: skip


def _interval(job_id: str, seconds: int, what: str) -> JobSpec:
    return JobSpec(job_id, IntervalTrigger(seconds=seconds), f"{job_id} every {seconds}s", seconds,
                   f"{what} (mỗi {seconds} giây)")


def _cron(job_id: str, tz: ZoneInfo, at: time, grace: int, what: str, day_of_week: str = "*",
          minute: str | None = None, hour: str | None = None) -> JobSpec:
    every_hour = hour == "*"
    hour = hour if hour is not None else str(at.hour)
    minute = minute if minute is not None else str(at.minute)
    when = f"{WEEKDAYS_VI.get(day_of_week, day_of_week)} lúc {at:%H:%M}" if day_of_week != "*" else \
        (f"mỗi giờ, phút {int(minute):02d}" if every_hour else f"hằng ngày lúc {at:%H:%M}")
    trigger = CronTrigger(day_of_week=day_of_week, hour=hour, minute=minute, timezone=tz)
    return JobSpec(job_id, trigger, f"{job_id} cron {day_of_week} {hour}:{minute} {tz.key}", grace,
                   f"{what} ({when})")


def job_specs(config: ServiceConfig, tz: ZoneInfo) -> list[JobSpec]:
    """Every job the service runs, with its trigger in local time `tz`."""
    return [
        _interval("watch-changes", config.watch_every_seconds, "đọc bản tin mới duyệt, lập lại lịch khi có thay đổi"),
        _interval("push-programmes", config.push_every_seconds, "gửi lịch mới xuống đài"),
        _interval("flag-silent-stations", config.monitor_every_seconds, "theo dõi đài mất liên lạc"),
        _cron("build-next-week", tz, config.build_at, 24 * HOUR, "lập lịch tuần sau", day_of_week=config.build_day),
        # Hourly at :01, so bulletins lapse just after local midnight even if a run is missed.
        _cron("expire-bulletins", tz, time(0, 1), HOUR, "lưu trữ bản tin hết hạn", hour="*", minute="1"),
        _cron("prune-manifest-changes", tz, time(0, 31), HOUR, "xóa dấu thay đổi lịch đã cũ", hour="*", minute="31"),
        _cron("rollup-reports", tz, config.rollup_at, 12 * HOUR, "tổng hợp số liệu báo cáo"),
        _interval("check-alerts", config.alert_every_seconds, "kiểm tra cảnh báo"),
        # Hourly from the summary time on: the body sends once a local day, so a failed send is retried.
        _cron("alert-summary", tz, config.alert_summary_at, HOUR, "gửi bản tóm tắt cảnh báo trong ngày", hour="*"),
    ]


def make_scheduler(engine: Engine, tz: ZoneInfo) -> BackgroundScheduler:
    """A background scheduler whose jobs live in `apscheduler_jobs` on the project database."""
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBSTORE_TABLE)},
        executors={"default": {"type": "threadpool", "max_workers": 4}},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=tz,
    )


def reconcile(scheduler: BackgroundScheduler, specs: list[JobSpec]) -> dict[str, str]:
    """Make the stored jobs match `specs`; return job id -> kept | added | replaced | removed.

    An unchanged job is kept as stored, with its next run time, so a run missed while no leader was
    up is caught up under its misfire grace. Call on a started (paused) scheduler.
    """
    actions: dict[str, str] = {}
    wanted = {spec.id for spec in specs}
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            job.remove()
            actions[job.id] = "removed"
    for spec in specs:
        current = scheduler.get_job(spec.id)
        if current is not None and current.name == spec.signature and current.func_ref == RUN_JOB \
                and tuple(current.args) == (spec.id,) and current.misfire_grace_time == spec.misfire_grace_seconds:
            actions[spec.id] = "kept"
            continue
        scheduler.add_job(
            run_job, spec.trigger, args=[spec.id], id=spec.id, name=spec.signature, replace_existing=True,
            misfire_grace_time=spec.misfire_grace_seconds, coalesce=True, max_instances=1,
        )
        actions[spec.id] = "added" if current is None else "replaced"
    return actions
