"""Live broadcasts on a box (fake clock, real server): the live play-now pre-empts the programme through
the emergencies' path, is logged as kind live / priority trực tiếp, ends whole on its own stop, ignores
another broadcast's stop, gives way to an emergency and resumes after it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from agent_world import Station, make_agent, server_plays
from delivery_world import ServerThread
from sqlalchemy.orm import Session, sessionmaker

from scheduler.agent.players import NullPlayer
from scheduler.wire import LIVE_KIND, LIVE_PRIORITY, Command
from tests.fake_clock import FakeClock

STREAM = "http://127.0.0.1:8000/loaxa-truc-tiep-7.mp3"


def live_play(clock: FakeClock, live: int = 7) -> Command:
    return Command(kind="play", id=f"live-{live}", sent_at=clock().isoformat(),
                   expires_at=(clock() + timedelta(hours=2)).isoformat(), stream_url=STREAM,
                   duration_ms=2 * 3600 * 1000, title="Trưởng thôn thông báo", live=live)


def test_live_pre_empts_the_programme_and_ends_whole_on_its_own_stop(
        server: ServerThread, station: Station, sessions: sessionmaker[Session], clock: FakeClock,
        tmp_path: Path) -> None:
    agent = make_agent(server.url, station.token, tmp_path / "cache", clock)
    agent.run_once(clock())
    clock.current = station.starts[1] + timedelta(seconds=3)  # mid-way through the long item
    agent.run_once(clock())
    assert agent.current is not None and agent.current.slot.kind == "bulletin"
    agent.command(live_play(clock), clock())
    player = agent.player
    assert isinstance(player, NullPlayer)
    assert agent.current is not None and agent.current.slot.kind == LIVE_KIND and player.started[-1][0] == STREAM
    clock.advance(seconds=20)
    agent.run_once(clock())
    agent.command(Command.make("stop", clock(), id="live-8-stop", live=8), clock())  # another broadcast's stop
    assert agent.current is not None and agent.current.slot.kind == LIVE_KIND
    agent.command(Command.make("stop", clock(), id="live-7-stop", live=7), clock())
    assert agent.current is None or agent.current.slot.kind != LIVE_KIND
    agent.syncer.upload(clock(), force=True)
    [live] = [p for p in server_plays(sessions) if p.kind == LIVE_KIND]
    assert (live.result, live.priority, live.played_ms) == ("played", LIVE_PRIORITY, 20000)
    assert live.reason == "Người nói đã kết thúc buổi phát trực tiếp."
    [cut] = [p for p in server_plays(sessions) if p.kind == "bulletin" and p.result == "partial"]
    assert "trực tiếp «Trưởng thôn thông báo»" in (cut.reason or "")
    agent.shutdown()


def test_an_emergency_pre_empts_a_live_broadcast_and_live_does_not_cut_an_emergency(
        server: ServerThread, station: Station, sessions: sessionmaker[Session], clock: FakeClock,
        tmp_path: Path) -> None:
    agent = make_agent(server.url, station.token, tmp_path / "cache", clock)
    agent.run_once(clock())
    agent.command(live_play(clock), clock())
    assert agent.current is not None and agent.current.slot.kind == LIVE_KIND
    siren = Command(kind="play", id="emergency-1-0", sent_at=clock().isoformat(),
                    expires_at=(clock() + timedelta(minutes=15)).isoformat(), stream_url="http://127.0.0.1:9/siren.mp3",
                    duration_ms=60_000, title="Cảnh báo lũ quét", emergency=1, airing=0)
    clock.advance(seconds=5)
    agent.command(siren, clock())
    assert agent.current is not None and agent.current.slot.kind == "emergency"
    agent.command(live_play(clock, live=9), clock())  # a new live broadcast while the warning plays
    assert agent.current is not None and agent.current.slot.kind == "emergency"
    # The warning over, the speaker (still on air) is heard again until their stop.
    for _ in range(61):
        clock.advance(seconds=1)
        agent.run_once(clock())
    assert agent.current is not None and agent.current.slot.live == 7
    clock.advance(seconds=10)
    agent.command(Command.make("stop", clock(), id="live-7-stop", live=7), clock())
    agent.syncer.upload(clock(), force=True)
    plays = [(p.result, p.reason or "") for p in server_plays(sessions) if p.kind == LIVE_KIND]
    assert [r for r, _ in plays] == ["partial", "skipped", "played"], plays
    assert plays[2][1].startswith("Tiếp tục phát trực tiếp sau bản tin khẩn cấp.")
    agent.shutdown()
