"""Is this station online? One answer everywhere: the pages' rule, the SQL clause, the delivery state,
/metrics and the silence monitor agree, for any kind of contact and any configured limit."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, event, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from scheduler import liveness
from scheduler.db.models import Station
from scheduler.db.session import transaction
from scheduler.delivery.state import delivery_status
from scheduler.imports import import_stations
from scheduler.ops.metrics import collect
from scheduler.service.config import ServiceConfig
from scheduler.service.jobs import JobContext, flag_silent_stations
from scheduler.settings import Settings

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CSV = "code,name,commune,area,province,languages,windows,lat,lon,speakers\n" + "".join(
    f"{code},Cụm loa {code},Ia Grai,,Gia Lai,vi,,,,1\n" for code in ("MANIFEST", "STATUS", "LOG", "OLD", "NEVER")
)
# Only a manifest fetch, only a status report, only a play-log upload, a stale contact, none at all.
CONTACTS = {
    "MANIFEST": {"last_manifest_at": NOW - timedelta(minutes=9)},
    "STATUS": {"last_status_at": NOW - timedelta(minutes=3)},
    "LOG": {"last_log_at": NOW - timedelta(minutes=12)},
    "OLD": {"last_status_at": NOW - timedelta(hours=2), "last_manifest_at": NOW - timedelta(minutes=40)},
    "NEVER": {},
}


@pytest.fixture
def stations(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with transaction(sessions) as s:
        import_stations(s, CSV)
        for station in s.scalars(select(Station)):
            for column, value in CONTACTS[station.code].items():
                setattr(station, column, value)
    return sessions


@pytest.mark.parametrize(("minutes", "online"), [(15, {"MANIFEST", "STATUS", "LOG"}), (10, {"MANIFEST", "STATUS"}),
                                                 (60, {"MANIFEST", "STATUS", "LOG", "OLD"})])
def test_every_reader_gives_the_same_answer(
    stations: sessionmaker[Session], settings: Settings, minutes: int, online: set[str]
) -> None:
    with stations() as s:
        rows = list(s.scalars(select(Station)))
        assert {st.code for st in rows if liveness.is_online(st, NOW, minutes)} == online
        in_sql = set(s.scalars(select(Station.code).where(liveness.online_clause(NOW, minutes))))
        delivery = {r.station for r in delivery_status(s, ["2026-W48"], NOW, minutes) if r.online}
        snapshot = collect(s, NOW, TZ, minutes)
    assert in_sql == delivery == online
    assert (snapshot.stations_online, snapshot.stations_offline, snapshot.stations_never_seen) == (
        len(online), 5 - len(online), 1)
    context = JobContext(replace(settings, silent_minutes=minutes), stations, ServiceConfig(), lambda: NOW)
    flag_silent_stations(context, NOW)
    with stations() as s:
        monitor = {st.code for st in s.scalars(select(Station)) if st.status["monitor"]["online"]}
    assert monitor == online


def test_contact_is_stamped_at_most_once_a_minute_per_kind() -> None:
    station = Station(code="S", name="S", status={})
    assert liveness.record_contact(station, "manifest", NOW) and station.last_manifest_at == NOW
    assert not liveness.record_contact(station, "manifest", NOW + timedelta(seconds=30))
    assert liveness.record_contact(station, "manifest", NOW + timedelta(seconds=61))
    assert liveness.record_contact(station, "status", NOW, every=timedelta(0)) and station.last_status_at == NOW
    assert liveness.last_contact(station) == NOW + timedelta(seconds=61)



def _manifest_stamps(sessions: sessionmaker[Session]) -> dict[str, datetime | None]:
    with sessions() as s:
        return {code: at for code, at in s.execute(select(Station.code, Station.last_manifest_at))}


def test_poll_stamps_are_written_behind_in_one_statement_and_never_moved_back(
    stations: sessionmaker[Session], engine: Engine
) -> None:
    with stations() as s:
        ids = {st.code: (st.id, st.last_manifest_at) for st in s.scalars(select(Station))}
    stamps = liveness.ContactStamps(engine, every=3600)  # no background write within this test
    assert stamps.note(*ids["NEVER"], NOW) and stamps.note(*ids["STATUS"], NOW) and stamps.note(*ids["OLD"], NOW)
    assert not stamps.note(ids["LOG"][0], NOW - timedelta(seconds=30), NOW)  # stamped 30 s ago: not due
    assert _manifest_stamps(stations)["NEVER"] is None  # nothing written while the poll is answered
    with transaction(stations) as s:  # meanwhile another server stamped OLD later than this one saw it
        s.execute(update(Station).where(Station.code == "OLD").values(last_manifest_at=NOW + timedelta(seconds=5)))
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert stamps.flush() == 3
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len([q for q in statements if q.lstrip().upper().startswith("UPDATE")]) == 1
    written = _manifest_stamps(stations)
    assert written["NEVER"] == written["STATUS"] == NOW
    assert written["OLD"] == NOW + timedelta(seconds=5)  # never moved back
    assert written["LOG"] is None and written["MANIFEST"] == NOW - timedelta(minutes=9)
    assert stamps.flush() == 0 and stamps.pending() == {}


def test_poll_stamps_survive_a_failed_write_and_are_written_by_the_background_writer(
    stations: sessionmaker[Session], engine: Engine
) -> None:
    with stations() as s:
        never = s.scalar(select(Station.id).where(Station.code == "NEVER"))
    assert never is not None
    broken = liveness.ContactStamps(create_engine("sqlite:////nonexistent/dir/loaxa.sqlite3"), every=3600)
    broken.note(never, None, NOW)
    with pytest.raises(OperationalError):
        broken.flush()
    assert broken.pending() == {never: NOW}  # kept for the next attempt
    stamps = liveness.ContactStamps(engine, every=0.05)
    stamps.note(never, None, NOW)
    deadline = time.monotonic() + 30  # waiting for the thread, not timing it
    while _manifest_stamps(stations)["NEVER"] is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _manifest_stamps(stations)["NEVER"] == NOW
