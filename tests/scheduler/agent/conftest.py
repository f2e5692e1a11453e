"""Agent fixtures: a station with a week of programme on the real server, and agents on a shared fake clock."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "delivery"))

from agent_world import Station, seed  # noqa: E402
from delivery_world import ServerThread  # noqa: E402

from scheduler.settings import Settings  # noqa: E402
from tests.fake_clock import FakeClock  # noqa: E402


@pytest.fixture
def station(sessions: sessionmaker[Session], media_dir: Path, clock: FakeClock) -> Station:
    """The station with a week of programme (agent_world.seed) on the test database."""
    return seed(sessions, media_dir, clock())


@pytest.fixture
def server(settings: Settings, clock: FakeClock, station: Station) -> Iterator[ServerThread]:
    """The real station API in a thread, on the shared fake clock."""
    with ServerThread(settings, clock) as running:
        yield running
