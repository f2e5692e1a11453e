"""The rebuild watcher's fingerprint: which edits count as planning changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler import audit
from scheduler.db.models import Bulletin, Commune, Province, Station
from scheduler.db.session import transaction
from scheduler.service.watch import planning_fingerprint

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def _set_windows(s: Session) -> None:
    s.scalars(select(Station).where(Station.code == "IAGRAI-01")).one().windows = "T2-T6 05:30-06:00"


def _approve(s: Session) -> None:
    s.scalars(select(Bulletin).where(Bulletin.code == "MC-01")).one().status = "tra_lai"


def _commune_policy(s: Session) -> None:
    s.scalars(select(Commune).where(Commune.name == "Ia Grai")).one().policy = {"quiet_before": "06:00"}


def _province_windows(s: Session) -> None:
    s.scalars(select(Province)).one().default_windows = "T2-CN 17:00-17:30"


def _deactivate(s: Session) -> None:
    s.scalars(select(Station).where(Station.code == "CHUPAH-01")).one().active = False


@pytest.mark.parametrize("edit", [_set_windows, _approve, _commune_policy, _province_windows, _deactivate])
def test_planning_edits_change_the_fingerprint(province: sessionmaker[Session], edit: Callable[[Session], None]) -> None:
    with province() as s:
        before = planning_fingerprint(s)
    with transaction(province) as s:
        edit(s)
    with province() as s:
        assert planning_fingerprint(s) != before


def test_station_contact_and_audit_rows_do_not_trigger_a_rebuild(province: sessionmaker[Session]) -> None:
    with province() as s:
        before = planning_fingerprint(s)
    with transaction(province) as s:
        station = s.scalars(select(Station).where(Station.code == "IAGRAI-01")).one()
        station.last_status_at = NOW
        station.status = {"volume": 70, "monitor": {"online": True}}
        audit.record(s, NOW, None, "station.status", "station", station.id)
    with province() as s:
        assert planning_fingerprint(s) == before
