"""The rebuild watcher: which edits count as planning changes, and the debounce rule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler import audit
from scheduler.db.models import Bulletin, Commune, Province, Station
from scheduler.db.session import transaction
from scheduler.service.watch import decide, planning_fingerprint

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
QUIET, MAX_WAIT = timedelta(minutes=2), timedelta(minutes=10)


def at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


def test_an_unchanged_fingerprint_needs_no_rebuild() -> None:
    decision = decide({"built": "a"}, "a", NOW, QUIET, MAX_WAIT)
    assert (decision.rebuild, decision.reason, decision.state) == (False, "unchanged", {"built": "a"})


def test_a_change_is_rebuilt_once_it_has_been_quiet_long_enough() -> None:
    first = decide({"built": "a"}, "b", at(0), QUIET, MAX_WAIT)
    assert (first.rebuild, first.reason) == (False, "settling")
    still = decide(first.state, "b", at(1.9), QUIET, MAX_WAIT)
    assert (still.rebuild, still.reason) == (False, "settling")
    due = decide(still.state, "b", at(2), QUIET, MAX_WAIT)
    assert (due.rebuild, due.reason) == (True, "quiet")


def test_a_further_change_restarts_the_quiet_period() -> None:
    state = decide({"built": "a"}, "b", at(0), QUIET, MAX_WAIT).state
    state = decide(state, "c", at(1.5), QUIET, MAX_WAIT).state
    assert decide(state, "c", at(3), QUIET, MAX_WAIT).rebuild is False
    assert decide(state, "c", at(3.5), QUIET, MAX_WAIT).rebuild is True


def test_changes_that_never_stop_are_rebuilt_after_the_maximum_wait() -> None:
    state = {"built": "a"}
    for minute in range(10):
        decision = decide(state, f"v{minute}", at(minute), QUIET, MAX_WAIT)
        assert decision.rebuild is False
        state = decision.state
    assert decide(state, "v10", at(10), QUIET, MAX_WAIT).reason == "overdue"


def test_going_back_to_the_built_inputs_cancels_the_pending_rebuild() -> None:
    state = decide({"built": "a"}, "b", at(0), QUIET, MAX_WAIT).state
    decision = decide(state, "a", at(5), QUIET, MAX_WAIT)
    assert (decision.rebuild, decision.state) == (False, {"built": "a"})


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
