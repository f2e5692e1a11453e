"""A station, its programme and audio on a real server, and agents built on the test's fake clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from delivery_world import ItemSpec, add_asset, add_programme, add_station, make_mp3
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.agent.agent import Agent, AgentConfig
from scheduler.agent.players import NullPlayer
from scheduler.agent.store import PlayRow
from scheduler.db.models import AudioAsset, PlayLog, Programme
from scheduler.db.session import transaction

CODE = "GL-IADER-01"
# Tuesday 24 Nov 2026 05:30 in Hà Nội: the first item of the fixture programme.
SESSION = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)


@dataclass
class Station:
    token: str
    assets: dict[str, AudioAsset] = field(default_factory=dict)  # name -> asset
    starts: list[datetime] = field(default_factory=list)


def seed(sessions: sessionmaker[Session], media_dir: Path, now: datetime, long_seconds: float = 30.0) -> Station:
    """Week 2026-W48: a 05:30 session of three items (2 s, long, 3 s), repeated Wednesday."""
    with transaction(sessions) as s:
        station, token = add_station(s, CODE, now)
        short = add_asset(s, media_dir, make_mp3(2.0, 440), now, 2000)
        long = add_asset(s, media_dir, make_mp3(long_seconds, 550), now, int(long_seconds * 1000))
        other = add_asset(s, media_dir, make_mp3(3.0, 660), now, 3000)
        starts = [SESSION, SESSION + timedelta(seconds=5), SESSION + timedelta(seconds=5 + long_seconds + 2)]
        wednesday = [t + timedelta(days=1) for t in starts]
        items = [ItemSpec(starts[0], short, title="Tuyên truyền CCHC"),
                 ItemSpec(starts[1], long, title="Dịch vụ công trực tuyến", bulletin="DVC-01"),
                 ItemSpec(starts[2], other, title="Cơ chế một cửa", bulletin="MC-01")]
        items += [ItemSpec(w, spec.asset, title=spec.title, bulletin=spec.bulletin)
                  for w, spec in zip(wednesday, items, strict=True)]
        add_programme(s, station, "2026-W48", items, now)
        return Station(token, {"short": short, "long": long, "other": other}, starts + wednesday)


def make_agent(server_url: str, token: str, cache: Path, clock: Callable[[], datetime],
               http: requests.Session | None = None, mqtt: bool = False, mqtt_url: str | None = None) -> Agent:
    config = AgentConfig(server=server_url, station=CODE, token=token, cache_dir=cache, mqtt=mqtt, mqtt_url=mqtt_url)
    return Agent(config, clock=clock, player=NullPlayer(clock), http=http)


def server_plays(sessions: sessionmaker[Session]) -> list[PlayLog]:
    with sessions() as s:
        return list(s.scalars(select(PlayLog).order_by(PlayLog.actual_start, PlayLog.id)))


def acked(sessions: sessionmaker[Session], week: str = "2026-W48") -> int:
    with sessions() as s:
        return int(s.scalar(select(Programme.acked_version).where(Programme.week == week)) or 0)


def rows(agent: Agent) -> list[PlayRow]:
    """The box's play rows, without the one written ahead for the next item (no play yet; Agent.ready)."""
    ready = None if agent.ready is None else agent.ready.row.play_id
    return [r for r in agent.store.all_plays() if r.play_id != ready]
