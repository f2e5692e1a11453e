"""The rebuild watcher's fingerprint: which edits count as planning changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler import audit, commune_choice
from scheduler.db.models import Bulletin, Commune, CommuneDecision, Programme, ProgrammeItem, Province, Station
from scheduler.db.session import transaction
from scheduler.service.jobs import JobContext, watch_changes
from scheduler.service.watch import planning_fingerprint
from tests.fake_clock import FakeClock

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


def _upstream_mode(s: Session) -> None:
    s.scalars(select(Commune).where(Commune.name == "Ia Grai")).one().upstream_mode = "chon"


def _commune_answer(s: Session) -> None:
    commune = s.scalars(select(Commune).where(Commune.name == "Ia Grai")).one()
    s.add(CommuneDecision(bulletin_id=s.scalars(select(Bulletin.id).where(Bulletin.code == "MC-01")).one(),
                          commune_id=commune.id, bulletin_code="MC-01", decision="khong", decided_at=NOW))


@pytest.mark.parametrize("edit", [_upstream_mode, _commune_answer])
def test_a_communes_choice_of_content_from_above_changes_the_fingerprint(
    province: sessionmaker[Session], edit: Callable[[Session], None]
) -> None:
    with province() as s:
        before = planning_fingerprint(s)
    with transaction(province) as s:
        edit(s)
    with province() as s:
        assert planning_fingerprint(s) != before


def test_the_watcher_applies_a_communes_default_at_its_deadline_and_rebuilds_its_stations(
    province: sessionmaker[Session], context: JobContext, clock: FakeClock
) -> None:
    now = clock()
    with transaction(province) as s:
        commune = s.scalars(select(Commune).where(Commune.name == "Ia Grai")).one()
        commune_choice.set_policy(s, commune, now, mode="chon", deadline_hours=2, default="nhan")

    def planned(station: str) -> set[str | None]:
        with province() as s:
            return set(s.scalars(select(ProgrammeItem.bulletin_code).join(Programme).join(Station)
                                 .where(Station.code == station, Programme.week == "2026-W48")))

    watch_changes(context, now)
    assert "MC-01" not in planned("IAGRAI-01") and "MC-01" in planned("CHUPAH-01")
    watch_changes(context, now + timedelta(hours=1, minutes=59))
    assert "MC-01" not in planned("IAGRAI-01")
    watch_changes(context, now + timedelta(hours=2))
    assert {"MC-01", "DVC-01"} <= planned("IAGRAI-01")
    with province() as s:
        answers = s.scalars(select(CommuneDecision).order_by(CommuneDecision.bulletin_code)).all()
        assert [(a.bulletin_code, a.decision, a.by_default) for a in answers] == [
            ("DVC-01", "nhan", True), ("MC-01", "nhan", True)]
