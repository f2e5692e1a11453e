"""The one entry point stored in the job store: `run_job(job_id)`, resolved in this process.

The job store pickles a reference to this module-level function and the job id (plain text), never
settings, sessions or connections; the running service installs its context here before it starts.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from scheduler.db.session import transaction
from scheduler.service import heartbeat
from scheduler.service.jobs import JOBS, JobContext

log = logging.getLogger(__name__)

_context: JobContext | None = None


def install(context: JobContext | None) -> None:
    """Give this process's jobs their settings, sessions and clock (None removes them)."""
    global _context
    _context = context


def run_job(job_id: str) -> Any:
    """Run one job with the installed context and the clock's `now`."""
    if _context is None:
        raise RuntimeError(f"job {job_id} ran before the service installed its context")
    body = JOBS.get(job_id)
    if body is None:
        raise LookupError(f"unknown job id {job_id!r}; known: {', '.join(JOBS)}")
    try:
        return body(_context, _context.clock())
    except Exception:
        _count_failure(_context, job_id)
        raise  # APScheduler logs it; the job runs again at its next time


def _count_failure(context: JobContext, job_id: str) -> None:
    """Add one to the job's failure count in the heartbeat state (read by /metrics)."""
    try:
        with transaction(context.sessions) as session:
            jobs = heartbeat.load_state(session, "jobs")
            record = dict(jobs.get(job_id) or {})
            record["failures"] = int(record.get("failures", 0)) + 1
            record["last_failure_at"] = context.clock().isoformat()
            heartbeat.save_state(session, "jobs", {**jobs, job_id: record})
    except SQLAlchemyError:  # the database being down is likely why the job failed
        log.warning("không ghi được lần lỗi của việc %s", job_id)
