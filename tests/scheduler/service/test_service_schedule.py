"""The APScheduler set-up: explicit job ids in `apscheduler_jobs`, kept across restarts, local-time triggers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from service_world import add_bulletin
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.models import Bulletin
from scheduler.db.session import transaction
from scheduler.service import runtime
from scheduler.service.config import ServiceConfig
from scheduler.service.jobs import JOBS, JobContext
from scheduler.service.schedule import JOBSTORE_TABLE, job_specs, make_scheduler, reconcile
from tests.fake_clock import FakeClock

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


DEFAULTS = ServiceConfig()


def started(engine: Engine, config: ServiceConfig = DEFAULTS) -> tuple[BackgroundScheduler, dict[str, str]]:
    scheduler = make_scheduler(engine, TZ)
    scheduler.start(paused=True)
    return scheduler, reconcile(scheduler, job_specs(config, TZ))


def stored_rows(engine: Engine) -> dict[str, float]:
    with engine.connect() as conn:
        return dict(conn.execute(text(f"SELECT id, next_run_time FROM {JOBSTORE_TABLE}")).all())


def test_every_job_is_stored_under_its_own_id(jobstore: Engine) -> None:
    scheduler, actions = started(jobstore)
    scheduler.shutdown(wait=False)
    assert set(actions) == set(JOBS) and set(actions.values()) == {"added"}
    assert set(stored_rows(jobstore)) == set(JOBS)


def test_a_restart_keeps_the_stored_jobs_and_their_next_run_times(jobstore: Engine) -> None:
    scheduler, _ = started(jobstore)
    scheduler.shutdown(wait=False)
    before = stored_rows(jobstore)
    scheduler, actions = started(jobstore)
    scheduler.shutdown(wait=False)
    assert set(actions.values()) == {"kept"}
    assert stored_rows(jobstore) == before


def test_a_changed_build_day_replaces_only_that_job(jobstore: Engine) -> None:
    scheduler, _ = started(jobstore)
    scheduler.shutdown(wait=False)
    scheduler, actions = started(jobstore, replace(ServiceConfig(), build_day="fri"))
    job = scheduler.get_job("build-next-week")
    scheduler.shutdown(wait=False)
    assert actions.pop("build-next-week") == "replaced"
    assert set(actions.values()) == {"kept"}
    assert job is not None and job.next_run_time.weekday() == 4


def test_a_job_no_longer_configured_is_removed(jobstore: Engine) -> None:
    scheduler = make_scheduler(jobstore, TZ)
    scheduler.start(paused=True)
    scheduler.add_job(runtime.run_job, "interval", args=["render-audio"], id="old-job", minutes=5)
    actions = reconcile(scheduler, job_specs(ServiceConfig(), TZ))
    scheduler.shutdown(wait=False)
    assert actions["old-job"] == "removed"
    assert "old-job" not in stored_rows(jobstore)


def test_missed_runs_coalesce_and_grace_matches_each_jobs_rhythm(jobstore: Engine) -> None:
    scheduler, _ = started(jobstore)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    scheduler.shutdown(wait=False)
    assert all(job.coalesce and job.max_instances == 1 for job in jobs.values())
    assert jobs["watch-changes"].misfire_grace_time == 20
    assert jobs["push-programmes"].misfire_grace_time == 60
    assert jobs["build-next-week"].misfire_grace_time == 24 * 3600
    assert all(job.func_ref == "scheduler.service.runtime:run_job" and job.args == (job.id,)
               for job in jobs.values())


def test_daily_and_weekly_triggers_follow_hanoi_wall_clock() -> None:
    specs = {spec.id: spec for spec in job_specs(ServiceConfig(), TZ)}
    monday = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # Monday 10:00 in Hà Nội
    build = specs["build-next-week"].trigger.get_next_fire_time(None, monday)
    assert build == datetime(2026, 11, 26, 2, 0, tzinfo=TZ)  # Thursday 02:00 local
    rollup = specs["rollup-reports"].trigger.get_next_fire_time(None, monday)
    assert rollup == datetime(2026, 11, 24, 1, 30, tzinfo=TZ)
    expire = specs["expire-bulletins"].trigger.get_next_fire_time(None, datetime(2026, 11, 22, 16, 59, tzinfo=UTC))
    assert expire == datetime(2026, 11, 23, 0, 1, tzinfo=TZ)  # just after local midnight


def test_the_stored_entry_point_runs_the_named_job_with_the_installed_context(
    sessions: sessionmaker[Session], context: JobContext, clock: FakeClock
) -> None:
    with transaction(sessions) as s:
        add_bulletin(s, "HET-01", "Bản tin đã hết hạn.", clock(), valid_to=date(2026, 11, 1))
    runtime.install(context)
    try:
        assert runtime.run_job("expire-bulletins") == ["HET-01"]
    finally:
        runtime.install(None)
    with sessions() as s:
        assert s.scalars(select(Bulletin.status)).one() == "luu_tru"
    with pytest.raises(RuntimeError, match="before the service installed"):
        runtime.run_job("expire-bulletins")
