"""The export tests' fixture: a built week (see export_world.py)."""

from __future__ import annotations

import pytest
from export_world import build_world
from sqlalchemy.orm import Session, sessionmaker

from tests.fake_clock import FakeClock


@pytest.fixture
def built_week(sessions: sessionmaker[Session], clock: FakeClock) -> sessionmaker[Session]:
    built: sessionmaker[Session] = build_world(sessions, clock())
    return built
