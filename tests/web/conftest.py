"""Fixtures for the admin pages: an app on the test database, a small province, one account per role.

Everything runs on both SQLite and PostgreSQL through the shared `settings`/`sessions` fixtures.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from web_pages import ACCOUNTS, PASSWORD, STATIONS, World

from scheduler.accounts import hash_password
from scheduler.db.models import Commune, Province, Station, User
from scheduler.db.session import transaction
from scheduler.settings import Settings
from tests.openapi_check import CheckedClient
from web.app import create_app
from web.auth import session_fingerprint


@pytest.fixture(autouse=True)
def _openapi_checked_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every app's test client in these tests checks each /api/v1 answer against the OpenAPI document."""
    monkeypatch.setattr(Flask, "test_client_class", CheckedClient)


@pytest.fixture(scope="session")
def password_hash() -> str:
    # scrypt is slow on purpose: hash once per run, not once per account per test.
    return hash_password(PASSWORD)


@pytest.fixture
def world(sessions: sessionmaker[Session], clock: Callable[[], datetime], password_hash: str) -> World:
    now = clock()
    with transaction(sessions) as s:
        province = Province(name="Gia Lai", policy={}, default_windows="T2-CN 05:30-06:30; T2-CN 17:00-18:00")
        s.add(province)
        s.flush()
        communes = {}
        for name in ("Xã Ia Dêr", "Xã Chư Pưh"):
            commune = Commune(province_id=province.id, name=name, policy={})
            s.add(commune)
            s.flush()
            communes[name] = commune
        stations = {}
        for code, (name, where) in STATIONS.items():
            station = Station(code=code, name=name, commune=communes[where], languages="vi", status={})
            s.add(station)
            stations[code] = station
        users = {}
        for username, (role, commune_name) in ACCOUNTS.items():
            user = User(
                username=username,
                full_name=username.capitalize(),
                role=role,
                password_hash=password_hash,
                commune=communes[commune_name] if commune_name else None,
                created_at=now,
            )
            s.add(user)
            users[username] = user
        s.flush()
        return World(
            users={k: v.id for k, v in users.items()},
            stations={k: v.id for k, v in stations.items()},
            communes={k: v.id for k, v in communes.items()},
        )


@pytest.fixture
def app(settings: Settings, clock: Callable[[], datetime], world: World) -> Flask:
    app = create_app(settings, clock=clock, testing=True)
    app.config["WTF_CSRF_ENABLED"] = False
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def as_user(app: Flask, sessions: sessionmaker[Session]) -> Callable[[str], FlaskClient]:
    """A fresh client logged in as `username` (the session is set directly: logging in is tested elsewhere)."""

    def make(username: str) -> FlaskClient:
        client = app.test_client()
        with sessions() as s, app.app_context():
            user = s.scalars(select(User).where(User.username == username)).one()
            fingerprint = session_fingerprint(user)
        with client.session_transaction() as session:
            session["uid"] = user.id
            session["fp"] = fingerprint
        return client

    return make
