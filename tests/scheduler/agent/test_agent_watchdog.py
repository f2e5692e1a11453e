"""The relay watchdog against a real local stream: a stream that hangs up and one that sends silence are
noticed, the box falls back to the next item, reports at once, retries while the block lasts, and logs
what aired. The agent runs on the fake clock, stepped in step with real time while ffmpeg listens."""

from __future__ import annotations

import time
from datetime import UTC, date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from agent_world import CODE, SESSION, Station, server_plays
from delivery_world import ItemSpec, ServerThread, set_items
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audio.ffmpeg import ffmpeg_exe
from scheduler.agent.agent import Agent, AgentConfig
from scheduler.agent.players import NullPlayer
from scheduler.agent.watchdog import StreamMonitor, WatchdogSettings, monitor_factory
from scheduler.db.models import Programme
from scheduler.db.models import Station as StationRow
from scheduler.db.session import transaction
from scheduler.reports import ReportRequest, build_report
from scheduler.reports.exports import render_report
from scheduler.reports.periods import Period
from tests.fake_clock import FakeClock
from tests.stream_server import StreamServer

RELAY = SESSION - timedelta(minutes=5)
WATCH = WatchdogSettings(silence=timedelta(seconds=2), retry=timedelta(seconds=20))



def relay_programme(sessions: sessionmaker[Session], station: Station, url: str, fallback: bool) -> None:
    """A 2-minute relay, then (optionally) a short bulletin 10 s after it: the fallback candidate."""
    with transaction(sessions) as s:
        programme = s.scalar(select(Programme).where(Programme.week == "2026-W48"))
        assert programme is not None
        items = [ItemSpec(RELAY, kind="relay", seconds=120, stream_url=url, title="Tiếp sóng VOV1")]
        if fallback:
            items.append(ItemSpec(RELAY + timedelta(seconds=130), station.assets["short"], title="Bản tin dự phòng"))
        set_items(programme, items)
        programme.version = 2


def watched_agent(server: ServerThread, station: Station, cache: Path, clock: FakeClock) -> Agent:
    config = AgentConfig(server=server.url, station=CODE, token=station.token, cache_dir=cache, mqtt=False,
                         watchdog=WATCH)
    return Agent(config, clock=clock, player=NullPlayer(clock), monitors=monitor_factory(WATCH, ffmpeg_exe()))


def live(agent: Agent, clock: FakeClock, seconds: float, until: object = None) -> None:
    """Run the agent for `seconds` of real time, the fake clock keeping pace; stop early once `until()`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.1)
        clock.current = (clock() + timedelta(seconds=0.1)).astimezone(UTC)
        agent.run_once(clock())
        if callable(until) and until():
            return


def jump(agent: Agent, clock: FakeClock, seconds: float) -> None:
    clock.current = (clock() + timedelta(seconds=seconds)).astimezone(UTC)
    agent.run_once(clock())


def station_status(sessions: sessionmaker[Session]) -> dict[str, object]:
    with sessions() as s:
        row = s.scalar(select(StationRow).where(StationRow.code == CODE))
        assert row is not None
        return dict(row.status or {})


def test_a_relay_that_hangs_up_falls_back_to_the_next_item_reports_and_is_retried(
        server: ServerThread, station: Station, sessions: sessionmaker[Session], clock: FakeClock,
        tmp_path: Path) -> None:
    with StreamServer(mode="hangup", tone_seconds=1.0) as stream:
        relay_programme(sessions, station, stream.url, fallback=True)
        agent = watched_agent(server, station, tmp_path / "cache", clock)
        agent.run_once(clock())
        clock.current = RELAY
        agent.run_once(clock())
        player = agent.player
        assert isinstance(player, NullPlayer)
        assert player.started[-1][0] == stream.url
        live(agent, clock, 15, until=lambda: agent.fault is not None)
        fault = agent.fault
        assert fault is not None and fault.reason.startswith("Luồng bị ngắt")
        # The next item plays at once instead, with why on its row.
        assert player.started[-1][0].endswith(f"{station.assets['short'].sha256}.mp3")
        assert agent.current is not None and agent.current.slot.title == "Bản tin dự phòng"
        # Reported at once: the next network pass carries the fault to the server.
        agent.step_network(clock())
        reported = station_status(sessions)["stream_fault"]
        assert isinstance(reported, dict) and reported["title"] == "Tiếp sóng VOV1"
        assert str(reported["reason"]).startswith("Luồng bị ngắt")
        # While waiting for the retry nothing else starts; at the retry the stream is tried again.
        jump(agent, clock, 3)
        assert agent.current is None
        connections = stream.connections
        jump(agent, clock, WATCH.retry.total_seconds())
        assert player.started[-1][0] == stream.url and stream.connections > connections - 1
        live(agent, clock, 15, until=lambda: agent.fault is not None and agent.fault.failures == 2)
        assert agent.fault is not None and agent.fault.failures == 2
        # The block ends: no more retries, the fault is cleared and reported cleared.
        clock.current = RELAY + timedelta(seconds=121)
        agent.run_once(clock())
        assert agent.fault is None
        agent.syncer.state.next_status = None
        agent.step_network(clock())
        assert station_status(sessions)["stream_fault"] is None
        agent.syncer.upload(clock(), force=True)
    plays = server_plays(sessions)
    relays = [p for p in plays if p.kind == "relay"]
    assert len(relays) == 2 and all(p.result in ("partial", "failed") for p in relays)
    assert all("Luồng bị ngắt" in (p.reason or "") for p in relays)
    [early] = [p for p in plays if p.kind != "relay"]
    assert early.result == "played" and early.actual_start < early.scheduled_start
    assert "Tiếp sóng VOV1" in (early.reason or "")
    agent.shutdown()


def test_a_relay_that_sends_silence_is_dropped_then_retried_and_recovers(
        server: ServerThread, station: Station, sessions: sessionmaker[Session], clock: FakeClock,
        tmp_path: Path) -> None:
    with StreamServer(mode="silence") as stream:
        relay_programme(sessions, station, stream.url, fallback=False)
        agent = watched_agent(server, station, tmp_path / "cache", clock)
        agent.run_once(clock())
        clock.current = RELAY
        agent.run_once(clock())
        live(agent, clock, 15, until=lambda: agent.fault is not None)
        assert agent.fault is not None
        assert agent.fault.reason == "Luồng chỉ có im lặng 2 giây"
        assert agent.status(clock())["stream_fault"]["reason"] == "Luồng chỉ có im lặng 2 giây"
        assert agent.current is None  # no item to fall back to: silence until the retry, nothing else
        stream.mode = "tone"  # the source comes back
        jump(agent, clock, WATCH.retry.total_seconds())
        assert agent.current is not None and agent.current.slot.kind == "relay"
        live(agent, clock, 4)
        assert agent.fault is None and agent.current is not None  # healthy again, still playing
        clock.current = RELAY + timedelta(seconds=120)
        agent.run_once(clock())
        agent.syncer.upload(clock(), force=True)
    relays = [p for p in server_plays(sessions) if p.kind == "relay"]
    assert [p.result for p in relays] == ["partial", "played"]
    assert "im lặng" in (relays[0].reason or "")
    # What aired of the block: the two pieces, not the whole two minutes.
    aired = sum(p.played_ms or 0 for p in relays)
    assert 0 < aired < 120_000 - WATCH.retry.total_seconds() * 1000 + 1000
    agent.shutdown()
    # The airtime report adds the pieces up and counts the rest of the block as lost.
    with sessions() as s:
        report = build_report(s, ReportRequest(Period.custom(date(2026, 11, 24), date(2026, 11, 24))),
                              clock() + timedelta(hours=1), ZoneInfo("Asia/Ho_Chi_Minh"))
    [relay_row] = [r for r in report.breakdowns["source"] if r.key == "relay"]
    assert relay_row.figures.planned_ms == 120_000 and relay_row.figures.aired_ms == aired
    assert report.relay_lost_ms == 120_000 - aired
    assert render_report(report, "json").decode().count('"relay_lost_minutes": ' + str(round((120_000 - aired) / 60000, 2))) == 1


def test_a_stalled_stream_counts_as_silence() -> None:
    """Connected but no bytes: ffmpeg's read timeout is the silence span, so a stall is caught too."""
    with StreamServer(mode="tone") as stream:
        monitor = StreamMonitor(ffmpeg_exe(), stream.url, timedelta(seconds=1))
        try:
            time.sleep(1.5)
            assert monitor.health() == "listening"
            stream.mode = "stall"
            deadline = time.monotonic() + 10
            while monitor.health() == "listening" and time.monotonic() < deadline:
                time.sleep(0.1)
            assert monitor.health() in ("silent", "ended")
        finally:
            monitor.stop()
