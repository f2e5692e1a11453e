"""The open read API (/api/v1/stations, /programmes, /airtime/daily, /bulletins) behind per-consumer keys
with scopes, and the OpenAPI 3.1 document at /api/v1/openapi.json, validated with openapi-spec-validator.
Every answer below is also checked against that document (tests/openapi_check.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler import apikeys
from scheduler.db.models import ApiConsumer, Bulletin
from scheduler.db.session import transaction
from scheduler.reports import ReportRequest, build_report
from scheduler.reports.periods import Period
from scheduler.settings import Settings
from scheduler.sources import add_source
from tests.openapi_check import CheckedClient
from tests.scheduler.fleet_world import TZ, Fleet, seed_fleet
from web.app import create_app
from web.cli import main

ALL_SCOPES = ",".join(apikeys.SCOPES)


@pytest.fixture
def fleet(sessions: sessionmaker[Session], clock: Callable[[], datetime]) -> Fleet:
    with transaction(sessions) as s:
        fleet = seed_fleet(s, clock())
        today = clock().astimezone(TZ).date()
        for code, status, topic, updated in (("BT-1", "da_duyet", "tthc", 1), ("BT-2", "da_duyet", "mot_cua", 3),
                                              ("BT-3", "nhap", "tthc", 2), ("BT-4", "luu_tru", "tthc", 4)):
            s.add(Bulletin(code=code, title=f"Bản tin {code}", text="Nội dung CCHC.", topic=topic, language="vi",
                           priority="thuong", valid_from=today, valid_to=today + timedelta(days=10 * updated),
                           plays_per_week=3, targets=["Xã Ia Dêr"], status=status,
                           created_at=clock(), updated_at=clock() - timedelta(days=updated)))
    return fleet


@pytest.fixture
def app(settings: Settings, clock: Callable[[], datetime]) -> Flask:
    return create_app(settings, clock=clock, testing=True)


@pytest.fixture
def key(sessions: sessionmaker[Session], clock: Callable[[], datetime]) -> Callable[[str], str]:
    def make(scopes: str) -> str:
        with transaction(sessions) as s:
            name = "ben-" + str(len(list(s.scalars(select(ApiConsumer.id)))) + 1)
            return apikeys.add_consumer(s, name, scopes, clock())[1]

    return make


def get(client: FlaskClient, path: str, key: str | None, bearer: bool = False) -> Any:
    headers = {} if key is None else ({"Authorization": f"Bearer {key}"} if bearer else {"X-API-Key": key})
    return client.get(path, headers=headers)


# -- the document ---------------------------------------------------------------------------------


def test_the_openapi_document_is_valid_31_and_covers_every_api_route(app: Flask) -> None:
    answer = app.test_client().get("/api/v1/openapi.json")
    assert answer.status_code == 200
    doc = answer.get_json()
    validate(doc)  # openapi-spec-validator: raises on an invalid document
    assert doc["openapi"] == "3.1.0" and doc["servers"] == [{"url": "http://127.0.0.1:8080/api/v1"}]
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and "<path:" not in rule.rule:
            template = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len("/api/v1"):])
            for method in rule.methods - {"HEAD", "OPTIONS"}:  # type: ignore[operator]
                routes.add((template, method.lower()))
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert routes - documented == set(), "routes missing from the OpenAPI document"
    assert documented - routes == set(), "the document names routes the server does not have"
    assert {"/stations", "/programmes", "/airtime/daily", "/bulletins", "/manifest/{week}", "/playlog"} <= set(doc["paths"])


def test_a_broken_document_is_refused_by_the_validator(app: Flask) -> None:
    """The validator really checks: the same document with a response lacking its description fails."""
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    del doc["paths"]["/stations"]["get"]["responses"]["200"]["description"]
    with pytest.raises(OpenAPIValidationError):
        validate(doc)


def test_answers_that_stray_from_the_document_are_caught() -> None:
    """The response check of every test can fail: a station without its status is refused."""
    from tests.openapi_check import check_answer

    good = {"data": [], "paging": {"total": 0, "limit": 100, "offset": 0, "next_offset": None}}
    assert check_answer("GET", "/api/v1/stations", 200, "application/json", good)
    with pytest.raises(AssertionError, match="does not match"):
        check_answer("GET", "/api/v1/stations", 200, "application/json", {**good, "data": [{"code": "A-01"}]})
    with pytest.raises(AssertionError, match="status 418"):
        check_answer("GET", "/api/v1/stations", 418, "application/json", {"error": "?"})
    assert CheckedClient.checked >= 0


def test_the_served_apps_middleware_keeps_what_strays() -> None:
    """CheckedWsgi (round the real server the agents talk to) records a bad answer instead of hiding it."""
    from tests.openapi_check import CheckedWsgi

    def wrong(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"ok": true, "server_time": "not a time", "emergencies": []}']

    checked = CheckedWsgi(wrong)
    body = checked({"PATH_INFO": "/api/v1/status", "REQUEST_METHOD": "POST"}, lambda *a: None)
    assert b"".join(body).startswith(b'{"ok"')  # the answer still reaches the caller
    assert len(checked.problems) == 1 and "server_time" in checked.problems[0]


# -- keys and scopes ------------------------------------------------------------------------------


def test_keys_are_needed_and_scopes_are_kept(
    app: Flask, fleet: Fleet, key: Callable[[str], str], sessions: sessionmaker[Session], clock: Callable[[], datetime]
) -> None:
    client = app.test_client()
    stations_only = key("read:stations")
    for path in ("/api/v1/stations", "/api/v1/programmes", "/api/v1/airtime/daily?from=2026-11-23&to=2026-11-23",
                 "/api/v1/bulletins"):
        missing = get(client, path, None)
        assert missing.status_code == 401 and "loaxa apikey add" in missing.get_json()["error"]
        assert get(client, path, "lak_khong-co-that").status_code == 401
    assert get(client, "/api/v1/stations", stations_only).status_code == 200
    assert get(client, "/api/v1/stations", stations_only, bearer=True).status_code == 200
    refused = get(client, "/api/v1/airtime/daily?from=2026-11-23&to=2026-11-23", stations_only)
    assert refused.status_code == 403
    assert "không có phạm vi read:airtime" in refused.get_json()["error"]
    with transaction(sessions) as s:
        _, source_key = add_source(s, "cap-tinh", clock())
    assert get(client, "/api/v1/stations", source_key).status_code == 401  # a source's key reads nothing
    name = "ben-1"  # the key fixture's first consumer
    with transaction(sessions) as s:
        apikeys.revoke(s, name, clock())
    assert get(client, "/api/v1/stations", stations_only).status_code == 401
    with sessions() as s:
        assert s.scalar(select(ApiConsumer.last_used_at).where(ApiConsumer.name == name)) == clock()


def test_the_command_line_makes_a_key_with_scopes(
    app: Flask, fleet: Fleet, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOAXA_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LOAXA_DATA_DIR", str(settings.data_dir))
    runner = CliRunner()
    made = runner.invoke(main, ["apikey", "add", "so-tttt", "--scope", "read:stations,read:airtime"])
    assert made.exit_code == 0, made.output
    new_key = made.stdout.strip().splitlines()[0]
    assert new_key.startswith("lak_")
    client = app.test_client()
    assert get(client, "/api/v1/stations", new_key).status_code == 200
    assert get(client, "/api/v1/bulletins", new_key).status_code == 403
    bad = runner.invoke(main, ["apikey", "add", "khac", "--scope", "read:everything"])
    assert bad.exit_code != 0 and "Phạm vi không có: read:everything" in bad.output
    again = runner.invoke(main, ["apikey", "add", "so-tttt", "--scope", "read:stations"])
    assert again.exit_code != 0 and "Đã có bên dùng API tên «so-tttt»" in again.output
    assert runner.invoke(main, ["apikey", "scope", "so-tttt", "--scope", "read:bulletins"]).exit_code == 0
    assert get(client, "/api/v1/bulletins", new_key).status_code == 200
    listed = runner.invoke(main, ["apikey", "list"])
    assert "so-tttt  hoạt động  read:bulletins" in listed.output
    rotated = runner.invoke(main, ["apikey", "key", "so-tttt"]).output.strip()
    assert get(client, "/api/v1/bulletins", new_key).status_code == 401
    assert get(client, "/api/v1/bulletins", rotated).status_code == 200
    assert runner.invoke(main, ["apikey", "revoke", "so-tttt"]).exit_code == 0
    assert get(client, "/api/v1/bulletins", rotated).status_code == 401


# -- stations -------------------------------------------------------------------------------------


def test_stations_with_coordinates_scope_and_status(app: Flask, fleet: Fleet, key: Callable[[str], str]) -> None:
    client, k = app.test_client(), key("read:stations")
    answer = get(client, "/api/v1/stations", k).get_json()
    assert answer["paging"] == {"total": 5, "limit": 100, "offset": 0, "next_offset": None}
    by_code = {s["code"]: s for s in answer["data"]}
    a = by_code["A-01"]
    assert (a["lat"], a["lon"]) == (13.95, 108.05)
    assert a["scope"] == {"province": "Gia Lai", "area": "Khu vực Chư Sê", "commune": "Xã Ia Dêr"}
    assert a["status"]["state"] == "dang_phat" and a["status"]["online"] is True
    assert a["status"]["now_playing"]["title"] == "Tiếp sóng Đài tỉnh"
    assert a["status"]["today"] == {"planned": 3, "aired": 1, "missed": 0, "upcoming": 1}
    assert by_code["C-01"]["status"]["state"] == "mat_ket_noi"
    assert by_code["D-01"]["scope"]["area"] is None


def test_stations_are_filtered_and_paged(app: Flask, fleet: Fleet, key: Callable[[str], str]) -> None:
    client, k = app.test_client(), key("read:stations")

    def codes(query: str) -> list[str]:
        answer = get(client, f"/api/v1/stations?{query}", k)
        assert answer.status_code == 200, answer.get_json()
        return [s["code"] for s in answer.get_json()["data"]]

    assert codes("area=Khu vực Chư Sê") == ["A-01", "B-01"]
    assert codes("commune=Xã Chư Pưh") == ["C-01", "D-01", "E-01"]
    assert codes("state=dang_phat") == ["A-01", "E-01"]
    assert codes("state=dang_phat&limit=1&offset=1") == ["E-01"]
    assert codes("station=D-01") == ["D-01"]
    first = get(client, "/api/v1/stations?limit=2", k).get_json()
    assert [s["code"] for s in first["data"]] == ["A-01", "B-01"] and first["paging"]["next_offset"] == 2
    last = get(client, "/api/v1/stations?limit=2&offset=4", k).get_json()
    assert [s["code"] for s in last["data"]] == ["E-01"] and last["paging"]["next_offset"] is None


@pytest.mark.parametrize(("query", "words"), [
    ("limit=0", "ngoài khoảng cho phép (1–500)"),
    ("limit=abc", "limit=«abc» phải là số nguyên"),
    ("offset=-3", "offset=-3 ngoài khoảng"),
    ("state=chay", "Trạng thái «chay» không có"),
    ("active=co", "active=«co» chỉ nhận true hoặc false"),
])
def test_bad_station_parameters_get_a_vietnamese_400(
    app: Flask, fleet: Fleet, key: Callable[[str], str], query: str, words: str
) -> None:
    answer = get(app.test_client(), f"/api/v1/stations?{query}", key("read:stations"))
    assert answer.status_code == 400 and words in answer.get_json()["error"]


# -- programmes -----------------------------------------------------------------------------------


def test_programmes_of_a_week_with_item_states(app: Flask, fleet: Fleet, key: Callable[[str], str]) -> None:
    client, k = app.test_client(), key("read:programmes")
    answer = get(client, "/api/v1/programmes?commune=Xã Ia Dêr", k).get_json()  # this week by default
    assert [(p["station"], p["week"]) for p in answer["data"]] == [("A-01", "2026-W48"), ("B-01", "2026-W48")]
    a_items = [(i["title"], i["state"]) for i in answer["data"][0]["items"]]
    assert a_items == [("Bản tin CCHC sáng", "da_phat"), ("Tiếp sóng Đài tỉnh", "dang_phat"),
                       ("Bản tin chiều", "sap_phat")]
    assert get(client, "/api/v1/programmes?week=2026-W49", k).get_json()["data"] == []
    bad = get(client, "/api/v1/programmes?week=2026-48", k)
    assert bad.status_code == 400 and "2026-48" in bad.get_json()["error"]
    paged = get(client, "/api/v1/programmes?limit=2&offset=2", k).get_json()
    assert [p["station"] for p in paged["data"]] == ["C-01", "D-01"] and paged["paging"]["total"] == 5


# -- airtime --------------------------------------------------------------------------------------


def test_daily_airtime_is_the_reports_own_count(
    app: Flask, fleet: Fleet, key: Callable[[str], str], sessions: sessionmaker[Session], clock: Callable[[], datetime]
) -> None:
    client, k = app.test_client(), key("read:airtime")
    answer = get(client, "/api/v1/airtime/daily?from=2026-11-22&to=2026-11-23", k).get_json()
    assert [d["day"] for d in answer["data"]] == ["2026-11-22", "2026-11-23"]
    yesterday, today = answer["data"]
    # Counted by hand from the seeded fleet: D-01's 23:50 item on the 22nd; seven items on the 23rd, by 05:00
    # A-01 and D-01 aired one each, B-01 (00:10) and C-01 (04:00) missed theirs.
    assert (yesterday["totals"]["planned_items"], yesterday["totals"]["missed_items"]) == (1, 1)
    assert (today["totals"]["planned_items"], today["totals"]["aired_items"], today["totals"]["missed_items"]) == (7, 2, 2)
    assert sum(r["planned_items"] for r in today["rows"]) == 7
    with sessions() as s:  # the same figures the airtime report gives for that day
        report = build_report(s, ReportRequest(Period.custom(date(2026, 11, 23), date(2026, 11, 23))), clock(), TZ)
    assert today["totals"] == report.totals.as_dict()
    by_commune = get(client, "/api/v1/airtime/daily?from=2026-11-23&to=2026-11-23&by=commune&area=Khu vực Chư Sê", k)
    rows = by_commune.get_json()["data"][0]["rows"]
    assert [(r["key"], r["planned_items"]) for r in rows] == [("Xã Ia Dêr", 5)]
    assert by_commune.get_json()["scope"] == {"level": "area", "value": "Khu vực Chư Sê"}


def test_daily_airtime_is_paged_by_day(app: Flask, fleet: Fleet, key: Callable[[str], str]) -> None:
    client, k = app.test_client(), key("read:airtime")
    answer = get(client, "/api/v1/airtime/daily?from=2026-11-01&to=2026-11-30&limit=3&offset=27", k).get_json()
    assert [d["day"] for d in answer["data"]] == ["2026-11-28", "2026-11-29", "2026-11-30"]
    assert answer["paging"] == {"total": 30, "limit": 3, "offset": 27, "next_offset": None}


@pytest.mark.parametrize(("query", "words"), [
    ("from=2026-11-23", "Cần tham số from và to"),
    ("from=2026-11-30&to=2026-11-01", "trước ngày bắt đầu"),
    ("from=2026-02-30&to=2026-03-01", "Ngày «2026-02-30» không hợp lệ"),
    ("from=2025-01-01&to=2026-11-01", "tối đa 366 ngày"),
    ("from=2026-11-01&to=2026-11-02&by=mau", "Không nhóm theo «mau»"),
    ("from=2026-11-01&to=2026-11-02&commune=X&area=Y", "Chỉ lọc theo một"),
    ("from=2026-11-01&to=2026-11-02&limit=40", "ngoài khoảng cho phép (1–31)"),
])
def test_bad_airtime_parameters_get_a_vietnamese_400(
    app: Flask, fleet: Fleet, key: Callable[[str], str], query: str, words: str
) -> None:
    answer = get(app.test_client(), f"/api/v1/airtime/daily?{query}", key("read:airtime"))
    assert answer.status_code == 400 and words in answer.get_json()["error"]


# -- bulletins ------------------------------------------------------------------------------------


def test_only_approved_bulletins_are_read_newest_change_first(
    app: Flask, fleet: Fleet, key: Callable[[str], str]
) -> None:
    client, k = app.test_client(), key("read:bulletins")

    def codes(query: str = "") -> list[str]:
        answer = get(client, f"/api/v1/bulletins?{query}", k)
        assert answer.status_code == 200, answer.get_json()
        return [b["code"] for b in answer.get_json()["data"]]

    assert codes() == ["BT-1", "BT-2"]  # never the draft BT-3
    assert codes("status=luu_tru") == ["BT-4"]
    assert codes("topic=mot_cua") == ["BT-2"]
    assert codes("valid_on=2026-12-03") == ["BT-1", "BT-2"]  # BT-1 runs to 3 December, BT-2 to the 23rd
    assert codes("valid_on=2026-12-04") == ["BT-2"]
    assert codes("updated_since=2026-11-21T00:00:00%2B07:00") == ["BT-1"]
    draft = get(client, "/api/v1/bulletins?status=nhap", k)
    assert draft.status_code == 400 and "không đọc được qua API" in draft.get_json()["error"]
    naive = get(client, "/api/v1/bulletins?updated_since=2026-11-20T00:00:00", k)
    assert naive.status_code == 400 and "cần múi giờ" in naive.get_json()["error"]
    one = get(client, "/api/v1/bulletins?topic=tthc", k).get_json()["data"][0]
    assert one["topic_label"] and one["targets"] == ["Xã Ia Dêr"] and one["audio"] is None


def test_query_counts_do_not_grow_with_the_fleet(
    app: Flask, fleet: Fleet, key: Callable[[str], str], sessions: sessionmaker[Session], clock: Callable[[], datetime]
) -> None:
    from test_query_counts import counting

    from scheduler.db.models import Commune, Programme, ProgrammeItem, Station

    client, k = app.test_client(), key(ALL_SCOPES)
    paths = ("/api/v1/stations", "/api/v1/stations?state=truc_tuyen", "/api/v1/programmes?week=2026-W48",
             "/api/v1/airtime/daily?from=2026-11-22&to=2026-11-23", "/api/v1/bulletins")

    def counts() -> dict[str, int]:
        found = {}
        for path in paths:
            with counting(app) as statements:
                assert get(client, path, k).status_code == 200, path
            found[path] = len(statements)
        return found

    counts()  # the key's last use is stamped once a minute: the first call writes it
    small = counts()
    with transaction(sessions) as s:
        commune = s.get_one(Commune, fleet.communes["Xã Chư Pưh"])
        for n in range(30):
            station = Station(code=f"X-{n:02d}", name=f"Cụm {n}", commune=commune, status={}, lat=13.5, lon=108.0,
                              last_status_at=clock())
            programme = Programme(station=station, week="2026-W48", built_at=clock())
            s.add_all([station, programme])
            start = clock() - timedelta(hours=1)
            programme.items.append(ProgrammeItem(start=start, end=start + timedelta(minutes=5), kind="bulletin",
                                                 title="Tin"))
    assert counts() == small
