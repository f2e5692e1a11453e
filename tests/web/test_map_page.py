"""Bản đồ (/ban-do/): stations coloured by scheduler.fleet, scoped by scheduler.access, filtered by area and
commune, served with the vendored Leaflet and never a CDN."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.models import Commune, User
from scheduler.db.session import transaction
from scheduler.settings import Settings
from tests.scheduler.fleet_world import Fleet, seed_fleet
from web.app import create_app
from web.auth import session_fingerprint


@pytest.fixture
def fleet(sessions: sessionmaker[Session], clock: Callable[[], datetime], password_hash: str) -> Fleet:
    with transaction(sessions) as s:
        fleet = seed_fleet(s, clock())
        ia_der = s.get(Commune, fleet.communes["Xã Ia Dêr"])
        for username, role, commune in (("quantri", "admin", None), ("vanhanh", "operator", ia_der),
                                        ("xem", "viewer", None)):
            s.add(User(username=username, role=role, password_hash=password_hash, commune=commune, created_at=clock()))
    return fleet


def make_app(settings: Settings, clock: Callable[[], datetime]) -> Flask:
    app = create_app(settings, clock=clock, testing=True)
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def signed_in(app: Flask, sessions: sessionmaker[Session], username: str) -> FlaskClient:
    client = app.test_client()
    with sessions() as s, app.app_context():
        user = s.scalars(select(User).where(User.username == username)).one()
        fingerprint = session_fingerprint(user)
    with client.session_transaction() as session:
        session["uid"], session["fp"] = user.id, fingerprint
    return client


def map_data(html: str) -> dict[str, list[dict[str, Any]]]:
    match = re.search(r'<script type="application/json" id="fleet-data">(.*?)</script>', html, re.S)
    assert match, "the page embeds no station data"
    data: dict[str, list[dict[str, Any]]] = json.loads(match.group(1))
    return data


def test_the_map_colours_every_station_by_its_state_and_fills_the_popups(
    settings: Settings, clock: Callable[[], datetime], sessions: sessionmaker[Session], fleet: Fleet
) -> None:
    page = signed_in(make_app(settings, clock), sessions, "quantri").get("/ban-do/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    data = map_data(html)
    states = {s["code"]: s["state"] for s in data["stations"]}
    assert states == {"A-01": "dang_phat", "B-01": "bo_lo_hom_nay", "C-01": "mat_ket_noi", "D-01": "truc_tuyen"}
    assert next(s for s in data["stations"] if s["code"] == "A-01")["state_label"] == "Đang phát"
    client = signed_in(make_app(settings, clock), sessions, "quantri")
    a = client.get("/ban-do/dai/A-01").get_json()  # the popup, fetched when it opens
    assert a["playing"] == "Tiếp sóng Đài tỉnh (từ 04:58, theo lịch)"
    assert a["today"] == "đã phát 1/3 mục, còn 1 sắp phát"
    assert [c[0] for c in a["contacts"]] == ["Nhận lịch", "Báo trạng thái", "Gửi nhật ký phát"]
    assert a["contacts"][2][1] == "chưa liên lạc"
    assert {c["name"] for c in data["communes"]} == {"Xã Ia Dêr", "Xã Chư Pưh"}
    # E-01 has no coordinates: not on the map, but in the list, and said so.
    assert "E-01" not in states and 'id="dai-E-01"' in html and "chưa có tọa độ" in html
    assert re.search(r'data-state="dang_phat">2<', html)  # the legend counts A-01 and E-01
    assert "Bản đồ" in html and 'href="/ban-do/"' in html  # in the menu


def test_leaflet_is_served_from_the_server_itself(
    settings: Settings, clock: Callable[[], datetime], sessions: sessionmaker[Session], fleet: Fleet
) -> None:
    app = make_app(settings, clock)
    html = signed_in(app, sessions, "quantri").get("/ban-do/").get_data(as_text=True)
    sources = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', html)
    assert "/static/vendor/leaflet/leaflet.js" in sources and "/static/vendor/leaflet/leaflet.css" in sources
    assert all(src.startswith("/") and not src.startswith("//") for src in sources), sources
    client = app.test_client()
    script = client.get("/static/vendor/leaflet/leaflet.js")
    assert script.status_code == 200 and b"Leaflet 1.9.4" in script.data[:400]
    assert client.get("/static/fleetmap.js").status_code == 200
    assert 'data-tiles=""' in html and "LOAXA_MAP_TILES" in html  # no tile server: the coordinate plot


def test_tiles_come_from_the_configured_url(
    settings: Settings, clock: Callable[[], datetime], sessions: sessionmaker[Session], fleet: Fleet
) -> None:
    tiled = replace(settings, map_tiles="http://127.0.0.1:8099/tiles/{z}/{x}/{y}.png", map_attribution="© Sở TT")
    html = signed_in(make_app(tiled, clock), sessions, "quantri").get("/ban-do/").get_data(as_text=True)
    assert 'data-tiles="http://127.0.0.1:8099/tiles/{z}/{x}/{y}.png"' in html
    assert 'data-attribution="© Sở TT"' in html


def test_a_commune_operator_sees_only_their_commune(
    settings: Settings, clock: Callable[[], datetime], sessions: sessionmaker[Session], fleet: Fleet
) -> None:
    html = signed_in(make_app(settings, clock), sessions, "vanhanh").get("/ban-do/").get_data(as_text=True)
    assert {s["code"] for s in map_data(html)["stations"]} == {"A-01", "B-01"}
    assert "Xã Chư Pưh" not in html and "C-01" not in html
    outside = signed_in(make_app(settings, clock), sessions, "vanhanh").get("/ban-do/dai/C-01")
    assert outside.status_code == 404 and "Không có đài C-01 trong phạm vi của bạn." in outside.get_json()["error"]
    # Asking for another commune by its id gives nothing, not a leak.
    other = fleet.communes["Xã Chư Pưh"]
    html = signed_in(make_app(settings, clock), sessions, "vanhanh").get(f"/ban-do/?xa={other}").get_data(as_text=True)
    assert map_data(html)["stations"] == [] and "Không có đài nào khớp bộ lọc." in html


def test_filters_by_area_commune_and_state(
    settings: Settings, clock: Callable[[], datetime], sessions: sessionmaker[Session], fleet: Fleet
) -> None:
    client = signed_in(make_app(settings, clock), sessions, "quantri")

    def codes(query: str) -> set[object]:
        page = client.get(f"/ban-do/?{query}")
        assert page.status_code == 200
        return {s["code"] for s in map_data(page.get_data(as_text=True))["stations"]}

    assert codes(f"khu_vuc={fleet.areas['Khu vực Chư Sê']}") == {"A-01", "B-01"}
    assert codes(f"xa={fleet.communes['Xã Chư Pưh']}") == {"C-01", "D-01"}
    assert codes("trang_thai=mat_ket_noi") == {"C-01"}
    # The commune list follows the chosen area.
    html = client.get(f"/ban-do/?khu_vuc={fleet.areas['Khu vực Chư Sê']}").get_data(as_text=True)
    assert re.search(r"<option value=\"\d+\"\s*>Xã Chư Pưh</option>", html) is None


def test_bad_filters_get_a_vietnamese_word_and_the_whole_map(
    settings: Settings, clock: Callable[[], datetime], sessions: sessionmaker[Session], fleet: Fleet
) -> None:
    page = signed_in(make_app(settings, clock), sessions, "quantri").get("/ban-do/?xa=abc&trang_thai=chay&khu_vuc=-1")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Xã «abc» không hợp lệ" in html and "Trạng thái «chay» không có" in html and "Khu vực «-1» không hợp lệ" in html
    assert len(map_data(html)["stations"]) == 4


def test_viewers_and_strangers_do_not_get_the_map(
    settings: Settings, clock: Callable[[], datetime], sessions: sessionmaker[Session], fleet: Fleet
) -> None:
    app = make_app(settings, clock)
    assert app.test_client().get("/ban-do/").status_code in (302, 401)
    assert signed_in(app, sessions, "xem").get("/ban-do/").status_code == 403


def test_a_bad_tile_url_is_refused_in_vietnamese() -> None:
    with pytest.raises(ValueError, match="LOAXA_MAP_TILES"):
        Settings.from_env({"LOAXA_MAP_TILES": "tiles.example/{z}/{x}.png"})
    assert Settings.from_env({"LOAXA_MAP_TILES": "/tiles/{z}/{x}/{y}.png"}).map_tiles == "/tiles/{z}/{x}/{y}.png"


def test_the_list_under_the_map_shows_the_most_urgent_stations_first(
    settings: Settings, clock: Callable[[], datetime], sessions: sessionmaker[Session], fleet: Fleet,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from web.views import fleetmap

    monkeypatch.setattr(fleetmap, "LIST_LIMIT", 3)
    html = signed_in(make_app(settings, clock), sessions, "quantri").get("/ban-do/").get_data(as_text=True)
    # offline, missed, then playing — E-01 before A-01: it has no coordinates, the list is its only place
    assert re.findall(r'id="dai-([A-Z]-01)"', html) == ["C-01", "B-01", "E-01"]
    assert "Hiện 3 đài cần chú ý nhất" in html and len(map_data(html)["stations"]) == 4  # the map keeps them all
