"""Instants go in and come out as the same UTC moment on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.models import AuditLog
from scheduler.db.session import transaction


def test_local_instant_is_stored_and_returned_as_utc(sessions: sessionmaker[Session]) -> None:
    hanoi = timezone(timedelta(hours=7))
    local = datetime(2026, 11, 23, 5, 30, tzinfo=hanoi)
    with transaction(sessions) as s:
        s.add(AuditLog(at=local, action="x", entity="y"))
    with sessions() as s:
        row = s.query(AuditLog).one()
        assert row.at == local
        assert row.at.tzinfo == UTC
        assert row.at.hour == 22 and row.at.day == 22


def test_naive_datetime_is_refused(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(Exception, match="naive datetime"), transaction(sessions) as s:
        s.add(AuditLog(at=datetime(2026, 11, 23, 5, 30), action="x", entity="y"))
        s.flush()


def test_postgresql_sessions_run_in_utc_and_other_zones_still_come_back_as_utc(
        backend: str, sessions: sessionmaker[Session], engine: Engine) -> None:
    if backend != "postgresql":
        pytest.skip("PostgreSQL's session time zone")
    hanoi = timezone(timedelta(hours=7))
    with transaction(sessions) as s:
        s.add(AuditLog(at=datetime(2026, 11, 23, 0, 30, tzinfo=hanoi), action="x", entity="y"))
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW TIME ZONE").scalar() == "UTC"
        at = conn.execute(select(AuditLog.at)).scalar_one()
        assert at.tzinfo is UTC and at == datetime(2026, 11, 22, 17, 30, tzinfo=UTC)
        # As behind a pooler that does not keep the setting: the instant is the same, tagged UTC.
        conn.exec_driver_sql("SET TIME ZONE 'Asia/Ho_Chi_Minh'")
        try:
            raw = conn.exec_driver_sql("SELECT at FROM audit_log").scalar_one()
            assert raw.utcoffset() == timedelta(hours=7)
            at = conn.execute(select(AuditLog.at)).scalar_one()
            assert at.tzinfo is UTC and at == datetime(2026, 11, 22, 17, 30, tzinfo=UTC)
        finally:  # the pooled connection goes back as it came
            conn.exec_driver_sql("SET TIME ZONE 'UTC'")
