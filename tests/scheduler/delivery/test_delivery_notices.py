"""Retained programme notices through a real Mosquitto: pushed once, retried after a broker outage."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from delivery_world import Broker, ItemSpec, add_programme, add_station, free_port, subscriber, wait_for
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.models import Programme, Station
from scheduler.db.session import transaction
from scheduler.delivery.notices import PendingNotice, push_pending, record_notified
from scheduler.settings import Settings
from scheduler.wire import Notice
from tests.fake_clock import FakeClock

pytestmark = pytest.mark.mqtt
START = datetime(2026, 11, 24, 22, 30, tzinfo=UTC)


@pytest.fixture
def programmes(sessions: sessionmaker[Session], clock: FakeClock) -> dict[str, str]:
    """Two stations with this week's programme, one also with next week's and one with an old week's."""
    topics = {}
    with transaction(sessions) as s:
        a, _ = add_station(s, "GL-A", clock(), commune="Xã Ia Dêr")
        b, _ = add_station(s, "GL-B", clock(), commune="Xã Chư Pưh")
        add_programme(s, a, "2026-W48", [ItemSpec(START, seconds=60, stream_url="http://vov.vn/live")], clock())
        add_programme(s, a, "2026-W49", [ItemSpec(START + timedelta(days=7), seconds=60,
                                                  stream_url="http://vov.vn/live")], clock(), version=3)
        add_programme(s, a, "2026-W40", [], clock())
        add_programme(s, b, "2026-W48", [], clock(), version=2)
        from scheduler.delivery.mqtt_topics import station_topics

        topics = {"GL-A": station_topics(a).programme, "GL-B": station_topics(b).programme}
    return topics


def _notified(sessions: sessionmaker[Session]) -> dict[tuple[str, str], int]:
    with sessions() as s:
        return {(p.station.code, p.week): p.notified_version for p in s.scalars(select(Programme))}


def test_push_publishes_retained_notices_for_this_and_next_week_once(
        programmes: dict[str, str], sessions: sessionmaker[Session], settings: Settings, clock: FakeClock,
        tmp_path: Path) -> None:
    with Broker(tmp_path) as broker:
        live = replace(settings, mqtt_url=broker.url, public_url="https://loaxa.gialai.gov.vn")
        result = push_pending(sessions, live, clock())
        assert (result.published, result.pending, result.error) == (3, 0, "")
        # A station connecting afterwards still gets the latest notice: it is retained.
        with subscriber(broker.url, list(programmes.values())) as heard:
            wait_for(lambda: len(heard) == 2)
        notices = {Notice.from_json(payload).station: (Notice.from_json(payload), retained)
                   for _, payload, retained in heard}
        assert all(retained for _, retained in notices.values())
        assert notices["GL-B"][0].version == 2
        assert notices["GL-B"][0].manifest_url == "https://loaxa.gialai.gov.vn/api/v1/manifest/2026-W48"
        assert notices["GL-A"][0].week in ("2026-W48", "2026-W49")
        assert push_pending(sessions, live, clock()).published == 0
    assert _notified(sessions) == {("GL-A", "2026-W48"): 1, ("GL-A", "2026-W49"): 3, ("GL-A", "2026-W40"): 0,
                                   ("GL-B", "2026-W48"): 2}


def test_dead_broker_breaks_nothing_and_notices_go_out_once_it_is_back(
        programmes: dict[str, str], sessions: sessionmaker[Session], settings: Settings, clock: FakeClock,
        tmp_path: Path) -> None:
    broker = Broker(tmp_path, port=free_port())
    live = replace(settings, mqtt_url=broker.url)
    down = push_pending(sessions, live, clock())
    assert down.published == 0 and "Không kết nối được máy chủ MQTT" in down.error
    assert set(_notified(sessions).values()) == {0}
    assert push_pending(sessions, live, clock() + timedelta(seconds=10)).skipped  # backing off
    with broker:
        back = push_pending(sessions, live, clock() + timedelta(minutes=5))
    assert back.published == 3
    assert _notified(sessions)[("GL-B", "2026-W48")] == 2


def test_without_a_broker_configured_push_does_nothing(programmes: dict[str, str], sessions: sessionmaker[Session],
                                                       settings: Settings, clock: FakeClock) -> None:
    result = push_pending(sessions, replace(settings, mqtt_url=None), clock())
    assert result.skipped and result.published == 0
    assert set(_notified(sessions).values()) == {0}


def _statements_sent(engine: Engine, work: Callable[[], object]) -> int:
    """How many statements `work()` sends to the database (an executemany of N rows counts N)."""
    sent = 0

    def count(_conn: object, _cursor: object, _statement: str, parameters: object, _context: object,
              executemany: bool) -> None:
        nonlocal sent
        sent += len(parameters) if executemany and isinstance(parameters, (list, tuple)) else 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return sent


def test_pushing_forty_notices_sends_no_more_statements_than_pushing_four(
        engine: Engine, sessions: sessionmaker[Session], settings: Settings, clock: FakeClock,
        tmp_path: Path) -> None:
    with transaction(sessions) as s:
        for n in range(40):
            station, _ = add_station(s, f"GL-N{n:02d}", clock(), commune=f"Xã {n % 7}")
            add_programme(s, station, "2026-W48", [], clock())
    codes = [f"GL-N{n:02d}" for n in range(40)]

    def change(count: int, version: int) -> None:
        with transaction(sessions) as s:
            for programme in s.scalars(select(Programme)):
                if codes.index(programme.station.code) < count:
                    programme.version = version

    with Broker(tmp_path) as broker:
        live = replace(settings, mqtt_url=broker.url)
        push_pending(sessions, live, clock())  # everything at version 1 pushed
        sent = {}
        for count, version in ((4, 2), (40, 3)):
            change(count, version)
            sent[count] = _statements_sent(engine, lambda: push_pending(sessions, live, clock()))
    assert sent[40] == sent[4]
    with sessions() as s:
        assert all(p.notified_version == p.version for p in s.scalars(select(Programme)))


def test_a_programme_changed_while_its_notice_went_out_stays_pending_and_no_version_goes_back(
        programmes: dict[str, str], sessions: sessionmaker[Session], clock: FakeClock) -> None:
    with sessions() as s:
        b = s.scalar(select(Programme).join(Station).where(Station.code == "GL-B"))
        assert b is not None and (b.version, b.notified_version) == (2, 0)
        read_at_2 = PendingNotice(b.id, "GL-B", programmes["GL-B"], "2026-W48", 2, "", clock())
        b.version = 3  # the planner changed it meanwhile
        s.flush()
        record_notified(s, [read_at_2])
        s.commit()
        s.refresh(b)
        assert (b.version, b.notified_version) == (3, 0)  # still pending: version 3 gets its notice
        b.notified_version = 3
        s.commit()
        record_notified(s, [read_at_2])
        s.commit()
        s.refresh(b)
        assert b.notified_version == 3


def test_marking_notified_runs_again_when_postgresql_ends_a_deadlock_with_an_ack_by_rolling_it_back(
        backend: str, engine: Engine, sessions: sessionmaker[Session], clock: FakeClock) -> None:
    if backend != "postgresql":
        pytest.skip("PostgreSQL's deadlock detection")
    import threading

    from sqlalchemy import text

    with transaction(sessions) as s:
        ids = [add_programme(s, add_station(s, f"GL-D{n}", clock(), commune="Xã Ia Dêr")[0], "2026-W48", [], clock(),
                             version=2).id for n in range(2)]
        s.flush()
    pending = [PendingNotice(pid, f"GL-D{n}", f"t/{n}", "2026-W48", 2, "", clock()) for n, pid in enumerate(ids)]
    marks: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.startswith("UPDATE programme SET notified_version"):
            marks.append(statement)

    outcome: list[BaseException | None] = []

    def mark() -> None:
        try:
            with sessions() as s:
                record_notified(s, pending)
                s.commit()
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            outcome.append(exc)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with engine.connect() as other:  # an ack's statement holding the second row, then wanting the first
            other.execute(text("SET LOCAL deadlock_timeout = '10s'"))  # so PostgreSQL picks the mark to roll back
            other.execute(text("UPDATE programme SET acked_version = 1 WHERE id = :id"), {"id": ids[1]})
            marker = threading.Thread(target=mark)
            marker.start()
            wait_for(lambda: other.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar(),
                     timeout=10)  # the mark holds the first row and waits for the second
            other.execute(text("UPDATE programme SET acked_version = 1 WHERE id = :id"), {"id": ids[0]})
            other.commit()
            marker.join(timeout=30)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert outcome == [None]
    assert len(marks) == 2  # rolled back once (the deadlock), then written
    with sessions() as s:
        assert [s.get(Programme, pid).notified_version for pid in ids] == [2, 2]  # type: ignore[union-attr]
