"""Logging in and out, the login rate limit, session cookies and CSRF protection."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from web_pages import PASSWORD, World, login, text_of

from scheduler.db.models import AuditLog, Bulletin, User
from scheduler.settings import Settings
from tests.fake_clock import FakeClock
from web.app import create_app
from web.auth import LOGIN_MAX_FAILURES


def test_login_with_the_right_password_opens_the_dashboard(client: FlaskClient, world: World) -> None:
    response = client.post("/dang-nhap", data={"username": "bientap", "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert "Tổng quan" in page.get_data(as_text=True)


def test_wrong_password_is_refused_in_vietnamese_and_logged(client: FlaskClient, sessions: sessionmaker[Session]) -> None:
    response = client.post("/dang-nhap", data={"username": "bientap", "password": "sai-mat-khau"})
    assert response.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still not logged in
    with sessions() as s:
        assert s.scalar(select(func.count()).where(AuditLog.action == "login.failed")) == 1


def test_pages_redirect_anonymous_visitors_to_login(client: FlaskClient) -> None:
    for url in ("/", "/ban-tin/", "/lich-phat/", "/dai/", "/khan-cap/", "/nhat-ky/", "/nguoi-dung/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/dang-nhap"), url


def test_login_returns_to_the_page_asked_for_but_never_off_site(client: FlaskClient) -> None:
    response = client.post("/dang-nhap", data={"username": "bientap", "password": PASSWORD, "next": "/ban-tin/"})
    assert response.headers["Location"] == "/ban-tin/"
    client.post("/dang-xuat")
    response = client.post("/dang-nhap", data={"username": "bientap", "password": PASSWORD, "next": "//evil.example/"})
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\n/evil.example", "/\\evil.example", "/\\/evil.example",
                                    "https://evil.example/", "/ /evil.example", "\x00//evil.example", "///evil.example",
                                    "javascript:alert(1)"])
def test_login_never_redirects_off_site_even_after_a_browser_normalises_the_path(client: FlaskClient,
                                                                                target: str) -> None:
    page = client.get("/dang-nhap", query_string={"next": target})
    assert page.status_code == 200
    response = client.post("/dang-nhap", data={"username": "bientap", "password": PASSWORD, "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_inactive_account_cannot_log_in(client: FlaskClient, sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        s.scalars(select(User).where(User.username == "bientap")).one().active = False
    response = client.post("/dang-nhap", data={"username": "bientap", "password": PASSWORD})
    assert response.status_code == 401


def test_deactivating_an_account_ends_its_open_sessions(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session]) -> None:
    editor = as_user("bientap")
    assert editor.get("/ban-tin/").status_code == 200
    with sessions.begin() as s:
        s.scalars(select(User).where(User.username == "bientap")).one().active = False
    assert editor.get("/ban-tin/").status_code == 302


def test_logout_ends_the_session(as_user: Callable[[str], FlaskClient]) -> None:
    editor = as_user("bientap")
    assert editor.post("/dang-xuat").status_code == 302
    assert editor.get("/ban-tin/").status_code == 302


def test_a_session_cookie_replayed_after_logout_no_longer_works(app: Flask) -> None:
    browser = app.test_client()
    login(browser, "bientap")
    assert browser.get("/ban-tin/").status_code == 200
    stolen = browser.get_cookie("session")
    assert stolen is not None
    assert browser.post("/dang-xuat").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen.value)
    response = replay.get("/ban-tin/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/dang-nhap")
    login(browser, "bientap")  # logging in again works, with a new session
    assert browser.get("/ban-tin/").status_code == 200


def test_repeated_failures_lock_that_username_and_ip_until_the_window_passes(app: Flask, clock: FakeClock) -> None:
    client = app.test_client()
    for _ in range(LOGIN_MAX_FAILURES):
        assert client.post("/dang-nhap", data={"username": "duyet", "password": "sai"}).status_code == 401
    # Even the right password is refused now, with the time it opens again.
    locked = client.post("/dang-nhap", data={"username": "duyet", "password": PASSWORD})
    assert locked.status_code == 429
    assert "tạm khóa" in locked.get_data(as_text=True)
    # Another IP address is not affected.
    other = app.test_client()
    response = other.post(
        "/dang-nhap", data={"username": "duyet", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.0.0.9"}
    )
    assert response.status_code == 302
    clock.advance(minutes=16)
    assert client.post("/dang-nhap", data={"username": "duyet", "password": PASSWORD}).status_code == 302


def test_a_successful_login_resets_the_failure_count(app: Flask, clock: FakeClock) -> None:
    client = app.test_client()
    for _ in range(LOGIN_MAX_FAILURES - 1):
        client.post("/dang-nhap", data={"username": "duyet", "password": "sai"})
    clock.advance(seconds=1)
    login(client, "duyet")
    client.post("/dang-xuat")
    clock.advance(seconds=1)
    for _ in range(LOGIN_MAX_FAILURES - 1):
        client.post("/dang-nhap", data={"username": "duyet", "password": "sai"})
    clock.advance(seconds=1)
    assert client.post("/dang-nhap", data={"username": "duyet", "password": PASSWORD}).status_code == 302


def test_session_cookie_is_httponly_and_samesite(client: FlaskClient) -> None:
    response = client.post("/dang-nhap", data={"username": "bientap", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_cookie_is_secure_behind_https(settings: Settings, clock: FakeClock, world: World) -> None:
    app = create_app(replace(settings, public_url="https://loaxa.gialai.gov.vn"), clock=clock, testing=True)
    app.config["WTF_CSRF_ENABLED"] = False
    response = app.test_client().post("/dang-nhap", data={"username": "bientap", "password": PASSWORD})
    assert "Secure" in response.headers["Set-Cookie"]


def _csrf_app(settings: Settings, clock: FakeClock) -> Flask:
    app = create_app(settings, clock=clock, testing=True)
    assert app.config["WTF_CSRF_ENABLED"] is True
    return app


def test_csrf_rejects_a_login_post_without_token(settings: Settings, clock: FakeClock, world: World) -> None:
    client = _csrf_app(settings, clock).test_client()
    response = client.post("/dang-nhap", data={"username": "bientap", "password": PASSWORD})
    assert response.status_code == 400
    assert "mã bảo vệ (CSRF)" in text_of(response.get_data(as_text=True))


def test_csrf_rejects_a_form_post_without_token_and_nothing_is_stored(
    settings: Settings, clock: FakeClock, world: World, sessions: sessionmaker[Session]
) -> None:
    client = _csrf_app(settings, clock).test_client()
    page = client.get("/dang-nhap").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    login_response = client.post("/dang-nhap", data={"username": "bientap", "password": PASSWORD, "csrf_token": token})
    assert login_response.status_code == 302
    form = {
        "title": "Thông báo", "text": "Nội dung", "topic": "tthc", "language": "vi", "priority": "thuong",
        "valid_from": "2026-11-23", "valid_to": "2026-11-30", "plays_per_week": "3", "targets": "*",
    }  # fmt: skip
    assert client.post("/ban-tin/moi", data=form).status_code == 400
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Bulletin)) == 0
    # The same post with the page's token goes through.
    page = client.get("/ban-tin/moi").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post("/ban-tin/moi", data={**form, "csrf_token": token}).status_code == 303
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Bulletin)) == 1


def test_csrf_token_in_header_is_accepted_for_the_preview_endpoint(settings: Settings, clock: FakeClock, world: World) -> None:
    client = _csrf_app(settings, clock).test_client()
    page = client.get("/dang-nhap").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/dang-nhap", data={"username": "bientap", "password": PASSWORD, "csrf_token": token})
    # Logging in starts a new session, so the page's token after login is the one that counts.
    page = client.get("/ban-tin/moi").get_data(as_text=True)
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    assert client.post("/ban-tin/doc-thu", json={"text": "UBND"}).status_code == 400
    response = client.post("/ban-tin/doc-thu", json={"text": "UBND"}, headers={"X-CSRFToken": token})
    assert response.status_code in (200, 503)  # 503 only while the normalizer is not installed


def test_station_api_blueprint_is_exempt_from_csrf(settings: Settings, clock: FakeClock, world: World) -> None:
    app = _csrf_app(settings, clock)
    csrf = app.extensions["csrf"]
    with app.test_request_context("/"):
        app.preprocess_request()
    api = app.blueprints.get("api")
    assert api is not None, "the station API blueprint must be registered as 'api'"
    assert api in csrf._exempt_blueprints
    assert app.blueprints["bulletins"] not in csrf._exempt_blueprints


def test_every_page_and_api_answer_carries_the_security_headers(client: FlaskClient) -> None:
    for url in ("/dang-nhap", "/api/v1/manifest", "/khong-co-trang-nay"):
        headers = client.get(url).headers
        policy = headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy, url
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy, url
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff", url
        assert headers["Referrer-Policy"] == "same-origin", url


def test_the_map_tile_server_is_the_only_other_origin_allowed(settings: Settings, clock: FakeClock,
                                                             world: World) -> None:
    app = create_app(replace(settings, map_tiles="https://tiles.tinh.gov.vn/{z}/{x}/{y}.png"), clock=clock,
                     testing=True)
    policy = app.test_client().get("/dang-nhap").headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob: https://tiles.tinh.gov.vn;" in policy
    assert policy.count("https://") == 1


def _failed_login_keys(sessions: sessionmaker[Session]) -> set[str]:
    with sessions() as s:
        return set(s.scalars(select(AuditLog.entity_id).where(AuditLog.action == "login.failed")))


def test_a_forged_forwarded_for_is_ignored_without_the_proxy_setting(app: Flask, sessions: sessionmaker[Session]) -> None:
    client = app.test_client()
    for n in range(LOGIN_MAX_FAILURES):  # a new made-up address each time does not escape the limiter
        client.post("/dang-nhap", data={"username": "duyet", "password": "sai"},
                    headers={"X-Forwarded-For": f"203.0.113.{n}"}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert _failed_login_keys(sessions) == {"duyet|127.0.0.1"}
    locked = client.post("/dang-nhap", data={"username": "duyet", "password": PASSWORD},
                         headers={"X-Forwarded-For": "203.0.113.99"}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert locked.status_code == 429


def test_behind_the_configured_proxy_the_limiter_sees_the_real_client(settings: Settings, clock: FakeClock, world: World,
                                                                      sessions: sessionmaker[Session]) -> None:
    proxied = create_app(replace(settings, proxy_hops=1), clock=clock, testing=True)
    proxied.config["WTF_CSRF_ENABLED"] = False
    client = proxied.test_client()
    for _ in range(LOGIN_MAX_FAILURES):  # through nginx (127.0.0.1) from one phone
        client.post("/dang-nhap", data={"username": "duyet", "password": "sai"},
                    headers={"X-Forwarded-For": "203.0.113.7"}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert _failed_login_keys(sessions) == {"duyet|203.0.113.7"}
    # That phone is locked out; another client behind the same nginx is not.
    assert client.post("/dang-nhap", data={"username": "duyet", "password": PASSWORD},
                       headers={"X-Forwarded-For": "203.0.113.7"}, environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 429
    assert proxied.test_client().post("/dang-nhap", data={"username": "duyet", "password": PASSWORD},
                                      headers={"X-Forwarded-For": "198.51.100.4"},
                                      environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 302
    # A client reaching the server directly (not from the proxy) cannot pick its address with the header.
    proxied.test_client().post("/dang-nhap", data={"username": "duyet", "password": "sai"},
                               headers={"X-Forwarded-For": "203.0.113.8"}, environ_base={"REMOTE_ADDR": "192.0.2.50"})
    assert _failed_login_keys(sessions) == {"duyet|203.0.113.7", "duyet|192.0.2.50"}


def test_proxy_hops_setting_is_read_and_checked() -> None:
    assert Settings.from_env({}).proxy_hops == 0
    assert Settings.from_env({"LOAXA_PROXY_HOPS": "1", "LOAXA_PROXY_FROM": "10.0.0.2, 10.0.0.3"}).proxy_from == ("10.0.0.2", "10.0.0.3")
    with pytest.raises(ValueError, match="không phải số nguyên"):
        Settings.from_env({"LOAXA_PROXY_HOPS": "nginx"})
