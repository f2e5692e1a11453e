"""The station API over HTTP (Flask test client on the real app and database, both backends)."""

from __future__ import annotations

import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.fake_clock import FakeClock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scheduler" / "delivery"))
from delivery_world import ItemSpec, ServerThread, add_asset, add_programme, add_station, make_mp3  # noqa: E402

from scheduler.db.models import PlayLog, Programme, ProgrammeItem, Station  # noqa: E402
from scheduler.db.session import transaction  # noqa: E402
from scheduler.delivery.acl import station_mqtt_password  # noqa: E402
from scheduler.delivery.poll_cache import PollCache  # noqa: E402
from scheduler.settings import Settings  # noqa: E402
from web.app import create_app  # noqa: E402


@dataclass
class ApiWorld:
    token_a: str
    token_b: str
    shared_sha: str
    private_b_sha: str
    audio_bytes: bytes


@pytest.fixture
def api_world(sessions: sessionmaker[Session], clock: FakeClock, media_dir: Path) -> ApiWorld:
    now = clock()
    shared, private = make_mp3(2.0, 440), make_mp3(1.0, 880)
    with transaction(sessions) as s:
        a, token_a = add_station(s, "GL-IADER-01", now, commune="Xã Ia Dêr")
        b, token_b = add_station(s, "GL-CHUPUH-01", now, commune="Xã Chư Pưh")
        shared_asset = add_asset(s, media_dir, shared, now, 2000)
        private_asset = add_asset(s, media_dir, private, now, 1000)
        start = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)  # 05:30 Tuesday local
        add_programme(s, a, "2026-W48", [ItemSpec(start, shared_asset)], now)
        add_programme(s, a, "2026-W49", [ItemSpec(start + timedelta(days=7), shared_asset)], now)
        add_programme(s, b, "2026-W48", [ItemSpec(start, shared_asset), ItemSpec(start + timedelta(minutes=1),
                                                                                  private_asset)], now)
    return ApiWorld(token_a, token_b, shared_asset.sha256, private_asset.sha256, shared)


@pytest.fixture
def api(settings: Settings, clock: FakeClock) -> FlaskClient:
    return create_app(settings, clock=clock, testing=True).test_client()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_manifest_index_lists_this_and_next_week_of_the_calling_station_only(api: FlaskClient,
                                                                             api_world: ApiWorld) -> None:
    a = api.get("/api/v1/manifest", headers=auth(api_world.token_a)).get_json()
    b = api.get("/api/v1/manifest", headers=auth(api_world.token_b)).get_json()
    assert a["station"] == "GL-IADER-01"
    assert [w["week"] for w in a["weeks"]] == ["2026-W48", "2026-W49"]
    assert b["station"] == "GL-CHUPUH-01"
    assert [w["week"] for w in b["weeks"]] == ["2026-W48"]
    assert a["timezone"] == "Asia/Ho_Chi_Minh"


def test_week_manifest_answers_304_while_the_station_holds_the_current_version(
        api: FlaskClient, api_world: ApiWorld, sessions: sessionmaker[Session]) -> None:
    first = api.get("/api/v1/manifest/2026-W48", headers=auth(api_world.token_a))
    assert first.status_code == 200
    assert first.get_json()["items"][0]["sha256"] == api_world.shared_sha
    etag = first.headers["ETag"]
    again = api.get("/api/v1/manifest/2026-W48", headers={**auth(api_world.token_a), "If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    with transaction(sessions) as s:
        programme = s.scalar(select(Programme).join(Station).where(Station.code == "GL-IADER-01",
                                                                   Programme.week == "2026-W48"))
        assert programme is not None
        programme.version += 1
    # Polls may be answered from memory until the change log is read after the change: within
    # scheduler.delivery.poll_cache.POLL_BOUND of the commit, on every node.
    api.application.extensions["loaxa"]["poll_cache"].check()
    changed = api.get("/api/v1/manifest/2026-W48", headers={**auth(api_world.token_a), "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.get_json()["version"] == 2
    assert changed.headers["ETag"] != etag


def test_an_unchanged_week_poll_is_one_query_and_still_stamps_contact_once_a_minute(
        api_world: ApiWorld, sessions: sessionmaker[Session], clock: FakeClock, settings: Settings) -> None:
    """From the database (a poll cache never read is never fresh); from memory: tests/web/test_poll_cache.py."""
    from sqlalchemy import event

    api = create_app(settings, clock=clock, testing=True,
                     poll_cache=PollCache(settings.database_url, thread=False)).test_client()

    first = api.get("/api/v1/manifest/2026-W48", headers=auth(api_world.token_a))  # stamps the contact
    poll = {**auth(api_world.token_a), "If-None-Match": first.headers["ETag"]}
    engine = api.application.extensions["loaxa"]["engine"]

    def statements_of(headers: dict[str, str]) -> tuple[int, list[str]]:
        seen: list[str] = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            status = api.get("/api/v1/manifest/2026-W48", headers=headers).status_code
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return status, seen

    clock.advance(seconds=30)
    status, seen = statements_of(poll)
    assert status == 304 and len(seen) == 1 and seen[0].lstrip().upper().startswith("SELECT")
    assert statements_of({**poll, "Authorization": f"Bearer {api_world.token_b}"})[0] == 200  # B's own week
    clock.advance(seconds=31)  # the stamp is due again: noted, and written behind the poll
    status, seen = statements_of(poll)
    assert status == 304 and len(seen) == 1
    api.application.extensions["loaxa"]["contacts"].flush()  # what the background writer does within seconds
    with sessions() as s:
        assert s.scalar(select(Station.last_manifest_at).where(Station.code == "GL-IADER-01")) == clock()
    assert statements_of({**poll, "Authorization": "Bearer sai-ma"})[0] == 401


def test_manifest_index_answers_304_until_a_version_changes(api: FlaskClient, api_world: ApiWorld) -> None:
    first = api.get("/api/v1/manifest", headers=auth(api_world.token_a))
    again = api.get("/api/v1/manifest", headers={**auth(api_world.token_a), "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_manifest_request_stamps_the_last_manifest_contact_behind_the_answer(
        api: FlaskClient, api_world: ApiWorld, sessions: sessionmaker[Session], clock: FakeClock) -> None:
    for path in ("/api/v1/manifest/2026-W48", "/api/v1/manifest"):
        answer, seen = _statements(api, lambda: api.get(path, headers=auth(api_world.token_a)))  # noqa: B023
        assert answer.status_code == 200
        assert set(seen) == {"SELECT"}  # no UPDATE while the station waits
    api.application.extensions["loaxa"]["contacts"].flush()  # what the background writer does within seconds
    with sessions() as s:
        station = s.scalar(select(Station).where(Station.code == "GL-IADER-01"))
        assert station is not None
        assert station.last_manifest_at == clock()
        assert station.last_status_at is None


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer sai-ma"}, {"Authorization": "Basic abc"}])
def test_missing_or_wrong_token_gets_401_with_a_vietnamese_json_error(api: FlaskClient, api_world: ApiWorld,
                                                                      headers: dict[str, str]) -> None:
    response = api.get("/api/v1/manifest", headers=headers)
    assert response.status_code == 401
    assert "mã truy cập" in response.get_json()["error"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_inactive_station_token_is_refused(api: FlaskClient, api_world: ApiWorld,
                                           sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as s:
        station = s.scalar(select(Station).where(Station.code == "GL-IADER-01"))
        assert station is not None
        station.active = False
    assert api.get("/api/v1/manifest", headers=auth(api_world.token_a)).status_code == 401


def test_week_without_programme_is_404_and_bad_week_is_400(api: FlaskClient, api_world: ApiWorld) -> None:
    missing = api.get("/api/v1/manifest/2026-W49", headers=auth(api_world.token_b))
    assert missing.status_code == 404
    assert "GL-CHUPUH-01" in missing.get_json()["error"]
    bad = api.get("/api/v1/manifest/tuan-sau", headers=auth(api_world.token_b))
    assert bad.status_code == 400
    assert "Tuần không hợp lệ" in bad.get_json()["error"]


def test_audio_is_served_by_hash_with_range_and_immutable_caching(api: FlaskClient, api_world: ApiWorld) -> None:
    url = f"/api/v1/audio/{api_world.shared_sha}.mp3"
    whole = api.get(url, headers=auth(api_world.token_a))
    assert whole.status_code == 200
    assert whole.data == api_world.audio_bytes
    assert whole.mimetype == "audio/mpeg"
    assert "immutable" in whole.headers["Cache-Control"]
    part = api.get(url, headers={**auth(api_world.token_a), "Range": "bytes=100-"})
    assert part.status_code == 206
    assert part.data == api_world.audio_bytes[100:]


@pytest.mark.parametrize("header", ["bytes=abc", "bytes=500-20", "items=0-1", "bytes=0-1,5-6", "bytes 0-10"])
def test_an_invalid_range_header_is_ignored_and_the_whole_file_sent(api: FlaskClient, api_world: ApiWorld,
                                                                   header: str) -> None:
    response = api.get(f"/api/v1/audio/{api_world.shared_sha}.mp3", headers={**auth(api_world.token_a),
                                                                             "Range": header})
    assert response.status_code == 200
    assert response.data == api_world.audio_bytes


def test_station_cannot_fetch_audio_only_another_station_uses(api: FlaskClient, api_world: ApiWorld) -> None:
    url = f"/api/v1/audio/{api_world.private_b_sha}.mp3"
    assert api.get(url, headers=auth(api_world.token_b)).status_code == 200
    refused = api.get(url, headers=auth(api_world.token_a))
    assert refused.status_code == 404
    assert "GL-IADER-01" in refused.get_json()["error"]


def test_an_emergency_commands_signed_path_serves_its_audio_without_lookups_until_it_expires(
        api: FlaskClient, api_world: ApiWorld, settings: Settings, clock: FakeClock) -> None:
    from sqlalchemy import event

    from scheduler.delivery.commands import signed_audio_path

    sha = api_world.private_b_sha
    path = signed_audio_path(settings.secret_key, sha, clock(), timedelta(minutes=15))
    statements: list[str] = []
    engine = api.application.extensions["loaxa"]["engine"]
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        served = api.get(path)  # no token needed, and station A's programmes do not hold this file
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert served.status_code == 200 and served.mimetype == "audio/mpeg" and len(served.data) > 0
    assert statements == []
    tampered = path.replace(sha, api_world.shared_sha)  # the signature names one file only
    assert api.get(tampered).status_code == 401
    assert api.get(path[:-1] + ("0" if path[-1] != "0" else "1")).status_code == 401
    clock.advance(minutes=16)
    expired = api.get(path, headers=auth(api_world.token_a))  # then only the usual token check counts
    assert expired.status_code == 404 and "GL-IADER-01" in expired.get_json()["error"]
    assert api.get(path, headers=auth(api_world.token_b)).status_code == 200


def test_ack_records_the_version_held_and_refuses_a_version_the_server_never_had(
        api: FlaskClient, api_world: ApiWorld, sessions: sessionmaker[Session], clock: FakeClock) -> None:
    ok = api.post("/api/v1/ack", json={"week": "2026-W48", "version": 1}, headers=auth(api_world.token_a))
    assert ok.status_code == 200
    assert ok.get_json()["acked_version"] == 1
    future = api.post("/api/v1/ack", json={"week": "2026-W48", "version": 7}, headers=auth(api_world.token_a))
    assert future.status_code == 400
    assert "phiên bản 7" in future.get_json()["error"]
    other = api.post("/api/v1/ack", json={"week": "2026-W49", "version": 1}, headers=auth(api_world.token_b))
    assert other.status_code == 404
    with sessions() as s:
        rows = {(p.station.code, p.week): (p.acked_version, p.acked_at) for p in s.scalars(select(Programme))}
    assert rows[("GL-IADER-01", "2026-W48")] == (1, clock())
    assert rows[("GL-IADER-01", "2026-W49")] == (0, None)


def _statements(api: FlaskClient, call: Any) -> tuple[Any, list[str]]:
    """`call()`'s answer and the SQL statements it ran."""
    from sqlalchemy import event

    engine = api.application.extensions["loaxa"]["engine"]
    seen: list[str] = []
    listener = lambda *args: seen.append(args[2].lstrip().split()[0].upper())  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        return call(), seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def test_an_ack_is_one_statement_committing_itself(api: FlaskClient, api_world: ApiWorld,
                                                   sessions: sessionmaker[Session], clock: FakeClock) -> None:
    from sqlalchemy import event

    engine = api.application.extensions["loaxa"]["engine"]
    commits: list[object] = []
    count = commits.append
    event.listen(engine, "commit", count)
    try:
        answer, seen = _statements(api, lambda: api.post("/api/v1/ack", json={"week": "2026-W48", "version": 1},
                                                         headers=auth(api_world.token_a)))
    finally:
        event.remove(engine, "commit", count)
    assert answer.status_code == 200
    assert answer.get_json() == {"week": "2026-W48", "version": 1, "acked_version": 1}
    # WITH acks(...) AS (VALUES ...) UPDATE programme ...: the token's station found inside it, no SELECT
    # before, no BEGIN or COMMIT around it (one round trip: autocommit).
    assert seen == ["WITH"] and commits == []
    with sessions() as s:
        assert s.scalar(select(Programme.acked_at).join(Station).where(Station.code == "GL-IADER-01",
                                                                        Programme.week == "2026-W48")) == clock()


def _bump(sessions: sessionmaker[Session], code: str, week: str, version: int) -> None:
    with transaction(sessions) as s:
        programme = s.scalar(select(Programme).join(Station).where(Station.code == code, Programme.week == week))
        assert programme is not None
        programme.version = version


def test_a_repeated_ack_is_answered_the_same_and_refreshes_its_time(
        api: FlaskClient, api_world: ApiWorld, sessions: sessionmaker[Session], clock: FakeClock) -> None:
    body = {"week": "2026-W48", "version": 1}
    first = api.post("/api/v1/ack", json=body, headers=auth(api_world.token_a))
    clock.advance(minutes=5)
    again = api.post("/api/v1/ack", json=body, headers=auth(api_world.token_a))
    assert first.status_code == again.status_code == 200
    assert first.get_json() == again.get_json() == {"week": "2026-W48", "version": 1, "acked_version": 1}
    with sessions() as s:
        row = s.execute(select(Programme.acked_version, Programme.acked_at).join(Station)
                        .where(Station.code == "GL-IADER-01", Programme.week == "2026-W48")).one()
    assert tuple(row) == (1, clock())


def test_a_stale_ack_arriving_late_leaves_the_newer_one_in_place(
        api: FlaskClient, api_world: ApiWorld, sessions: sessionmaker[Session], clock: FakeClock) -> None:
    _bump(sessions, "GL-IADER-01", "2026-W48", 3)
    newer = api.post("/api/v1/ack", json={"week": "2026-W48", "version": 3}, headers=auth(api_world.token_a))
    acked_at = clock()
    clock.advance(minutes=1)
    late = api.post("/api/v1/ack", json={"week": "2026-W48", "version": 2}, headers=auth(api_world.token_a))
    assert newer.status_code == late.status_code == 200
    assert late.get_json() == {"week": "2026-W48", "version": 3, "acked_version": 3}
    with sessions() as s:
        row = s.execute(select(Programme.acked_version, Programme.acked_at).join(Station)
                        .where(Station.code == "GL-IADER-01", Programme.week == "2026-W48")).one()
    assert tuple(row) == (3, acked_at)


def test_an_ack_with_a_wrong_or_inactive_token_is_refused_and_changes_nothing(
        api: FlaskClient, api_world: ApiWorld, sessions: sessionmaker[Session]) -> None:
    body = {"week": "2026-W48", "version": 1}
    assert api.post("/api/v1/ack", json=body, headers=auth("sai-ma")).status_code == 401
    assert api.post("/api/v1/ack", json="không phải đối tượng", headers=auth("sai-ma")).status_code == 401
    with transaction(sessions) as s:
        station = s.scalar(select(Station).where(Station.code == "GL-IADER-01"))
        assert station is not None
        station.active = False
    assert api.post("/api/v1/ack", json=body, headers=auth(api_world.token_a)).status_code == 401
    bad = api.post("/api/v1/ack", json={"week": "2026-W48", "version": True}, headers=auth(api_world.token_b))
    assert bad.status_code == 400 and "Phiên bản" in bad.get_json()["error"]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Programme).where(Programme.acked_version > 0)) == 0


def test_acks_sent_at_once_by_many_stations_are_all_recorded(
        settings: Settings, clock: FakeClock, sessions: sessionmaker[Session], media_dir: Path) -> None:
    now = clock()
    tokens = {}
    with transaction(sessions) as s:
        asset = add_asset(s, media_dir, make_mp3(1.0, 440), now, 1000)
        for n in range(12):
            station, tokens[f"GL-ACK-{n:02d}"] = add_station(s, f"GL-ACK-{n:02d}", now, commune=f"Xã {n % 3}")
            add_programme(s, station, "2026-W48", [ItemSpec(datetime(2026, 11, 24, tzinfo=UTC), asset)], now)
    barrier = threading.Barrier(12)

    def send(token: str) -> int:
        with requests.Session() as http:
            barrier.wait(timeout=30)
            return http.post(f"{server.url}/api/v1/ack", json={"week": "2026-W48", "version": 1},
                             headers=auth(token), timeout=60).status_code

    with ServerThread(settings, clock) as server, ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(send, tokens.values()))
    assert statuses == [200] * 12
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Programme).where(Programme.acked_version == 1)) == 12


def _play(play_id: str, **extra: object) -> dict[str, object]:
    return {"play_id": play_id, "kind": "bulletin", "title": "Tuyên truyền CCHC", "result": "played",
            "actual_start": "2026-11-24T05:30:00+07:00", "actual_end": "2026-11-24T05:30:02+07:00",
            "scheduled_start": "2026-11-24T05:30:00+07:00", "played_ms": 2000, **extra}


def test_play_log_batch_sent_twice_is_stored_once_and_fully_acknowledged(
        api: FlaskClient, api_world: ApiWorld, sessions: sessionmaker[Session]) -> None:
    batch = {"plays": [_play("p-1"), _play("p-2")]}
    first = api.post("/api/v1/playlog", json=batch, headers=auth(api_world.token_a)).get_json()
    second = api.post("/api/v1/playlog", json=batch, headers=auth(api_world.token_a)).get_json()
    assert sorted(first["accepted"]) == sorted(second["accepted"]) == ["p-1", "p-2"]
    assert (first["stored"], second["stored"], second["duplicates"]) == (2, 0, 2)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(PlayLog)) == 2
        assert s.scalar(select(Station.last_log_at).where(Station.code == "GL-IADER-01")) is not None


def test_bad_play_log_batch_is_rejected_whole_and_stores_nothing(api: FlaskClient, api_world: ApiWorld,
                                                                 sessions: sessionmaker[Session]) -> None:
    batch = {"plays": [_play("p-ok"), _play("p-bad", result="da-phat")]}
    response = api.post("/api/v1/playlog", json=batch, headers=auth(api_world.token_a))
    assert response.status_code == 400
    assert "Bản ghi thứ 2" in response.get_json()["error"]
    typed = api.post("/api/v1/playlog", json={"plays": [_play("p-x", item_id="mười")]},
                     headers=auth(api_world.token_a))
    assert typed.status_code == 400
    assert "item_id" in typed.get_json()["error"]
    not_json = api.post("/api/v1/playlog", data="plays=1", headers=auth(api_world.token_a))
    assert not_json.status_code == 400
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(PlayLog)) == 0


def test_status_is_kept_with_its_contact_time_and_the_answer_gives_server_time(
        api: FlaskClient, api_world: ApiWorld, sessions: sessionmaker[Session], clock: FakeClock) -> None:
    report = {"agent_version": "0.1.0", "clock_offset_ms": -120, "disk_free_mb": 900, "volume": 70,
              "amplifier": "on", "power": "mains", "playing": {"title": "Tuyên truyền CCHC"}}
    answer = api.post("/api/v1/status", json=report, headers=auth(api_world.token_a))
    assert answer.status_code == 200
    assert datetime.fromisoformat(answer.get_json()["server_time"]) == clock()
    bad = api.post("/api/v1/status", json={"volume": 180}, headers=auth(api_world.token_a))
    assert bad.status_code == 400
    assert "180" in bad.get_json()["error"]
    with sessions() as s:
        station = s.scalar(select(Station).where(Station.code == "GL-IADER-01"))
        assert station is not None
        assert station.status["volume"] == 70
        assert station.status["playing"] == {"title": "Tuyên truyền CCHC"}
        assert station.last_status_at == clock()


def test_mqtt_access_names_the_station_topics_and_hides_the_server_credentials(
        settings: Settings, clock: FakeClock, api_world: ApiWorld, sessions: sessionmaker[Session]) -> None:
    from dataclasses import replace

    app = create_app(replace(settings, mqtt_url="mqtt://loaxa-server:bi-mat@127.0.0.1:1883",
                             public_url="https://loaxa.gialai.gov.vn"), clock=clock, testing=True)
    data = app.test_client().get("/api/v1/mqtt", headers=auth(api_world.token_a)).get_json()
    assert data["url"] == "mqtt://loaxa.gialai.gov.vn:1883"
    assert data["topics"]["cmd"] == "loaxa/gia-lai/xa-ia-der/GL-IADER-01/cmd"
    assert data["username"] == "GL-IADER-01"
    with sessions() as s:
        station = s.scalar(select(Station).where(Station.code == "GL-IADER-01"))
        assert station is not None
        assert data["password"] == station_mqtt_password(app.extensions["loaxa"]["settings"], station)
    assert "bi-mat" not in str(data)


def test_mqtt_access_without_a_broker_says_so(api: FlaskClient, api_world: ApiWorld) -> None:
    assert api.get("/api/v1/mqtt", headers=auth(api_world.token_a)).get_json()["url"] is None


def test_unknown_api_path_is_a_json_404(api: FlaskClient) -> None:
    response = api.get("/api/v1/khong-co")
    assert response.status_code == 404
    assert "docs/station-api.md" in response.get_json()["error"]
    assert "/api/v1/openapi.json" in response.get_json()["error"]


def test_every_path_of_the_wire_contract_is_served_by_the_station_api(api: FlaskClient) -> None:
    from scheduler import wire

    urls = api.application.url_map.bind("loaxa.test")
    paths = [("GET", wire.manifest_index_path()), ("GET", wire.manifest_path("2026-W48")),
             ("GET", wire.audio_path("a" * 64)), ("POST", wire.ACK_PATH), ("POST", wire.PLAYLOG_PATH),
             ("POST", wire.STATUS_PATH), ("GET", wire.MQTT_PATH)]  # fmt: skip
    endpoints = [urls.match(path, method=method)[0] for method, path in paths]
    assert endpoints == ["api.manifest_index", "api.manifest", "api.audio", "api.ack", "api.playlog", "api.status",
                         "api.mqtt"]


POISON_ROWS: list[tuple[str, dict[str, object], str]] = [
    ("nul-in-reason", {"result": "failed", "reason": "ffplay: lỗi\x00giải mã"}, "reason"),
    ("played-ms-int32", {"played_ms": 2**31}, "played_ms"),
    ("played-ms-negative", {"played_ms": -5}, "played_ms"),
    ("item-id-huge", {"item_id": 10**30}, "item_id"),
    ("instant-overflows", {"actual_start": "9999-12-31T23:59:59-05:00"}, "actual_start"),
    ("year-1970", {"actual_start": "1970-01-01T00:00:00+00:00", "actual_end": None}, "actual_start"),
    ("end-before-start", {"actual_end": "2026-11-24T05:29:00+07:00"}, "actual_end"),
    ("no-zone", {"scheduled_start": "2026-11-24T05:30:00"}, "scheduled_start"),
    ("english-parse-error", {"actual_end": "hôm qua"}, "actual_end"),
    ("title-too-long", {"title": "Bản tin " * 40}, "title"),
    ("control-in-title", {"title": "Bản\x1btin"}, "title"),
    ("text-not-string", {"title": ["Bản tin"]}, "title"),
]


@pytest.mark.parametrize("fields,name", [(f, n) for _, f, n in POISON_ROWS], ids=[i for i, _, _ in POISON_ROWS])
def test_poison_play_row_gets_400_naming_its_row_and_field_and_the_rest_then_flows(
        api: FlaskClient, api_world: ApiWorld, sessions: sessionmaker[Session], fields: dict[str, object],
        name: str) -> None:
    batch = {"plays": [_play("p-ok-1"), _play("p-poison", **fields), _play("p-ok-2")]}
    response = api.post("/api/v1/playlog", json=batch, headers=auth(api_world.token_a))
    assert response.status_code == 400
    body = response.get_json()
    assert "Bản ghi thứ 2" in body["error"] and f"«{name}»" in body["error"]
    assert body["invalid"] == [{"row": 2, "play_id": "p-poison", "field": name, "error": body["invalid"][0]["error"]}]
    assert "Invalid isoformat" not in body["error"]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(PlayLog)) == 0
    rest = {"plays": [_play("p-ok-1"), _play("p-ok-2")]}
    again = api.post("/api/v1/playlog", json=rest, headers=auth(api_world.token_a))
    assert again.status_code == 200 and sorted(again.get_json()["accepted"]) == ["p-ok-1", "p-ok-2"]


def test_lone_surrogate_and_every_bad_row_of_a_batch_are_named(api: FlaskClient, api_world: ApiWorld,
                                                                 sessions: sessionmaker[Session]) -> None:
    # JSON may spell a lone surrogate ("\ud800"): PostgreSQL cannot encode it.
    rows = [json.dumps(_play("p-1")), json.dumps(_play("p-2", title="x")).replace('"x"', '"\\ud800"'),
            json.dumps(_play("p-3", played_ms="2000"))]
    raw = '{"plays": [' + ", ".join(rows) + "]}"
    response = api.post("/api/v1/playlog", data=raw, content_type="application/json",
                        headers=auth(api_world.token_a))
    assert response.status_code == 400
    invalid = response.get_json()["invalid"]
    assert [(e["row"], e["play_id"], e["field"]) for e in invalid] == [(2, "p-2", "title"), (3, "p-3", "played_ms")]
    assert "1 bản ghi sai khác" in response.get_json()["error"]


def test_a_row_naming_another_stations_item_is_refused(api: FlaskClient, api_world: ApiWorld,
                                                      sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        b_item = s.scalars(select(ProgrammeItem).join(Programme).join(Station)
                           .where(Station.code == "GL-CHUPUH-01")).first()
        assert b_item is not None
        b_item_id = b_item.id
    response = api.post("/api/v1/playlog", json={"plays": [_play("p-1", item_id=b_item_id)]},
                        headers=auth(api_world.token_a))
    assert response.status_code == 400
    assert response.get_json()["invalid"][0]["field"] == "item_id"


def test_an_oversized_play_log_body_is_refused_with_413(api: FlaskClient, api_world: ApiWorld) -> None:
    huge = {"plays": [_play(f"p-{n}", reason="x" * 2000) for n in range(1000)] + [{"pad": "y" * 3_000_000}]}
    response = api.post("/api/v1/playlog", json=huge, headers=auth(api_world.token_a))
    assert response.status_code == 413
    assert "MB" in response.get_json()["error"]


def test_identical_batches_sent_at_once_are_all_answered_and_stored_once(
        settings: Settings, clock: FakeClock, api_world: ApiWorld, sessions: sessionmaker[Session]) -> None:
    batch: dict[str, Any] = {"plays": [_play(f"p-{n}") for n in range(40)]}
    barrier = threading.Barrier(6)

    def send() -> tuple[int, int]:
        with requests.Session() as http:
            barrier.wait(timeout=30)
            answer = http.post(f"{server.url}/api/v1/playlog", json=batch, headers=auth(api_world.token_a), timeout=60)
            return answer.status_code, int(answer.json().get("stored", -1))

    with ServerThread(settings, clock) as server, ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: send(), range(6)))
    assert [status for status, _ in results] == [200] * 6
    assert sum(stored for _, stored in results) == 40
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(PlayLog)) == 40
