"""The agent with a real Mosquitto: pushed notices, emergency pre-emption in the real loop, broker outages."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from agent_world import CODE, Station, acked, make_agent, rows, server_plays
from delivery_world import (
    Broker,
    ItemSpec,
    ServerThread,
    add_asset,
    free_port,
    make_mp3,
    set_items,
    subscriber,
    wait_for,
)
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.models import AudioAsset, Programme
from scheduler.db.models import Station as StationRow
from scheduler.db.session import transaction
from scheduler.delivery.commands import send_command
from scheduler.delivery.notices import push_pending
from scheduler.settings import Settings
from scheduler.wire import Command
from tests.fake_clock import FakeClock

pytestmark = pytest.mark.mqtt
TOPIC = "loaxa/gia-lai/xa-ia-der/GL-IADER-01"


def _new_version(sessions: sessionmaker[Session], media_dir: Path, clock: FakeClock, station: Station) -> None:
    with transaction(sessions) as s:
        extra = add_asset(s, media_dir, make_mp3(2.5, 310), clock(), 2500)
        programme = s.scalar(select(Programme).where(Programme.week == "2026-W48"))
        assert programme is not None
        assets = {a.sha256: a for a in s.scalars(select(AudioAsset))}
        specs = [ItemSpec(i.start, assets[i.audio_sha256], title=i.title) for i in programme.items if i.audio_sha256]
        set_items(programme, [*specs, ItemSpec(station.starts[0] + timedelta(hours=12), extra, title="Bản tin chiều")])
        programme.version += 1


def _send(sessions: sessionmaker[Session], settings: Settings, command: Command) -> bool:
    with sessions() as s:
        row = s.scalar(select(StationRow).where(StationRow.code == CODE))
        assert row is not None
        return send_command(row, command, settings)


def test_agent_fetches_a_new_version_as_soon_as_the_retained_notice_arrives(
        settings: Settings, station: Station, sessions: sessionmaker[Session], clock: FakeClock, tmp_path: Path,
        media_dir: Path) -> None:
    with Broker(tmp_path) as broker, ServerThread(replace(settings, mqtt_url=broker.url), clock) as server:
        agent = make_agent(server.url, station.token, tmp_path / "cache", clock, mqtt=True)
        try:
            agent.run_once(clock())
            assert acked(sessions) == 1
            assert agent.mqtt is not None
            wait_for(agent.mqtt.connected.is_set)
            with subscriber(broker.url, [f"{TOPIC}/status"]) as status:
                agent.syncer.state.next_status = None
                agent.run_once(clock())
                wait_for(lambda: status)
            assert json.loads(status[-1][1])["state"] == "online"
            _new_version(sessions, media_dir, clock, station)
            assert push_pending(sessions, server.settings, clock()).published == 1
            wait_for(lambda: not agent.inbox.empty())
            clock.advance(seconds=1)  # long before the 30-minute safety poll
            agent.run_once(clock())
            assert acked(sessions) == 2
        finally:
            agent.shutdown()


def test_emergency_over_mqtt_pre_empts_what_plays_in_the_real_loop(
        settings: Settings, station: Station, sessions: sessionmaker[Session], clock: FakeClock, tmp_path: Path) -> None:
    with Broker(tmp_path) as broker, ServerThread(replace(settings, mqtt_url=broker.url), clock) as server:
        agent = make_agent(server.url, station.token, tmp_path / "cache", clock, mqtt=True)
        agent.run_once(clock())
        clock.current = station.starts[0] + timedelta(seconds=1)  # the clock stands still: the item plays on
        stop = threading.Event()
        loop = threading.Thread(target=agent.run_forever, args=(stop,), daemon=True)
        loop.start()
        try:
            wait_for(lambda: agent.current is not None and agent.current.slot.start == station.starts[0])
            assert agent.mqtt is not None
            wait_for(agent.mqtt.connected.is_set)
            sha = station.assets["other"].sha256
            assert _send(sessions, server.settings,
                         Command.make("play", clock(), sha256=sha, duration_ms=3000, title="Cảnh báo cháy rừng"))
            wait_for(lambda: agent.current is not None and agent.current.emergency)
            logged = [(r.kind, r.result, r.reason) for r in rows(agent)]
            logged += [(p.kind, p.result, p.reason) for p in server_plays(sessions)]
        finally:
            stop.set()
            loop.join(timeout=30)
    assert ("bulletin", "partial", "Bị ngắt để phát bản tin khẩn cấp «Cảnh báo cháy rừng». Sẽ phát lại từ đầu.") in logged
    assert ("emergency", "playing", "") in logged


def test_dead_broker_never_stops_the_agent_and_commands_flow_once_it_is_back(
        settings: Settings, station: Station, sessions: sessionmaker[Session], clock: FakeClock, tmp_path: Path,
        media_dir: Path) -> None:
    broker = Broker(tmp_path, port=free_port())
    with ServerThread(replace(settings, mqtt_url=broker.url), clock) as server:
        agent = make_agent(server.url, station.token, tmp_path / "cache", clock, mqtt=True)
        try:
            agent.run_once(clock())  # no broker listening: HTTP alone delivers the programme
            assert acked(sessions) == 1
            assert agent.mqtt is not None and not agent.mqtt.connected.is_set()
            with broker:
                wait_for(agent.mqtt.connected.is_set, timeout=60)  # paho retries with back-off
                assert _send(sessions, server.settings, Command.make("volume", clock(), volume=35))
                wait_for(lambda: not agent.inbox.empty())
                agent.run_once(clock())
                assert agent.volume == 35
            link = agent.mqtt
            wait_for(lambda: not link.connected.is_set())
            _new_version(sessions, media_dir, clock, station)
            clock.advance(minutes=3)  # without MQTT the agent polls every 2 minutes
            agent.run_once(clock())
            assert acked(sessions) == 2
        finally:
            agent.shutdown()
