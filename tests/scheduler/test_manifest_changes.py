"""Every write to what a manifest answer depends on leaves a manifest_change row in its own transaction
(scheduler.db.changes), whichever way it is written; writes that do not change an answer leave none."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from scheduler.accounts import issue_station_token
from scheduler.db.changes import prune_changes, record_change
from scheduler.db.models import ManifestChange, Programme, Province, Station
from scheduler.db.session import autocommit, transaction
from scheduler.delivery.acks import AckGroups, ack_of
from scheduler.imports import import_stations
from scheduler.liveness import ContactStamps
from tests.fake_clock import FakeClock

sys.path.insert(0, str(Path(__file__).resolve().parent / "delivery"))
from delivery_world import add_programme, add_station  # noqa: E402

WEEK = "2026-W48"


def _changes(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(ManifestChange)) or 0)


def _world(sessions: sessionmaker[Session], clock: FakeClock) -> str:
    with transaction(sessions) as s:
        station, token = add_station(s, "GL-IADER-01", clock())
        add_programme(s, station, WEEK, [], clock())
    return str(token)


def test_a_new_programme_version_is_recorded_in_its_own_transaction(
        sessions: sessionmaker[Session], clock: FakeClock) -> None:
    _world(sessions, clock)
    before = _changes(sessions)
    with sessions() as s:
        s.scalars(select(Programme)).one().version += 1
        s.flush()
        s.rollback()  # the change did not happen: neither did its record
    assert _changes(sessions) == before
    with transaction(sessions) as s:
        s.scalars(select(Programme)).one().version += 1
    assert _changes(sessions) == before + 1


def test_token_rotation_deactivation_and_deletion_are_recorded(sessions: sessionmaker[Session],
                                                               clock: FakeClock) -> None:
    _world(sessions, clock)
    for change in (lambda st: issue_station_token(st, clock()), lambda st: setattr(st, "active", False)):
        before = _changes(sessions)
        with transaction(sessions) as s:
            change(s.scalars(select(Station)).one())
        assert _changes(sessions) == before + 1
    before = _changes(sessions)
    with transaction(sessions) as s:
        s.delete(s.scalars(select(Programme)).one())
    assert _changes(sessions) == before + 1


def test_bulk_statements_through_a_session_are_recorded(sessions: sessionmaker[Session], clock: FakeClock) -> None:
    _world(sessions, clock)
    before = _changes(sessions)
    with transaction(sessions) as s:  # a province's time zone, by a Core-style UPDATE
        s.execute(update(Province).values(timezone="Asia/Bangkok"))
    assert _changes(sessions) == before + 1
    before = _changes(sessions)
    with transaction(sessions) as s:  # the import moves the station to another commune: a bulk UPDATE by id
        import_stations(s, "code,name,commune,area,province,languages,windows,lat,lon,speakers\n"
                           "GL-IADER-01,Cụm loa trung tâm,Xã Ia Pia,,Gia Lai,vi,,,,2\n")
    assert _changes(sessions) == before + 1


def test_writes_that_change_no_answer_are_not_recorded(sessions: sessionmaker[Session], engine: Engine,
                                                       clock: FakeClock) -> None:
    token = _world(sessions, clock)
    before = _changes(sessions)
    # an acknowledgement (as the API writes it), a status report, a push
    assert AckGroups(autocommit(engine)).record(ack_of(token, WEEK, 1, clock())) is not None
    with transaction(sessions) as s:
        s.scalars(select(Station)).one().status = {"volume": 70}
        s.execute(update(Programme).values(notified_version=1))
    stamps = ContactStamps(engine)
    with sessions() as s:
        stamps.note(s.scalars(select(Station.id)).one(), None, clock())
    assert stamps.flush() == 1
    assert _changes(sessions) == before


def test_old_change_rows_are_pruned(sessions: sessionmaker[Session], engine: Engine, clock: FakeClock) -> None:
    with engine.begin() as conn:
        record_change(conn)
    with engine.begin() as conn:  # the rows carry the database's clock: a day later by the scheduler's
        assert prune_changes(conn, clock()) == 0
        assert prune_changes(conn, clock() + timedelta(days=365 * 30)) == 1
    assert _changes(sessions) == 0
