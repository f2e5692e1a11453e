"""The agent against the real server on a fake clock: on-time plays, offline days, restarts, bad files.

Each test drives `Agent.run_once(now)` step by step; the server runs in a thread on the same clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from agent_world import CODE, Station, acked, make_agent, rows, server_plays
from delivery_world import ItemSpec, ServerThread, add_asset, make_mp3, set_items
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.agent import audio_cache
from scheduler.agent.agent import PREPARE_AHEAD, STREAM_AHEAD, Agent
from scheduler.agent.players import NullPlayer, PlayerStatus
from scheduler.db.models import AudioAsset, Bulletin, Emergency, EmergencyStation, Programme
from scheduler.db.models import Station as StationRow
from scheduler.db.session import transaction
from scheduler.settings import Settings
from scheduler.wire import Command, Notice
from tests.fake_clock import FakeClock


def null_player(agent: Agent) -> NullPlayer:
    assert isinstance(agent.player, NullPlayer)
    return agent.player


def version(agent: Agent, slot: str) -> int | None:
    stored = agent.store.manifest("2026-W48", slot)
    return None if stored is None else stored.version


def step_to(agent: Agent, clock: FakeClock, when: datetime, step: timedelta = timedelta(seconds=1)) -> None:
    """Advance the shared clock to `when`, running the agent every `step` while something plays or is
    about to, and jumping straight to the next item start otherwise (as a sleeping loop would)."""
    while clock() < when:
        now = clock()
        upcoming = [s.start for s in agent.slots if s.start > now]
        nxt = min(upcoming) if upcoming else when
        target = now + step if agent.current is not None or nxt - now <= step else nxt - step
        clock.current = min(target, when).astimezone(UTC)
        agent.run_once(clock())


def test_agent_fetches_acknowledges_and_plays_each_item_at_its_start(
        server: ServerThread, station: Station, sessions: sessionmaker[Session], clock: FakeClock, tmp_path: Path) -> None:
    agent = make_agent(server.url, station.token, tmp_path / "cache", clock)
    agent.run_once(clock())
    assert acked(sessions) == 1
    assert all(agent.cache.verify(a.sha256, force=True) for a in station.assets.values())
    clock.current = station.starts[0]
    agent.run_once(clock())
    assert null_player(agent).started[-1][0] == str(agent.cache.path(station.assets["short"].sha256))
    open_row = rows(agent)[0]
    assert (open_row.result, open_row.actual_start) == ("playing", station.starts[0].isoformat())
    step_to(agent, clock, station.starts[2] + timedelta(seconds=4))
    agent.syncer.upload(clock(), force=True)
    plays = server_plays(sessions)
    assert [(p.actual_start, p.scheduled_start, p.result) for p in plays] == [
        (t, t, "played") for t in station.starts[:3]]
    assert plays[1].played_ms == 30000 and plays[1].bulletin_code == "DVC-01"
    assert rows(agent) == []


def test_agent_keeps_playing_its_cached_programme_while_the_server_is_down_for_a_day(
        settings: Settings, station: Station, sessions: sessionmaker[Session], clock: FakeClock, tmp_path: Path) -> None:
    with ServerThread(settings, clock) as server:
        port = server.port
        agent = make_agent(server.url, station.token, tmp_path / "cache", clock)
        agent.run_once(clock())
    for start in station.starts:  # server down: the whole Tuesday and Wednesday sessions
        step_to(agent, clock, start + timedelta(seconds=40), step=timedelta(seconds=1))
        step_to(agent, clock, start + timedelta(hours=1), step=timedelta(minutes=10))
    assert [r.result for r in rows(agent)] == ["played"] * 6
    assert agent._backoff == timedelta(minutes=5)  # it kept retrying, capped
    with ServerThread(settings, clock, port=port):
        clock.advance(minutes=6)
        agent.run_once(clock())
    assert [p.scheduled_start for p in server_plays(sessions)] == station.starts
    assert rows(agent) == []


def test_items_whose_grace_passed_while_the_box_was_off_are_skipped_and_the_rest_still_airs(
        server: ServerThread, station: Station, sessions: sessionmaker[Session], clock: FakeClock, tmp_path: Path) -> None:
    agent = make_agent(server.url, station.token, tmp_path / "cache", clock)
    clock.current = station.starts[0] - timedelta(hours=1)
    agent.run_once(clock())
    del agent  # power cut: no shutdown, nothing closed
    # Back 5 min 30 s after the session began: the 2 s item's slot ended more than 5 min ago,
    # the 30 s item (slot end + 5 min = 5 min 35 s) may still start, late.
    clock.current = station.starts[0] + timedelta(minutes=5, seconds=30)
    restarted = make_agent(server.url, station.token, tmp_path / "cache", clock)
    restarted.run_once(clock())
    step_to(restarted, clock, station.starts[3] + timedelta(seconds=45))  # and Wednesday's session
    restarted.syncer.upload(clock(), force=True)
    plays = server_plays(sessions)
    assert [(p.scheduled_start, p.result) for p in plays] == [
        (station.starts[0], "skipped"), (station.starts[1], "played"), (station.starts[2], "skipped"),
        (station.starts[3], "played"), (station.starts[4], "played"), (station.starts[5], "played")]
    assert "đầu thu không hoạt động" in plays[0].reason
    assert "Quá giờ phát" in plays[2].reason  # it lost its turn to the late item, not to the outage
    assert plays[1].actual_start == station.starts[0] + timedelta(minutes=5, seconds=30)
    assert [p.actual_start for p in plays[3:]] == station.starts[3:]


def test_item_cut_by_a_power_cut_is_partial_and_replayed_only_while_its_slot_lasts(
        server: ServerThread, station: Station, sessions: sessionmaker[Session], clock: FakeClock, tmp_path: Path) -> None:
    agent = make_agent(server.url, station.token, tmp_path / "cache", clock)
    agent.run_once(clock())
    step_to(agent, clock, station.starts[1] + timedelta(seconds=12))
    assert rows(agent)[-1].result == "playing"
    del agent  # power cut 12 s into the 30 s item
    clock.current = station.starts[1] + timedelta(seconds=20)
    back = make_agent(server.url, station.token, tmp_path / "cache", clock)
    back.run_once(clock())
    cut = server_plays(sessions)[-1]
    assert (cut.result, cut.played_ms, cut.scheduled_start) == ("partial", 10000, station.starts[1])
    assert "phát lại từ đầu" in cut.reason  # progress is saved every 10 s: 10 of the 12 s are known
    [replay] = rows(back)
    assert (replay.result, replay.scheduled_start, replay.actual_start) == (
        "playing", station.starts[1].isoformat(), clock().isoformat())
    # Cut again, now coming back only after the slot has ended: logged, not replayed.
    del back
    clock.current = station.starts[1] + timedelta(seconds=60)
    late = make_agent(server.url, station.token, tmp_path / "cache", clock)
    late.run_once(clock())
    step_to(late, clock, station.starts[2] + timedelta(minutes=2))
    late.syncer.upload(clock(), force=True)
    results = [(p.scheduled_start, p.result) for p in server_plays(sessions)]
    assert results == [(station.starts[0], "played"), (station.starts[1], "partial"),
                       (station.starts[1], "partial"), (station.starts[2], "played")]
    assert "không phát lại" in server_plays(sessions)[2].reason


def test_corrupt_file_is_fetched_again_before_its_air_time(
        server: ServerThread, station: Station, sessions: sessionmaker[Session], clock: FakeClock, tmp_path: Path) -> None:
    agent = make_agent(server.url, station.token, tmp_path / "cache", clock)
    agent.run_once(clock())
    path = agent.cache.path(station.assets["short"].sha256)
    path.write_bytes(b"\0" * path.stat().st_size)  # same size, wrong bytes
    clock.current = station.starts[0] - timedelta(minutes=10)
    agent.step_network(clock())
    assert agent.cache.verify(station.assets["short"].sha256, force=True)
    step_to(agent, clock, station.starts[0] + timedelta(seconds=3))
    assert [r.result for r in rows(agent)] == ["played"]


def test_file_still_bad_at_air_time_is_skipped_with_a_reason(
        settings: Settings, station: Station, sessions: sessionmaker[Session], clock: FakeClock, tmp_path: Path) -> None:
    with ServerThread(settings, clock) as server:
        agent = make_agent(server.url, station.token, tmp_path / "cache", clock)
        agent.run_once(clock())
    agent.cache.path(station.assets["short"].sha256).write_bytes(b"not audio")
    step_to(agent, clock, station.starts[1] + timedelta(seconds=1))
    skipped, playing = rows(agent)
    assert (skipped.result, skipped.scheduled_start) == ("skipped", station.starts[0].isoformat())
    assert "Thiếu hoặc hỏng tệp âm thanh" in skipped.reason
    assert playing.result == "playing" and playing.scheduled_start == station.starts[1].isoformat()


def test_emergency_command_pre_empts_the_item_on_air_in_the_same_step(
        server: ServerThread, station: Station, sessions: sessionmaker[Session], clock: FakeClock, tmp_path: Path,
        media_dir: Path) -> None:
    with transaction(sessions) as s:
        asset = add_asset(s, media_dir, make_mp3(4.0, 990), clock(), 4000)
        bulletin = Bulletin(code="KC-01", title="Cảnh báo lũ quét", topic="khac", priority="khan_cap",
                            valid_from=clock().date(), valid_to=clock().date() + timedelta(days=3),
                            targets=[CODE], status="da_duyet", audio=asset, created_at=clock(), updated_at=clock())
        emergency = Emergency(bulletin=bulletin, targets=[CODE], starts_at=clock(), volume=100, created_at=clock())
        s.add(emergency)
        s.flush()
        # Aimed at the station: its board row is what lets it fetch the audio.
        target = s.scalars(select(StationRow).where(StationRow.code == CODE)).one()
        s.add(EmergencyStation(emergency_id=emergency.id, station_id=target.id, station_code=CODE, commune="",
                               updated_at=clock()))
    agent = make_agent(server.url, station.token, tmp_path / "cache", clock)
    agent.run_once(clock())
    step_to(agent, clock, station.starts[1] + timedelta(seconds=3))
    command = Command.make("play", clock(), sha256=asset.sha256, duration_ms=4000, title="Cảnh báo lũ quét",
                           bulletin="KC-01", volume=100)
    agent.deliver("loaxa/gia-lai/xa-ia-der/GL-IADER-01/cmd", command.to_json())
    agent.deliver("loaxa/gia-lai/xa-ia-der/GL-IADER-01/cmd", command.to_json())  # QoS 1 may repeat it
    agent.tick_playback(clock())
    cut, emergency = sorted(rows(agent)[-2:], key=lambda r: r.kind)
    assert (cut.result, cut.actual_end) == ("partial", clock().isoformat())
    assert "khẩn cấp" in cut.reason and "phát lại" in cut.reason
    assert (emergency.kind, emergency.result, emergency.actual_start) == ("emergency", "playing", clock().isoformat())
    assert null_player(agent).started[-1] == (str(agent.cache.path(asset.sha256)), 4000, 100)
    step_to(agent, clock, clock() + timedelta(seconds=5))
    kinds = [(r.kind, r.result) for r in rows(agent)]
    assert kinds.count(("emergency", "played")) == 1  # the repeated command aired once
    assert rows(agent)[-1].scheduled_start == station.starts[1].isoformat()  # the cut item again, from its start


def _add_programme_emergency(sessions: sessionmaker[Session], media_dir: Path, clock: FakeClock, at: datetime) -> AudioAsset:
    """Version 2 of the week: the same items plus an emergency warning at `at` (as scheduler.emergencies does)."""
    with transaction(sessions) as s:
        warning: AudioAsset = add_asset(s, media_dir, make_mp3(3.0, 770), clock(), 3000)
        programme = s.scalar(select(Programme).where(Programme.week == "2026-W48"))
        assert programme is not None
        assets = {a.sha256: a for a in s.scalars(select(AudioAsset))}
        specs = [ItemSpec(i.start, assets[i.audio_sha256], title=i.title) for i in programme.items if i.audio_sha256]
        set_items(programme, [*specs, ItemSpec(at, warning, kind="emergency", title="Cảnh báo bão")])
        programme.version = 2
        return warning


NOTICE_V2 = Notice(CODE, "2026-W48", 2, "", "", "").to_json()
TOPIC = "loaxa/gia-lai/xa-ia-der/GL-IADER-01"


def test_programme_emergency_item_pre_empts_the_item_on_air(
        server: ServerThread, station: Station, sessions: sessionmaker[Session], clock: FakeClock, tmp_path: Path,
        media_dir: Path) -> None:
    agent = make_agent(server.url, station.token, tmp_path / "cache", clock)
    agent.run_once(clock())
    at = station.starts[1] + timedelta(seconds=10)
    _add_programme_emergency(sessions, media_dir, clock, at)
    agent.deliver(f"{TOPIC}/programme", NOTICE_V2)
    agent.run_once(clock())
    assert acked(sessions) == 2
    step_to(agent, clock, at + timedelta(seconds=5))
    agent.syncer.upload(clock(), force=True)
    plays = [(p.kind, p.result, p.scheduled_start, p.actual_start, p.actual_end) for p in server_plays(sessions)]
    assert ("bulletin", "partial", station.starts[1], station.starts[1], at) in plays
    assert ("emergency", "played", at, at, at + timedelta(seconds=3)) in plays


def test_play_now_command_covers_the_same_emergency_arriving_in_the_programme(
        server: ServerThread, station: Station, sessions: sessionmaker[Session], clock: FakeClock, tmp_path: Path,
        media_dir: Path) -> None:
    agent = make_agent(server.url, station.token, tmp_path / "cache", clock)
    clock.current = station.starts[0] - timedelta(minutes=30)
    agent.run_once(clock())
    warning = _add_programme_emergency(sessions, media_dir, clock, clock())
    # MQTT is faster than the programme sync: the command comes first, the new version after.
    command = Command.make("play", clock(), sha256=warning.sha256, duration_ms=3000, title="Cảnh báo bão")
    agent.deliver(f"{TOPIC}/cmd", command.to_json())
    agent.tick_playback(clock())
    agent.deliver(f"{TOPIC}/programme", NOTICE_V2)
    step_to(agent, clock, clock() + timedelta(minutes=2))
    agent.syncer.upload(clock(), force=True)
    assert [(p.kind, p.result) for p in server_plays(sessions)] == [("emergency", "played")]


def test_new_version_is_used_only_once_all_its_audio_is_on_the_box(
        server: ServerThread, station: Station, sessions: sessionmaker[Session], clock: FakeClock, tmp_path: Path,
        media_dir: Path) -> None:
    agent = make_agent(server.url, station.token, tmp_path / "cache", clock)
    agent.run_once(clock())
    with transaction(sessions) as s:
        fresh = add_asset(s, media_dir, make_mp3(2.0, 330), clock(), 2000)
        programme = s.scalar(select(Programme).where(Programme.week == "2026-W48"))
        assert programme is not None
        set_items(programme, [ItemSpec(station.starts[0], fresh, title="Bản tin mới")])
        programme.version = 2
    hidden = media_dir / fresh.file_name
    hidden.rename(hidden.with_suffix(".away"))  # the server cannot serve it for now
    agent.deliver("loaxa/gia-lai/xa-ia-der/GL-IADER-01/programme",
                  Notice(CODE, "2026-W48", 2, "", "", "").to_json())
    agent.run_once(clock())
    assert version(agent, "pending") == 2
    assert version(agent, "active") == 1
    assert acked(sessions) == 1
    hidden.with_suffix(".away").rename(hidden)
    clock.advance(minutes=11)  # past the retry delay for a refused file
    agent.run_once(clock())
    assert version(agent, "active") == 2
    assert agent.store.manifest("2026-W48", "pending") is None
    assert acked(sessions) == 2


class LosesFirstPlaylogAnswer(requests.Session):
    """The server stores the first batch, but its answer never reaches the box."""

    lost = 0

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        response = super().request(str(method), str(url), *args, **kwargs)
        if str(url).endswith("/playlog") and not self.lost:
            self.lost += 1
            raise requests.ConnectionError("connection reset by peer")
        return response


def test_outbox_rows_leave_only_after_the_server_confirms_and_are_stored_once(
        server: ServerThread, station: Station, sessions: sessionmaker[Session], clock: FakeClock, tmp_path: Path) -> None:
    agent = make_agent(server.url, station.token, tmp_path / "cache", clock, http=LosesFirstPlaylogAnswer())
    agent.run_once(clock())
    clock.current = station.starts[0]
    agent.run_once(clock())
    clock.current = station.starts[0] + timedelta(seconds=2)
    agent.tick_playback(clock())
    agent.syncer.state.next_upload = None  # upload now (the real loop waits up to 30 s)
    agent.step_network(clock())
    assert [r.result for r in rows(agent)] == ["played"]  # the answer was lost: the row stays
    assert len(server_plays(sessions)) == 1
    clock.current = station.starts[1] + timedelta(seconds=6)  # past the 5 s back-off
    agent.run_once(clock())
    assert [r.result for r in rows(agent)] == ["playing"]  # the confirmed row is gone, the open one kept
    assert [p.scheduled_start for p in server_plays(sessions)] == [station.starts[0]]


def test_relay_is_joined_live_and_stopped_at_its_slot_end(
        server: ServerThread, station: Station, sessions: sessionmaker[Session], clock: FakeClock, tmp_path: Path) -> None:
    relay_at = station.starts[0] - timedelta(minutes=2)
    with transaction(sessions) as s:
        programme = s.scalar(select(Programme).where(Programme.week == "2026-W48"))
        assert programme is not None
        set_items(programme, [ItemSpec(relay_at, kind="relay", seconds=90, stream_url="http://vov.vn/vov1",
                                       title="Tiếp sóng VOV1")])
        programme.version = 2
    agent = make_agent(server.url, station.token, tmp_path / "cache", clock)
    agent.run_once(clock())
    clock.current = relay_at + timedelta(seconds=30)  # the box comes up mid-relay: it joins
    agent.run_once(clock())
    assert null_player(agent).started[-1][:2] == ("http://vov.vn/vov1", 60000)
    step_to(agent, clock, relay_at + timedelta(seconds=95))
    agent.syncer.upload(clock(), force=True)
    [relay] = server_plays(sessions)
    assert (relay.kind, relay.result, relay.played_ms, relay.actual_end) == (
        "relay", "played", 60000, relay_at + timedelta(seconds=90))


def test_a_relay_is_made_ready_earlier_than_a_file_so_that_its_stream_is_joined_before_its_start(
        server: ServerThread, station: Station, sessions: sessionmaker[Session], clock: FakeClock, tmp_path: Path) -> None:
    relay_at = station.starts[0] - timedelta(minutes=2)
    with transaction(sessions) as s:
        programme = s.scalar(select(Programme).where(Programme.week == "2026-W48"))
        assert programme is not None
        set_items(programme, [ItemSpec(relay_at, kind="relay", seconds=90, stream_url="http://vov.vn/vov1",
                                       title="Tiếp sóng VOV1")])
        programme.version = 2
    agent = make_agent(server.url, station.token, tmp_path / "cache", clock)
    agent.player = spy = PreparingPlayer(clock)
    agent.run_once(clock())
    # The loop wakes STREAM_AHEAD before the relay (joining a stream takes about a second of live audio).
    assert agent.seconds_to_next_event(clock()) == (relay_at - STREAM_AHEAD - clock()).total_seconds()
    clock.current = relay_at - STREAM_AHEAD
    agent.run_once(clock())
    assert spy.calls == [("prepare", "http://vov.vn/vov1")]
    clock.current = relay_at
    agent.run_once(clock())
    assert spy.calls[1] == ("start", "http://vov.vn/vov1")
    assert [(r.result, r.actual_start) for r in agent.store.all_plays()] == [("playing", relay_at.isoformat())]


class OverrunningPlayer(NullPlayer):
    """Like a real player: reports its end 400 ms after the audio's length (start-up, tail, polling)."""

    def poll(self) -> PlayerStatus:
        if self.until is not None and self.clock() < self.until + timedelta(milliseconds=400):
            return PlayerStatus("playing")
        return super().poll()


def four_back_to_back(station: Station, sessions: sessionmaker[Session]) -> list[datetime]:
    """Replace the week with four items end to end (2 s, 3 s, 2 s, 3 s); return their starts."""
    short, other = station.assets["short"], station.assets["other"]  # 2 s and 3 s
    first = station.starts[0]
    starts = [first, first + timedelta(seconds=2), first + timedelta(seconds=5), first + timedelta(seconds=7)]
    with transaction(sessions) as s:
        programme = s.scalar(select(Programme).where(Programme.week == "2026-W48"))
        assert programme is not None
        set_items(programme, [ItemSpec(starts[0], short), ItemSpec(starts[1], other), ItemSpec(starts[2], short),
                              ItemSpec(starts[3], other)])
        programme.version += 1
    return starts


def test_back_to_back_items_start_on_the_clock_however_late_the_player_reports_its_end(
        server: ServerThread, station: Station, sessions: sessionmaker[Session], clock: FakeClock,
        tmp_path: Path) -> None:
    starts = four_back_to_back(station, sessions)
    first = starts[0]
    agent = make_agent(server.url, station.token, tmp_path / "cache", clock)
    agent.player = OverrunningPlayer(clock)
    agent.run_once(clock())
    # The loop wakes to make the first item ready, then at its start.
    assert agent.seconds_to_next_event(clock()) == (first - PREPARE_AHEAD - clock()).total_seconds()
    clock.current = first
    agent.run_once(clock())
    step_to(agent, clock, starts[3] + timedelta(seconds=4), step=timedelta(milliseconds=100))
    agent.syncer.upload(clock(), force=True)
    plays = server_plays(sessions)
    assert [(p.scheduled_start, p.actual_start, p.result) for p in plays] == [
        (t, t, "played") for t in starts]


class PreparingPlayer(NullPlayer):
    """Records what it was asked to prepare, cancel and start."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.calls: list[tuple[str, str]] = []

    def prepare(self, source: str, volume: int) -> None:
        self.calls.append(("prepare", source))

    def cancel(self) -> None:
        self.calls.append(("cancel", ""))

    def start(self, source: str, duration_ms: int, volume: int) -> None:
        self.calls.append(("start", source))
        super().start(source, duration_ms, volume)


class EventLog:
    """What the box did, in order: each step, each commit to its store, each file hashed, each start."""

    def __init__(self, agent: Agent, monkeypatch: pytest.MonkeyPatch) -> None:
        self.events: list[str] = []
        agent.store._db.set_trace_callback(lambda sql: self.events.append("commit") if sql == "COMMIT" else None)
        hash_file = audio_cache.file_sha256

        def hashing(path: Path) -> str:
            self.events.append("hash")
            return hash_file(path)

        monkeypatch.setattr(audio_cache, "file_sha256", hashing)
        player = null_player(agent)
        start = player.start

        def starting(source: str, duration_ms: int, volume: int) -> None:
            self.events.append("start")
            start(source, duration_ms, volume)

        monkeypatch.setattr(player, "start", starting)

    def step(self, agent: Agent, now: datetime) -> None:
        self.events.append("step")
        agent.run_once(now)

    def work_before_each_start(self) -> list[list[str]]:
        """For every start: what the box did between waking for that step and starting the player."""
        found = []
        for n, event in enumerate(self.events):
            if event == "start":
                woke = max(i for i in range(n) if self.events[i] == "step")
                found.append([e for e in self.events[woke + 1 : n] if e != "start"])
        return found


def test_an_item_starts_without_waiting_for_a_disk_write_or_a_hash(
        server: ServerThread, station: Station, sessions: sessionmaker[Session], clock: FakeClock,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A commit waits for the disk (0.2–0.6 s while another program writes) and hashing a long file
    takes as long: both happen PREPARE_AHEAD before the start, or after it, never in between."""
    starts = four_back_to_back(station, sessions)
    agent = make_agent(server.url, station.token, tmp_path / "cache", clock)
    agent.run_once(clock())
    log = EventLog(agent, monkeypatch)
    while clock() < starts[3] + timedelta(seconds=4):
        wait = agent.seconds_to_next_event(clock())  # as run_forever sleeps: to the next event, on the clock
        clock.current += timedelta(seconds=wait) if wait is not None else timedelta(seconds=1)
        log.step(agent, clock())
    assert log.work_before_each_start() == [[], [], [], []]
    agent.syncer.upload(clock(), force=True)
    plays = server_plays(sessions)
    assert [(p.scheduled_start, p.actual_start, p.result) for p in plays] == [(t, t, "played") for t in starts]


def test_a_row_made_ready_for_a_start_that_never_came_is_withdrawn(
        server: ServerThread, station: Station, sessions: sessionmaker[Session], clock: FakeClock,
        tmp_path: Path) -> None:
    """The row written ahead is no play: a power cut before the start leaves no trace of it, and an item
    held back at its start (an emergency on air) gets one row, written when it does start."""
    agent = make_agent(server.url, station.token, tmp_path / "cache", clock)
    agent.run_once(clock())
    clock.current = station.starts[0] - timedelta(seconds=1)
    agent.run_once(clock())
    assert agent.ready is not None
    assert [(r.result, r.scheduled_start) for r in agent.store.all_plays()] == [
        ("playing", station.starts[0].isoformat())]
    del agent  # power cut a second before the start
    back = make_agent(server.url, station.token, tmp_path / "cache", clock)
    assert back.store.all_plays() == []  # recovery withdrew it: not a 0 s partial play
    back.player = spy = PreparingPlayer(clock)
    back.run_once(clock())  # ready again, its player prepared
    audio = str(back.cache.path(station.assets["short"].sha256))
    assert spy.calls == [("prepare", audio)]
    command = Command.make("play", clock(), stream_url="http://127.0.0.1:9/khan-cap", duration_ms=3000,
                          title="Cảnh báo lũ quét", volume=100)
    back.command(command, clock())  # an emergency on air across the item's start
    step_to(back, clock, station.starts[0] + timedelta(seconds=6))
    # Held back at its start: its prepared player is let go, and the item starts afresh after the warning.
    assert spy.calls[:4] == [("prepare", audio), ("start", "http://127.0.0.1:9/khan-cap"), ("cancel", ""),
                             ("start", audio)]
    back.syncer.upload(clock(), force=True)
    plays = [(p.kind, p.scheduled_start, p.actual_start, p.result) for p in server_plays(sessions)]
    assert plays == [("emergency", station.starts[0] - timedelta(seconds=1), station.starts[0] - timedelta(seconds=1),
                      "played"),
                     ("bulletin", station.starts[0], station.starts[0] + timedelta(seconds=2), "played")]
