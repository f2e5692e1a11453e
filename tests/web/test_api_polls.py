"""Manifest polls (GET /api/v1/manifest/<week> with If-None-Match) as cheap as the database allows:
one round trip to PostgreSQL, no pre-ping and no transaction, and still right after the server drops
its connections. Counted with libpq's own protocol trace, so nothing the driver sends is missed."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest
from flask import Flask
from psycopg import pq
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from scheduler.accounts import issue_station_token
from scheduler.db.models import AudioAsset, Bulletin, Emergency, Programme, Station
from scheduler.db.session import autocommit, make_engine, read, transaction
from scheduler.delivery.poll_cache import PollCache
from scheduler.manifest import ManifestBodies, build_manifest
from scheduler.settings import Settings
from tests.fake_clock import FakeClock
from tests.web import test_api
from tests.web.test_api import ApiWorld, auth
from web.app import create_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scheduler" / "delivery"))
from delivery_world import ItemSpec, set_items  # noqa: E402

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
    """The app answering every poll from the database: its poll cache never reads the change log, so it is
    never fresh (answers from memory: tests/web/test_poll_cache.py)."""
    app = create_app(settings, clock=clock, testing=True, poll_cache=PollCache(settings.database_url, thread=False))
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


def _programme(s: Session, code: str, week: str = "2026-W48") -> Programme:
    programme = s.scalar(select(Programme).join(Station).where(Station.code == code, Programme.week == week))
    assert programme is not None
    return programme


def test_the_manifest_the_api_sends_is_the_one_built_from_the_loaded_programme(
        app: Flask, api_world: ApiWorld, sessions: sessionmaker[Session], settings: Settings, clock: FakeClock,
        media_dir: Path) -> None:
    """The API renders from plain rows; the export from ORM objects: both must say the same, emergency included."""
    now = clock()
    with transaction(sessions) as s:
        programme = _programme(s, "GL-CHUPUH-01")
        start = programme.items[-1].end
        bulletin = Bulletin(code="KC-01", title="Cảnh báo lũ quét", topic="khan_cap", valid_from=now.date(),
                            valid_to=now.date(), created_at=now, updated_at=now)
        s.add(bulletin)
        s.flush()
        emergency = Emergency(bulletin_id=bulletin.id, starts_at=start, created_at=now, full_volume=False)
        s.add(emergency)
        s.flush()
        assets = [s.scalar(select(AudioAsset).where(AudioAsset.sha256 == i.audio_sha256)) for i in programme.items]
        set_items(programme, [ItemSpec(i.start, asset) for i, asset in zip(programme.items, assets, strict=True)]
                  + [ItemSpec(start, assets[0], kind="emergency", title="Cảnh báo lũ quét", bulletin="KC-01"),
                     ItemSpec(start + timedelta(minutes=5), kind="relay", title="Tiếp sóng VOV1", seconds=600,
                              stream_url="https://stream.vov.vn/vov1")])
        s.flush()
        programme.items[-2].emergency_id = emergency.id
        programme.version += 1
    response = app.test_client().get(WEEK, headers=auth(api_world.token_b))
    assert response.status_code == 200 and response.mimetype == "application/json"
    sent = json.loads(response.data)
    with sessions() as s:
        expected = build_manifest(_programme(s, "GL-CHUPUH-01"), ZoneInfo("Asia/Ho_Chi_Minh"), settings.public_url)
    assert sent == expected
    assert [i["kind"] for i in sent["items"]] == ["bulletin", "bulletin", "emergency", "relay"]
    assert sent["items"][2]["emergency"] == emergency.id and sent["items"][2]["volume"] is None
    schema = Path(__file__).resolve().parents[2] / "scheduler" / "manifest.schema.json"
    jsonschema.Draft202012Validator(json.loads(schema.read_text(encoding="utf-8"))).validate(sent)


def test_a_week_is_rendered_once_per_version_and_a_change_is_sent_at_the_next_request(
        app: Flask, api_world: ApiWorld, sessions: sessionmaker[Session]) -> None:
    client, engine = app.test_client(), app.extensions["loaxa"]["engine"]
    first = client.get(WEEK, headers=auth(api_world.token_a))
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", seen)
    try:
        again = client.get(WEEK, headers=auth(api_world.token_a))
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    assert len(statements) == 1  # the token and the week's version; the body comes from memory
    with transaction(sessions) as s:  # a new version (as on another server sharing the database)
        programme = _programme(s, "GL-IADER-01")
        programme.items[0].title = "Lịch tiêm chủng đã đổi"
        programme.version += 1
    changed = client.get(WEEK, headers=auth(api_world.token_a))
    assert changed.headers["ETag"] != first.headers["ETag"]
    assert json.loads(changed.data)["version"] == 2
    assert json.loads(changed.data)["items"][0]["title"] == "Lịch tiêm chủng đã đổi"
    # The station that polls with the old version is sent the new one, not told it is current.
    poll = client.get(WEEK, headers={**auth(api_world.token_a), "If-None-Match": first.headers["ETag"]})
    assert poll.status_code == 200 and poll.data == changed.data


def test_a_revoked_token_or_a_retired_station_is_refused_after_its_manifest_was_kept(
        app: Flask, api_world: ApiWorld, sessions: sessionmaker[Session], clock: FakeClock) -> None:
    client = app.test_client()
    first = client.get(WEEK, headers=auth(api_world.token_a))
    poll = {**auth(api_world.token_a), "If-None-Match": first.headers["ETag"]}
    assert client.get(WEEK, headers=poll).status_code == 304
    with transaction(sessions) as s:
        station = s.scalar(select(Station).where(Station.code == "GL-IADER-01"))
        assert station is not None
        new_token = issue_station_token(station, clock())
    assert client.get(WEEK, headers=poll).status_code == 401
    assert client.get(WEEK, headers=auth(api_world.token_a)).status_code == 401
    assert client.get(WEEK, headers=auth(new_token)).data == first.data
    with transaction(sessions) as s:
        station = s.scalar(select(Station).where(Station.code == "GL-IADER-01"))
        assert station is not None
        station.active = False
    assert client.get(WEEK, headers=auth(new_token)).status_code == 401


def test_kept_manifests_stay_within_their_memory_bound() -> None:
    bodies = ManifestBodies(max_bytes=100)
    for n in range(5):
        bodies.put(n, bytes(30))
    assert len(bodies) == 3 and bodies.get(0) is None and bodies.get(4) == bytes(30)
    bodies.get(2)  # used: kept over 3, the least recently used
    bodies.put(5, bytes(30))
    assert bodies.get(2) is not None and bodies.get(3) is None


def test_one_statement_answers_a_poll_and_reads_the_items_only_for_a_new_version(
        app: Flask, api_world: ApiWorld, sessions: sessionmaker[Session]) -> None:
    client, engine = app.test_client(), app.extensions["loaxa"]["engine"]
    first = client.get(WEEK, headers=auth(api_world.token_a))
    rows: list[int] = []  # PostgreSQL says how many rows a SELECT returned; SQLite -1

    def counted(_conn: Any, cursor: Any, *_args: Any) -> None:
        rows.append(cursor.rowcount)

    with transaction(sessions) as s:  # a new version of three items
        programme = _programme(s, "GL-IADER-01")
        asset = s.scalar(select(AudioAsset).where(AudioAsset.sha256 == programme.items[0].audio_sha256))
        start = programme.items[0].start
        set_items(programme, [ItemSpec(start + timedelta(minutes=10 * n), asset) for n in range(3)])
        programme.version += 1
    items = 3
    old = {**auth(api_world.token_a), "If-None-Match": first.headers["ETag"]}
    event.listen(engine, "after_cursor_execute", counted)
    try:
        changed = client.get(WEEK, headers=old)  # the station holds the old version: one statement, every item
        new = {**auth(api_world.token_a), "If-None-Match": changed.headers["ETag"]}
        held = client.get(WEEK, headers=new)  # kept in memory by now? Not here: this app's cache is never fresh
    finally:
        event.remove(engine, "after_cursor_execute", counted)
    assert changed.status_code == 200 and len(json.loads(changed.data)["items"]) == items
    assert held.status_code == 304
    assert len(rows) == 2
    if engine.dialect.name == "postgresql":
        assert rows == [items, 1]  # the 304's statement left the items out


def test_a_held_tag_the_request_does_not_accept_still_gets_every_item(
        app: Flask, api_world: ApiWorld, settings: Settings) -> None:
    """The statement skips the items for the version the tags name; should `held` disagree (a tag of the
    right shape it does not accept), the items are read again rather than a manifest sent without them."""
    from scheduler.accounts import hash_token
    from scheduler.delivery.station_api import week_manifest

    sent = app.test_client().get(WEEK, headers=auth(api_world.token_a))
    etag = sent.headers["ETag"].strip('"')
    engine = app.extensions["loaxa"]["engine"]
    found = read(autocommit(engine), lambda conn: week_manifest(
        conn, hash_token(api_world.token_a), "2026-W48", lambda _tag: False, settings, ManifestBodies(),
        held_tags=[etag]))
    assert found is not None and found[0].body is not None
    assert json.loads(found[0].body) == json.loads(sent.data) and json.loads(sent.data)["items"]


@pytest.mark.parametrize(("tags", "expected"), [
    (["2026-W48.v3.0123456789abcdef"], (3, "0123456789abcdef")),
    (["2026-W47.v9.ffff", "2026-W48.v12.empty"], (12, "empty")),
    # Not tags etag_for makes: no version, no hash, a padded version, an empty or over-long hash.
    (["2026-W48.vx.abc", "khác", "2026-W48.v.abc", "2026-W48.v4", "2026-W48.v03.abc", "2026-W48.v3.",
      "2026-W48.v3.0123456789abcdef0"], (0, "")),
    ([], (0, "")),
])
def test_the_version_a_station_holds_is_read_from_its_tags(tags: list[str], expected: tuple[int, str]) -> None:
    from scheduler.delivery.station_api import etag_for, held_version

    assert held_version("2026-W48", tags) == expected
    assert held_version("2026-W48", [etag_for("2026-W48", 5, "ab" * 40)]) == (5, ("ab" * 40)[:16])
