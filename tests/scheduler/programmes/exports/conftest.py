"""The export tests' fixture: a built week (see export_world.py)."""

from __future__ import annotations

import pytest
from export_world import build_world
from sqlalchemy.orm import Session, sessionmaker


@pytest.fixture
def built_week(sessions: sessionmaker[Session], clock) -> sessionmaker[Session]:
    return build_world(sessions, clock())
