"""A job that raises is counted in the service's heartbeat state, where /metrics reads it."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from scheduler.ops.metrics import collect
from scheduler.service import runtime
from scheduler.service.jobs import JOBS, JobContext


def _broken(_context: JobContext, _now: datetime) -> None:
    raise RuntimeError("đĩa đầy")


def test_failed_job_runs_are_counted_for_the_metrics(
    context: JobContext, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(JOBS, "render-audio", _broken)
    runtime.install(context)
    try:
        for _ in range(2):
            with pytest.raises(RuntimeError, match="đĩa đầy"):
                runtime.run_job("render-audio")
    finally:
        runtime.install(None)
    with sessions() as session:
        snapshot = collect(session, context.clock(), context.settings.tz, 30)
    assert snapshot.job_failures == {"render-audio": 2}
