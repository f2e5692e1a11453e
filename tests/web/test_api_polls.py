"""Manifest polls (GET /api/v1/manifest/<week> with If-None-Match) as cheap as the database allows:
one round trip to PostgreSQL, no pre-ping and no transaction, and still right after the server drops
its connections. Counted with libpq's own protocol trace, so nothing the driver sends is missed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from psycopg import pq
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine

from scheduler.db.session import autocommit, make_engine, read
from scheduler.settings import Settings
from tests.fake_clock import FakeClock
from tests.web import test_api
from tests.web.test_api import ApiWorld, auth
from web.app import create_app

api_world = test_api.api_world  # the API tests' two stations and their weeks (a fixture)

WEEK = "/api/v1/manifest/2026-W48"


@pytest.fixture
def postgresql(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("PostgreSQL's connections and protocol")


class Traced:
    """libpq's protocol trace of every connection the app's engine opens."""

    def __init__(self, engine: Engine, path: Path) -> None:
        self.path = path
        self.connections: list[Any] = []
        self.file = path.open("a")
        event.listen(engine, "connect", self._trace)

    def _trace(self, dbapi_conn: Any, _record: Any) -> None:
        self.connections.append(dbapi_conn)
        dbapi_conn.pgconn.trace(self.file.fileno())
        dbapi_conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)

    def during(self, call: Any) -> tuple[Any, list[str]]:
        """What `call` returned and the protocol lines it caused."""
        self._flush()
        before = len(self.path.read_text().splitlines())
        result = call()
        self._flush()
        return result, self.path.read_text().splitlines()[before:]

    def _flush(self) -> None:
        for conn in self.connections:  # PQuntrace flushes libpq's buffer; trace again after
            if not conn.closed:
                conn.pgconn.untrace()
                conn.pgconn.trace(self.file.fileno())
                conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> Iterator[Flask]:
    app = create_app(settings, clock=clock, testing=True)
    yield app
    app.extensions["loaxa"]["engine"].dispose()


def _terminate(url: str, pids: list[int]) -> None:
    """Have PostgreSQL close these backends' connections, and wait until it has."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for pid in pids:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        deadline = time.monotonic() + 30
        while conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"), {"pids": pids}):
            assert time.monotonic() < deadline, "PostgreSQL did not close the connections"
            time.sleep(0.05)
    admin.dispose()


def test_a_poll_answered_304_is_one_round_trip_without_a_transaction(
        postgresql: None, app: Flask, api_world: ApiWorld, tmp_path: Path) -> None:
    traced = Traced(app.extensions["loaxa"]["engine"], tmp_path / "libpq.trace")
    client = app.test_client()
    etag = client.get(WEEK, headers=auth(api_world.token_a)).headers["ETag"]
    poll = {**auth(api_world.token_a), "If-None-Match": etag}
    client.get(WEEK, headers=poll)
    response, lines = traced.during(lambda: client.get(WEEK, headers=poll))
    assert response.status_code == 304
    # One answer from the server (no pre-ping, no BEGIN, no ROLLBACK on the way back to the pool).
    assert [line.split("\t")[2] for line in lines if line.startswith("B\t") and "ReadyForQuery" in line] \
        == ["ReadyForQuery"], lines
    sent = [line.split("\t")[2].split()[0] for line in lines if line.startswith("F\t")]
    assert "Query" not in sent and sent[-1] == "Sync", lines  # BEGIN, ROLLBACK and pings are simple Queries


def test_polls_are_answered_after_the_server_closed_the_pooled_connections(
        postgresql: None, app: Flask, api_world: ApiWorld, tmp_path: Path, settings: Settings) -> None:
    traced = Traced(app.extensions["loaxa"]["engine"], tmp_path / "libpq.trace")
    client = app.test_client()
    etag = client.get(WEEK, headers=auth(api_world.token_a)).headers["ETag"]
    poll = {**auth(api_world.token_a), "If-None-Match": etag}
    assert client.get(WEEK, headers=poll).status_code == 304
    # As after a PostgreSQL restart: every connection in the pool is dead, none has been used since.
    _terminate(settings.database_url, [c.info.backend_pid for c in traced.connections])
    assert client.get(WEEK, headers=auth(api_world.token_a)).status_code == 200  # the ORM path: no retry there
    _terminate(settings.database_url, [c.info.backend_pid for c in traced.connections if not c.closed])
    assert client.get(WEEK, headers=poll).status_code == 304


def test_a_read_whose_connection_dies_under_it_is_run_once_more(postgresql: None, settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    calls: list[int] = []

    def work(conn: Connection) -> int:
        calls.append(conn.connection.dbapi_connection.info.backend_pid)  # type: ignore[union-attr]
        if len(calls) == 1:
            _terminate(settings.database_url, calls)  # after the checkout: only using it shows it is dead
        return int(conn.scalar(text("SELECT 7")))

    try:
        assert read(autocommit(engine), work) == 7
    finally:
        engine.dispose()
    assert len(calls) == 2 and calls[0] != calls[1]
