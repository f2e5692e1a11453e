"""Instants go in and come out as the same UTC moment on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
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
