"""With the database unreachable, stations and people get a clear Vietnamese 503 to come back later, never a
500 or a traceback (a restart of PostgreSQL, a full connection table, a failover)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from scheduler.settings import Settings
from web.app import create_app


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """The app with its database URL pointing at a port nothing listens on."""
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/loaxa"
    app = create_app(Settings.from_env({"LOAXA_DATA_DIR": str(tmp_path), "LOAXA_DATABASE_URL": url}), testing=True)
    yield app
    app.extensions["loaxa"]["engine"].dispose()


def test_station_api_answers_503_in_vietnamese_with_retry_after(app: Flask) -> None:
    client = app.test_client()
    station = {"Authorization": "Bearer mã-của-đài"}
    for response in (client.get("/api/v1/manifest/2026-W48", headers=station),
                     client.post("/api/v1/ack", json={"week": "2026-W48", "version": 3}, headers=station)):
        assert response.status_code == 503
        assert int(response.headers["Retry-After"]) > 0
        assert response.get_json() == {"error": "Cơ sở dữ liệu của máy chủ đang bận hoặc tạm thời không trả lời; "
                                                "chưa có gì được ghi. Gửi lại sau số giây ghi ở tiêu đề Retry-After."}
    upstream = client.get("/api/v1/stations", headers={"X-API-Key": "lak_" + "x" * 43})  # the open API too
    assert (upstream.status_code, upstream.json) == (503, response.json)


def test_a_signed_in_person_gets_a_standalone_vietnamese_page(app: Flask) -> None:
    client = app.test_client()
    with client.session_transaction() as session:
        session["uid"] = 1  # a signed-in browser: looking the user up needs the database
    response = client.get("/?tuan=2026-W48")
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    page = response.get_data(as_text=True)
    assert "Tạm thời chưa dùng được" in page and "Thử lại" in page and 'href="/?tuan=2026-W48"' in page
    assert "Traceback" not in page and "OperationalError" not in page
    missing = client.get("/favicon.ico")  # a 404 page asks the database who is signed in, too
    assert missing.status_code == 503 and "Tạm thời chưa dùng được" in missing.get_data(as_text=True)


def test_a_form_sent_without_its_csrf_token_while_the_database_is_down_gets_the_page_not_a_500(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    with client.session_transaction() as session:
        session["uid"] = 1
    response = client.post("/dang-nhap", data={"username": "xa-ia-der", "password": "sai"})
    assert response.status_code == 503 and "Tạm thời chưa dùng được" in response.get_data(as_text=True)
    assert "Bấm nút Quay lại" in response.get_data(as_text=True)  # a form was sent: no link to GET it again
