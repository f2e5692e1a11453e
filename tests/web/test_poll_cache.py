"""Polls answered from memory on several nodes sharing one database (scheduler.delivery.poll_cache): an
answer is never older than the bound B, a revoked token stops working within B on every node, a stalled
reader means the database answers, and notices wait B so a told station never gets the old version."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from scheduler.accounts import issue_station_token
from scheduler.db.changes import record_change
from scheduler.db.models import Programme, Station
from scheduler.db.session import make_engine, transaction
from scheduler.delivery.notices import push_pending
from scheduler.delivery.poll_cache import Bound, PollCache
from scheduler.delivery.publisher import Message, MqttPublisher
from scheduler.settings import Settings
from tests.fake_clock import FakeClock
from tests.web import test_api
from tests.web.test_api import ApiWorld, auth
from web.app import create_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scheduler" / "delivery"))
from delivery_world import Broker, wait_for  # noqa: E402

api_world = test_api.api_world  # two stations and their weeks (a fixture)
WEEK = "/api/v1/manifest/2026-W48"
B = 0.25


class Monotonic:
    """An injected monotonic clock; `sleep` moves it on and remembers how long it was asked to."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def mono() -> Monotonic:
    return Monotonic()


@pytest.fixture
def nodes(settings: Settings, clock: FakeClock, mono: Monotonic) -> Iterator[tuple[Flask, Flask]]:
    """Node A with the real reading thread; node B whose reads the test makes (its clock injected)."""
    a = create_app(settings, clock=clock, testing=True)
    b = create_app(settings, clock=clock, testing=True,
                   poll_cache=PollCache(settings.database_url, Bound(B, mono, mono.sleep), thread=False))
    yield a, b
    for node in (a, b):
        node.extensions["loaxa"]["poll_cache"].stop()
        node.extensions["loaxa"]["engine"].dispose()


def cache(node: Flask) -> PollCache:
    found: PollCache = node.extensions["loaxa"]["poll_cache"]
    return found


def statements(node: Flask, call: Any) -> tuple[Any, int]:
    """What `call` returned and how many statements the node's request engine ran for it."""
    seen: list[str] = []

    def listener(*args: Any) -> None:
        seen.append(args[2])

    engine = node.extensions["loaxa"]["engine"]
    event.listen(engine, "before_cursor_execute", listener)
    try:
        return call(), len(seen)
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def _bump(sessions: sessionmaker[Session], code: str = "GL-IADER-01") -> None:
    with transaction(sessions) as s:
        programme = s.scalar(select(Programme).join(Station).where(Station.code == code,
                                                                   Programme.week == "2026-W48"))
        assert programme is not None
        programme.version += 1


def test_a_change_on_node_a_reaches_a_poll_on_node_b_that_held_the_old_answer_once_b_has_passed(
        nodes: tuple[Flask, Flask], api_world: ApiWorld, mono: Monotonic) -> None:
    a, b = nodes
    poll_b = b.test_client()
    etag = poll_b.get(WEEK, headers=auth(api_world.token_a)).headers["ETag"]
    held = {**auth(api_world.token_a), "If-None-Match": etag}
    cache(b).check()  # its first read: starts from nothing
    assert poll_b.get(WEEK, headers=held).status_code == 304  # read from the database, kept
    response, count = statements(b, lambda: poll_b.get(WEEK, headers=held))
    assert response.status_code == 304 and count == 0  # from memory: node B holds the old answer
    _bump(a.extensions["loaxa"]["sessions"])  # committed through node A
    # Within B of its last read node B may still answer from before the change (the bound, not a bug):
    assert poll_b.get(WEEK, headers=held).status_code == 304
    mono.now += B  # B has passed and node B has not read the change log since: the database answers
    response, count = statements(b, lambda: poll_b.get(WEEK, headers=held))
    assert response.status_code == 200 and response.headers["ETag"] != etag and count >= 1
    assert response.get_json()["version"] == 2
    new = {**auth(api_world.token_a), "If-None-Match": response.headers["ETag"]}
    cache(b).check()  # it reads the change: what it kept before is forgotten, the new answer kept
    assert poll_b.get(WEEK, headers=new).status_code == 304
    response, count = statements(b, lambda: poll_b.get(WEEK, headers=new))
    assert response.status_code == 304 and count == 0


def test_two_nodes_with_their_reading_threads_answer_a_change_once_each_has_read_the_log(
        settings: Settings, clock: FakeClock, api_world: ApiWorld) -> None:
    a, b = (create_app(settings, clock=clock, testing=True) for _ in range(2))
    try:
        clients = {node: node.test_client() for node in (a, b)}
        etag = clients[a].get(WEEK, headers=auth(api_world.token_a)).headers["ETag"]
        held = {**auth(api_world.token_a), "If-None-Match": etag}
        for node in (a, b):
            assert clients[node].get(WEEK, headers=held).status_code == 304  # starts its reading thread
            wait_for(lambda node=node: cache(node).fresh())
        _bump(a.extensions["loaxa"]["sessions"])
        # Two more reads: the second certainly started after the commit (a read's start is what counts).
        marks = {node: cache(node).reads for node in (a, b)}
        for node in (a, b):
            wait_for(lambda node=node: cache(node).reads >= marks[node] + 2)
            answer = clients[node].get(WEEK, headers=held)
            assert answer.status_code == 200 and answer.get_json()["version"] == 2
    finally:
        for node in (a, b):
            cache(node).stop()
            node.extensions["loaxa"]["engine"].dispose()


def test_a_revoked_token_is_refused_on_the_other_node_once_b_has_passed(
        nodes: tuple[Flask, Flask], api_world: ApiWorld, mono: Monotonic, clock: FakeClock) -> None:
    a, b = nodes
    poll_b = b.test_client()
    etag = poll_b.get(WEEK, headers=auth(api_world.token_a)).headers["ETag"]
    held = {**auth(api_world.token_a), "If-None-Match": etag}
    cache(b).check()
    assert poll_b.get(WEEK, headers=held).status_code == 304
    with transaction(a.extensions["loaxa"]["sessions"]) as s:  # `loaxa station token` on node A
        station = s.scalars(select(Station).where(Station.code == "GL-IADER-01")).one()
        new_token = issue_station_token(station, clock())
    mono.now += B
    assert poll_b.get(WEEK, headers=held).status_code == 401  # the reader stalled: the database answers
    cache(b).check()  # and once it has read the change, from memory too
    assert poll_b.get(WEEK, headers=held).status_code == 401
    assert poll_b.get(WEEK, headers={**auth(new_token), "If-None-Match": etag}).status_code == 304


def test_nothing_is_answered_from_memory_while_the_reader_is_stalled_or_stopped(
        nodes: tuple[Flask, Flask], api_world: ApiWorld, mono: Monotonic, settings: Settings) -> None:
    a, b = nodes

    def stall_b() -> None:  # node B's reader has not read for B (its clock injected)
        cache(b).check()
        _kept_then_changed_behind_the_log(b, api_world, settings)
        mono.now += B

    def stop_a() -> None:  # node A's reading thread stops
        a.test_client().get(WEEK, headers=auth(api_world.token_b))  # the first poll starts it
        wait_for(lambda: cache(a).fresh())
        _kept_then_changed_behind_the_log(a, api_world, settings)
        cache(a).stop()

    for node, stall in ((b, stall_b), (a, stop_a)):
        stall()
        held = {**auth(api_world.token_b), "If-None-Match": node.extensions["test.etag"]}
        response, count = statements(node, partial(node.test_client().get, WEEK, headers=held))
        assert response.status_code == 200 and count >= 1


def _kept_then_changed_behind_the_log(node: Flask, api_world: ApiWorld, settings: Settings) -> None:
    """The node keeps station B's answer; then its programme changes without a change row (written behind
    every hook, as no code may): only the database can tell the node, never its memory."""
    client = node.test_client()
    etag = client.get(WEEK, headers=auth(api_world.token_b)).headers["ETag"]
    node.extensions["test.etag"] = etag
    assert client.get(WEEK, headers={**auth(api_world.token_b), "If-None-Match": etag}).status_code == 304
    engine = make_engine(settings.database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE programme SET version = version + 1 WHERE station_id = "
                              "(SELECT id FROM station WHERE code = 'GL-CHUPUH-01')"))
    finally:
        engine.dispose()


def test_the_reader_sees_a_change_committed_after_a_newer_one_on_postgresql(
        backend: str, engine: Engine, settings: Settings, mono: Monotonic) -> None:
    """Ids are handed out before commit: the transaction holding the older id may commit last."""
    if backend != "postgresql":
        pytest.skip("SQLite commits one writer at a time, in id order")
    reader = PollCache(settings.database_url, Bound(B, mono, mono.sleep), thread=False)
    try:
        reader.check()
        older = engine.connect()
        older_tx = older.begin()
        record_change(older)  # takes its id, not committed yet
        with engine.begin() as conn:
            record_change(conn)  # a newer id, committed first
        assert reader.check()
        assert not reader.check()
        older_tx.commit()
        older.close()
        assert reader.check()  # a newest-id reader would have missed it: its id is below the one seen
        assert not reader.check()
    finally:
        reader.stop()


def test_notices_are_published_only_once_b_has_passed_since_the_changed_programmes_were_read(
        api_world: ApiWorld, sessions: sessionmaker[Session], settings: Settings, clock: FakeClock,
        mono: Monotonic, tmp_path: Path) -> None:
    published: list[float] = []

    class Recorded(MqttPublisher):
        def publish_many(self, messages: Iterable[Message]) -> list[bool]:
            published.append(mono())
            return super().publish_many(messages)

    with Broker(tmp_path) as broker:
        live = replace(settings, mqtt_url=broker.url)
        with Recorded(broker.url) as publisher:
            read_at = mono()
            result = push_pending(sessions, live, clock(), publisher, Bound(B, mono, mono.sleep))
            assert result.published == 3
            assert published and min(published) >= read_at + B and mono.slept == [B]
            with sessions() as s:
                s.execute(update(Programme).values(notified_version=Programme.version))
                s.commit()
            assert push_pending(sessions, live, clock(), publisher, Bound(B, mono, mono.sleep)).published == 0
            assert mono.slept == [B]  # nothing to announce, nothing to wait for


def test_a_changed_manifest_index_is_sent_b_after_the_newest_change_committed(
        nodes: tuple[Flask, Flask], api_world: ApiWorld, mono: Monotonic, sessions: sessionmaker[Session]) -> None:
    _a, b = nodes
    client = b.test_client()
    index = client.get("/api/v1/manifest", headers=auth(api_world.token_a))
    assert index.status_code == 200 and mono.slept == [B]  # nothing known of the change log: B from now
    again = client.get("/api/v1/manifest", headers={**auth(api_world.token_a), "If-None-Match": index.headers["ETag"]})
    assert again.status_code == 304 and mono.slept == [B]  # nothing to tell
    cache(b).check()
    mono.now += B
    # Every change in the log was seen by a read that ended B ago: no node answers from before them.
    assert client.get("/api/v1/manifest", headers=auth(api_world.token_a)).status_code == 200
    assert mono.slept == [B]
    _bump(sessions)  # a change this node has not read yet
    assert client.get("/api/v1/manifest", headers=auth(api_world.token_a)).status_code == 200
    assert mono.slept == [B, B]
    cache(b).check()  # read now: committed before this read ended, so B after that
    mono.now += 0.1
    assert client.get("/api/v1/manifest", headers=auth(api_world.token_a)).status_code == 200
    assert mono.slept == [B, B, pytest.approx(B - 0.1)]
