"""Shared fixtures: the database on both backends, an injected clock, a settings object.

Database tests run twice, on SQLite (the embedded default) and on PostgreSQL (production).
Each test run gets its own fresh PostgreSQL database, dropped at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from audio.settings import AudioSettings
from scheduler.db.models import Base
from scheduler.db.session import make_engine, make_session_factory, upgrade_schema
from scheduler.settings import Settings
from tests.fake_clock import FakeClock

PG_ADMIN_URL = os.environ.get("LOAXA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run."""
    name = f"loaxa_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def _engines() -> Iterator[dict[str, Engine]]:
    engines: dict[str, Engine] = {}
    yield engines
    for engine in engines.values():
        engine.dispose()


def _engine_for(backend: str, engines: dict[str, Engine], request: pytest.FixtureRequest) -> Engine:
    if backend not in engines:
        if backend == "sqlite":
            path = request.getfixturevalue("tmp_path_factory").mktemp("db") / "loaxa.sqlite3"
            url = f"sqlite:///{path}"
        else:
            url = request.getfixturevalue("pg_database_url")
        engine = make_engine(url)
        upgrade_schema(engine)
        engines[backend] = engine
    return engines[backend]


def _wipe(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
        # APScheduler creates its job store table itself: drop it so each test starts without it.
        conn.execute(text("DROP TABLE IF EXISTS apscheduler_jobs"))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def engine(backend: str, _engines: dict[str, Engine], request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A migrated database on the backend under test, emptied after each test."""
    engine = _engine_for(backend, _engines, request)
    try:
        yield engine
    finally:
        _wipe(engine)


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def clock() -> FakeClock:
    # Monday 23 Nov 2026, 05:00 in Hà Nội.
    return FakeClock(datetime(2026, 11, 22, 22, 0, tzinfo=UTC))


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    path = tmp_path / "media"
    path.mkdir()
    return path


@pytest.fixture
def settings(engine: Engine, tmp_path: Path, media_dir: Path) -> Settings:
    """Settings pointing at the test database and an offline TTS engine."""
    return replace(
        Settings.from_env({"LOAXA_DATA_DIR": str(tmp_path)}),
        database_url=engine.url.render_as_string(hide_password=False),
        media_dir=media_dir,
        audio=AudioSettings(engines=("espeak",)),
    )
