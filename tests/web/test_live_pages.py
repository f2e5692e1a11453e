"""Phát trực tiếp pages: who may speak, to which stations, and the Vietnamese errors for bad input.
(The broadcast itself, through Icecast to real agents, is tests/e2e/test_live_broadcast.py.)"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from web_pages import World, text_of

from scheduler.db.models import Commune, LiveBroadcast, Station, User
from scheduler.db.session import transaction
from scheduler.live import broadcasts
from scheduler.settings import Settings
from tests.fake_clock import FakeClock
from web.app import create_app
from web.auth import session_fingerprint


@pytest.fixture
def live_app(settings: Settings, clock: FakeClock, world: World, sessions: sessionmaker[Session],
             password_hash: str) -> Iterator[Flask]:
    """The app with live broadcasts configured (Icecast on a port nobody listens to), and an approver of
    Xã Ia Dêr only."""
    with transaction(sessions) as s:
        commune = s.scalars(select(Commune).where(Commune.name == "Xã Ia Dêr")).one()
        s.add(User(username="duyet_xa", full_name="Duyệt xã", role="approver", password_hash=password_hash,
                   commune=commune, created_at=clock()))
    app = create_app(dataclasses.replace(settings, icecast_url="http://source:x@127.0.0.1:9"), clock=clock,
                     testing=True)
    app.config["WTF_CSRF_ENABLED"] = False
    yield app
    with transaction(sessions) as s:  # close any ffmpeg a test left running
        for row in broadcasts.on_air(s):
            broadcasts.stop_live(s, settings, row, clock(), "hết kiểm thử")


@pytest.fixture
def as_live_user(live_app: Flask, sessions: sessionmaker[Session]) -> Callable[[str], FlaskClient]:
    def make(username: str) -> FlaskClient:
        client = live_app.test_client()
        with sessions() as s, live_app.app_context():
            user = s.scalars(select(User).where(User.username == username)).one()
            fingerprint = session_fingerprint(user)
        with client.session_transaction() as session:
            session["uid"] = user.id
            session["fp"] = fingerprint
        return client

    return make


def test_only_approvers_and_admins_may_speak_live(as_live_user: Callable[[str], FlaskClient]) -> None:
    for username in ("bientap", "vanhanh", "xem"):
        assert as_live_user(username).get("/truc-tiep/").status_code == 403
        assert as_live_user(username).post("/truc-tiep/bat-dau", json={"targets": ["IADER-01"]}).status_code == 403
    page = as_live_user("duyet").get("/truc-tiep/")
    assert page.status_code == 200 and "Bắt đầu nói" in page.get_data(as_text=True)


def test_a_commune_approver_is_offered_and_may_reach_only_their_commune(
        as_live_user: Callable[[str], FlaskClient]) -> None:
    client = as_live_user("duyet_xa")
    html = client.get("/truc-tiep/").get_data(as_text=True)
    assert "IADER-01" in html and "IADER-02" in html and "CHUPUH-01" not in html
    answer = client.post("/truc-tiep/bat-dau", json={"title": "Họp dân", "targets": ["CHUPUH-01"]})
    assert answer.status_code == 400
    assert "ngoài phạm vi Xã Ia Dêr" in answer.get_json()["error"]


@pytest.mark.parametrize(("body", "message"), [
    ({"title": "x"}, "Nội dung phải có dạng"),
    ({"targets": []}, "Chưa chọn nơi phát"),
    ({"targets": ["KHONG-CO"]}, "«KHONG-CO» không phải mã đài"),
])
def test_bad_starts_get_a_clear_vietnamese_error_and_start_nothing(
        as_live_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], body: object, message: str) -> None:
    answer = as_live_user("duyet").post("/truc-tiep/bat-dau", json=body)
    assert answer.status_code == 400 and message in answer.get_json()["error"]
    with sessions() as s:
        assert s.scalars(select(LiveBroadcast)).all() == []


def test_without_icecast_the_page_says_it_is_not_set_up(as_user: Callable[[str], FlaskClient]) -> None:
    client = as_user("duyet")
    assert "LOAXA_ICECAST_URL" in text_of(client.get("/truc-tiep/").get_data(as_text=True))
    answer = client.post("/truc-tiep/bat-dau", json={"targets": ["IADER-01"]})
    assert answer.status_code == 400 and "LOAXA_ICECAST_URL" in answer.get_json()["error"]


def test_start_then_bad_chunks_then_stop_and_a_station_busy_twice_is_refused(
        as_live_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session]) -> None:
    client = as_live_user("duyet")
    started = client.post("/truc-tiep/bat-dau", json={"title": "Họp dân", "targets": ["Xã Ia Dêr"]}).get_json()
    assert started["ok"] and sorted(started["stations"]) == ["IADER-01", "IADER-02"]
    again = client.post("/truc-tiep/bat-dau", json={"targets": ["IADER-02", "CHUPUH-01"]})
    assert again.status_code == 400 and "IADER-02 đang phát trực tiếp" in again.get_json()["error"]
    bad = client.post(f"/truc-tiep/{started['id']}/am-thanh?seq=abc", data=b"x")
    assert bad.status_code == 400 and "Số thứ tự" in bad.get_json()["error"]
    stopped = client.post(f"/truc-tiep/{started['id']}/dung", json={})
    assert stopped.get_json()["state"] == "da_ket_thuc"
    late = client.post(f"/truc-tiep/{started['id']}/am-thanh?seq=0", data=b"x")
    assert late.status_code == 409 and "đã kết thúc" in late.get_json()["error"]
    with sessions() as s:
        row = s.get(LiveBroadcast, started["id"])
        assert row is not None and row.end_reason == "Kết thúc bởi duyet."
    assert as_live_user("duyet_xa").post("/truc-tiep/999/dung", json={}).status_code == 404


def test_stations_learn_of_an_announced_broadcast_by_http_and_are_told_to_stop_after(
        sessions: sessionmaker[Session], clock: FakeClock, world: World) -> None:
    now: datetime = clock()
    with transaction(sessions) as s:
        row = LiveBroadcast(title="Họp dân", targets=["IADER-01"], stations=["IADER-01"], mount="/m.mp3",
                            stream_url="http://ice/m.mp3", state=broadcasts.ON_AIR, started_at=now, end_reason="",
                            received_bytes=0)
        s.add(row)
    with transaction(sessions) as s:
        station = s.scalars(select(Station).where(Station.code == "IADER-01")).one()
        other = s.scalars(select(Station).where(Station.code == "IADER-02")).one()
        assert broadcasts.station_commands(s, station, now) == []  # not on air yet: nothing to join
        live_row = s.scalars(select(LiveBroadcast)).one()
        live_row.announced_at = now
        s.flush()
        [play] = broadcasts.station_commands(s, station, now)
        assert (play.kind, play.live, play.stream_url) == ("play", live_row.id, "http://ice/m.mp3")
        assert broadcasts.station_commands(s, other, now) == []
        live_row.state, live_row.ended_at = broadcasts.ENDED, now
        s.flush()
        [stop] = broadcasts.station_commands(s, station, now + timedelta(minutes=1))
        assert (stop.kind, stop.live) == ("stop", live_row.id)
        assert broadcasts.station_commands(s, station, now + broadcasts.STOP_TOLD + timedelta(minutes=1)) == []


def test_a_broadcast_whose_browser_went_quiet_is_ended_by_the_sweep(
        sessions: sessionmaker[Session], clock: FakeClock, settings: Settings, world: World) -> None:
    now = clock()
    with transaction(sessions) as s:
        s.add(LiveBroadcast(title="Họp dân", targets=["IADER-01"], stations=["IADER-01"], mount="/m.mp3",
                            stream_url="http://ice/m.mp3", state=broadcasts.ON_AIR, started_at=now, end_reason="",
                            received_bytes=0, last_chunk_at=now))
    with transaction(sessions) as s:
        assert broadcasts.sweep(s, settings, now + timedelta(seconds=10)) == 0
        assert broadcasts.sweep(s, settings, now + timedelta(seconds=broadcasts.QUIET_END + 1)) == 1
        row = s.scalars(select(LiveBroadcast)).one()
        assert row.state == broadcasts.ENDED and "Không nhận được âm thanh" in row.end_reason


def test_a_live_broadcast_stands_in_the_programme_grid_of_its_stations_as_truc_tiep(
        as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], clock: FakeClock) -> None:
    now = clock()
    with transaction(sessions) as s:
        s.add(LiveBroadcast(title="Trưởng thôn thông báo họp dân", targets=["IADER-01"], stations=["IADER-01"],
                            mount="/m.mp3", stream_url="http://ice/m.mp3", state=broadcasts.ENDED, started_at=now,
                            ended_at=now + timedelta(minutes=4), end_reason="", received_bytes=0))
    local = now.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).isocalendar()
    week = f"{local.year}-W{local.week:02d}"
    client = as_user("vanhanh")
    page = client.get(f"/lich-phat/?dai=IADER-01&tuan={week}").get_data(as_text=True)
    entry = text_of(page.split("kind-live", 1)[1].split("</article>", 1)[0])
    assert "Trưởng thôn thông báo họp dân" in entry and "Trực tiếp" in entry and "05:00 · 4:00" in entry
    assert "Sửa" not in entry  # not a planned item: nothing to pin, move or remove
    other = client.get(f"/lich-phat/?dai=IADER-02&tuan={week}").get_data(as_text=True)
    assert "kind-live" not in other
    with sessions() as s:
        commune_id = s.scalars(select(Commune.id).where(Commune.name == "Xã Ia Dêr")).one()
    commune = client.get(f"/lich-phat/?xa={commune_id}&tuan={week}").get_data(as_text=True)
    assert "Trưởng thôn thông báo họp dân" in commune
