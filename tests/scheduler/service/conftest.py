"""A small province for the service's job tests: two communes, three stations, bulletins with audio."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from service_world import STATIONS, add_bulletin
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.session import transaction
from scheduler.imports import import_stations
from scheduler.service.config import ServiceConfig
from scheduler.service.jobs import JobContext
from scheduler.service.schedule import JOBSTORE_TABLE
from scheduler.settings import Settings
from tests.fake_clock import FakeClock


@pytest.fixture
def province(sessions: sessionmaker[Session], clock: FakeClock) -> sessionmaker[Session]:
    with transaction(sessions) as session:
        import_stations(session, STATIONS)
        add_bulletin(session, "MC-01", "Tuyên truyền cơ chế một cửa, một cửa liên thông.", clock())
        add_bulletin(session, "DVC-01", "Hướng dẫn nộp hồ sơ dịch vụ công trực tuyến mức độ 3, 4.", clock())
    return sessions


@pytest.fixture
def context(settings: Settings, sessions: sessionmaker[Session], clock: FakeClock) -> JobContext:
    return JobContext(settings=replace(settings, silent_minutes=30), sessions=sessions, config=ServiceConfig(),
                      clock=clock)


@pytest.fixture
def jobstore(engine: Engine) -> Iterator[Engine]:
    """The job store table is APScheduler's own (not in the models): empty it around each test."""
    def clear() -> None:
        if JOBSTORE_TABLE in inspect(engine).get_table_names():
            with engine.begin() as conn:
                conn.execute(text(f"DELETE FROM {JOBSTORE_TABLE}"))

    clear()
    yield engine
    clear()
