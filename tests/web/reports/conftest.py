"""Fixtures for the report pages and commands: the report test province, an app on it, one account per role."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

# The province, its programmes and play logs, and the independent oracle live beside the scheduler tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scheduler" / "reports"))

from airtime_fixture import build_world  # noqa: E402

from scheduler.accounts import hash_password  # noqa: E402
from scheduler.db.models import Commune, User  # noqa: E402
from scheduler.db.session import transaction  # noqa: E402
from scheduler.settings import Settings  # noqa: E402
from web.app import create_app  # noqa: E402
from web.auth import session_fingerprint  # noqa: E402

REPORT_ACCOUNTS = {
    "quantri": ("admin", None),
    "bientap": ("editor", None),
    "duyet": ("approver", None),
    "xem": ("viewer", None),
    "vanhanh": ("operator", "Xã Ia Grai"),
}


@pytest.fixture(scope="session")
def report_password_hash() -> str:
    return hash_password("mat-khau-bao-cao")  # scrypt is slow on purpose: once per run


@pytest.fixture
def report_world(sessions: sessionmaker[Session], clock: Callable[[], datetime],
                 report_password_hash: str) -> dict[str, int]:
    """The report province plus one account per role; returns user ids by username."""
    build_world(sessions)
    ids = {}
    with transaction(sessions) as s:
        for username, (role, commune) in REPORT_ACCOUNTS.items():
            user = User(username=username, full_name=username, role=role, password_hash=report_password_hash,
                        created_at=clock(),
                        commune=s.scalar(select(Commune).where(Commune.name == commune)) if commune else None)
            s.add(user)
            s.flush()
            ids[username] = user.id
    return ids


@pytest.fixture
def report_app(settings: Settings, clock: Callable[[], datetime], report_world: dict[str, int]) -> Flask:
    return create_app(settings, clock=clock, testing=True)


@pytest.fixture
def login_as(report_app: Flask, report_world: dict[str, int]) -> Callable[[str], FlaskClient]:
    """A test client logged in as `username` (session set as the login page would)."""

    def login(username: str) -> FlaskClient:
        client = report_app.test_client()
        with report_app.app_context():
            sessions = report_app.extensions["loaxa"]["sessions"]
            with sessions() as s:
                user = s.get(User, report_world[username])
                assert user is not None
                fingerprint = session_fingerprint(user)
        with client.session_transaction() as flask_session:
            flask_session["uid"] = user.id
            flask_session["fp"] = fingerprint
        return client

    return login
