"""A poison play-log row never stops a station's upload (real server, SQLite and PostgreSQL).

Rows the server refuses as invalid are set aside on the box (kept, counted in the status) and the
rest of the outbox flows; what the agent records is already clean; a failing upload never holds
up the manifest checks.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from agent_world import Station, make_agent, rows, server_plays
from delivery_world import ItemSpec, ServerThread, set_items
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.agent.agent import Agent, AgentConfig
from scheduler.agent.players import PlayerStatus
from scheduler.agent.store import PlayRow, iso
from scheduler.db.models import AudioAsset, Programme
from scheduler.db.models import Station as StationRow
from scheduler.db.session import transaction
from tests.fake_clock import FakeClock


def write_raw(agent: Agent, row: PlayRow) -> None:
    """Put a row in the outbox as an older agent (one that did not clean what it recorded) left it."""
    names = [f.name for f in fields(PlayRow)]
    data = asdict(row)
    db = sqlite3.connect(agent.store.path)
    with db:
        db.execute(f"INSERT INTO outbox ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
                   [data[n] for n in names])
    db.close()


def old_row(play_id: str, at: datetime, **extra: Any) -> PlayRow:
    return PlayRow(play_id=play_id, item_key=f"old:{play_id}", kind="bulletin", actual_start=iso(at) or "",
                   actual_end=iso(at), result="failed", title="Bản tin cũ", **extra)


def test_poison_rows_are_set_aside_and_the_rest_of_the_outbox_reaches_the_server(
        server: ServerThread, station: Station, sessions: sessionmaker[Session], clock: FakeClock,
        tmp_path: Path) -> None:
    agent = make_agent(server.url, station.token, tmp_path / "cache", clock)
    agent.run_once(clock())
    early = station.starts[0] - timedelta(minutes=5)  # oldest first: the poison leads every batch
    write_raw(agent, old_row("poison-nul", early, reason="ffplay: lỗi\x00giải mã"))
    write_raw(agent, old_row("poison-int", early, played_ms=2**31))
    write_raw(agent, old_row("fine-old", early, reason="Không phát được."))
    clock.current = station.starts[0]
    agent.run_once(clock())
    clock.current = station.starts[0] + timedelta(seconds=2)
    agent.tick_playback(clock())
    agent.syncer.state.next_upload = agent.syncer.state.next_status = None
    agent.step_network(clock())
    assert [r.play_id for r in rows(agent)] == []  # everything left the outbox in one pass
    assert "fine-old" in {p.play_id for p in server_plays(sessions)}
    assert len(server_plays(sessions)) == 2  # the old fine row and the item just played; no poison
    kept = agent.store.set_aside_rows()
    assert sorted(r.play_id for r, _, _ in kept) == ["poison-int", "poison-nul"]
    assert all("played_ms" in why or "reason" in why for _, why, _ in kept)
    assert agent.status(clock())["plays_set_aside"] == 2
    with sessions() as s:
        status = s.scalar(select(StationRow.status).where(StationRow.code == "GL-IADER-01"))
        assert status is not None and status["plays_set_aside"] == 2


class StderrWithNul:
    """A player that fails at once with a NUL byte in its error text, as ffplay's stderr may."""

    name = "ffplay"

    def prepare(self, source: str, volume: int) -> None:
        pass

    def cancel(self) -> None:
        pass

    def start(self, source: str, duration_ms: int, volume: int) -> None:
        pass

    def poll(self) -> PlayerStatus:
        return PlayerStatus("failed", "ffplay: Invalid data\x00\x1b[0m found when processing input")

    def stop(self) -> None:
        pass


def test_the_agent_records_a_players_error_clean_and_the_server_stores_it(
        server: ServerThread, station: Station, sessions: sessionmaker[Session], clock: FakeClock,
        tmp_path: Path) -> None:
    config = AgentConfig(server=server.url, station="GL-IADER-01", token=station.token,
                         cache_dir=tmp_path / "cache", mqtt=False)
    agent = Agent(config, clock=clock, player=StderrWithNul())
    agent.run_once(clock())
    clock.current = station.starts[0]
    agent.run_once(clock())
    clock.current = station.starts[0] + timedelta(seconds=1)
    agent.tick_playback(clock())
    agent.syncer.state.next_upload = None
    agent.step_network(clock())
    stored = server_plays(sessions)
    assert [p.result for p in stored] == ["failed"]
    assert "\x00" not in stored[0].reason and "\x1b" not in stored[0].reason
    assert "Invalid data" in stored[0].reason
    assert agent.store.set_aside_count() == 0


class PlaylogAlways500(requests.Session):
    """The server fails every play-log upload (as with a poison row before this fix)."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        if str(url).endswith("/playlog"):
            response = requests.Response()
            response.status_code = 500
            response._content = b"Internal Server Error"
            return response
        return super().request(str(method), str(url), *args, **kwargs)


def test_a_failing_upload_never_delays_manifest_checks_or_status(
        server: ServerThread, station: Station, sessions: sessionmaker[Session], clock: FakeClock,
        tmp_path: Path) -> None:
    agent = make_agent(server.url, station.token, tmp_path / "cache", clock, http=PlaylogAlways500())
    agent.run_once(clock())
    write_raw(agent, old_row("waiting", station.starts[0] - timedelta(days=1)))
    for _ in range(36):  # six minutes of failing uploads: every back-off doubles meanwhile
        clock.advance(seconds=10)
        agent.run_once(clock())
    assert agent.syncer.state.upload_backoff >= timedelta(minutes=2)
    with transaction(sessions) as s:
        programme = s.scalar(select(Programme).where(Programme.week == "2026-W48"))
        assert programme is not None
        asset = s.scalars(select(AudioAsset).order_by(AudioAsset.id)).first()
        set_items(programme, [ItemSpec(station.starts[1], asset)])
        programme.version = 2
    published = clock()
    while clock() < published + agent.config.intervals.poll + timedelta(seconds=10):
        clock.advance(seconds=10)
        agent.run_once(clock())
    held = {m.version for m in agent.store.manifests("active") + agent.store.manifests("pending")}
    assert 2 in held  # within one poll interval, failing uploads or not
    with sessions() as s:
        last_status = s.scalar(select(StationRow.last_status_at).where(StationRow.code == "GL-IADER-01"))
        assert last_status is not None and clock() - last_status <= agent.config.intervals.status + timedelta(seconds=10)
    assert [r.play_id for r in rows(agent)] == ["waiting"]  # kept until the server takes it
