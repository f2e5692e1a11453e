"""Commands to stations through a real Mosquitto (QoS 1), including an emergency's play-now."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from delivery_world import Broker, add_asset, add_station, free_port, make_mp3, subscriber, wait_for
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.models import Bulletin, Emergency
from scheduler.db.session import transaction
from scheduler.delivery.commands import (
    announce_emergency,
    emergency_command,
    emergency_stop_command,
    send_command,
)
from scheduler.delivery.mqtt_topics import station_topics
from scheduler.settings import Settings
from scheduler.wire import Command
from tests.fake_clock import FakeClock

pytestmark = pytest.mark.mqtt


def test_emergency_play_now_reaches_each_target_station_with_its_audio_hash(
        sessions: sessionmaker[Session], settings: Settings, clock: FakeClock, media_dir: Path, tmp_path: Path) -> None:
    now = clock()
    with Broker(tmp_path) as broker, transaction(sessions) as s:
        a, _ = add_station(s, "GL-A", now)
        b, _ = add_station(s, "GL-B", now)
        asset = add_asset(s, media_dir, make_mp3(1.0), now, 1000)
        bulletin = Bulletin(code="KC-BAO-01", title="Cảnh báo bão số 9", topic="khac", priority="khan_cap",
                            valid_from=date(2026, 11, 23), valid_to=date(2026, 11, 30), targets=["*"],
                            status="da_duyet", audio=asset, created_at=now, updated_at=now)
        emergency = Emergency(bulletin=bulletin, targets=["*"], starts_at=now, volume=100, created_at=now,
                              expires_minutes=15, full_volume=True)
        s.add(emergency)
        s.flush()
        with subscriber(broker.url, [station_topics(a).cmd, station_topics(b).cmd]) as heard:
            command = emergency_command(emergency, 0, now)
            sent = announce_emergency(replace(settings, mqtt_url=broker.url), emergency, ["GL-A", "GL-B"], command)
            wait_for(lambda: len(heard) == 2)
    assert sent == {"GL-A": True, "GL-B": True}
    commands = [Command.from_json(payload) for _, payload, _ in heard]
    assert {c.kind for c in commands} == {"play"}
    assert {c.sha256 for c in commands} == {asset.sha256}
    assert commands[0].title == "Cảnh báo bão số 9" and commands[0].volume == 100
    # The same id on every station and whichever way it travels; it names the emergency and its play.
    assert {(c.id, c.emergency, c.airing) for c in commands} == {(f"emergency-{emergency.id}-0", emergency.id, 0)}
    assert not commands[0].expired(now) and commands[0].expired(now + timedelta(minutes=15))


def test_a_stop_names_the_emergency_so_only_that_play_is_cut(sessions: sessionmaker[Session], clock: FakeClock,
                                                            media_dir: Path) -> None:
    now = clock()
    with transaction(sessions) as s:
        asset = add_asset(s, media_dir, make_mp3(1.0), now, 1000)
        bulletin = Bulletin(code="KC-BAO-02", title="Cảnh báo bão", topic="khac", priority="khan_cap",
                            valid_from=date(2026, 11, 23), valid_to=date(2026, 11, 30), targets=["*"],
                            status="da_duyet", audio=asset, created_at=now, updated_at=now)
        emergency = Emergency(bulletin=bulletin, targets=["*"], starts_at=now, created_at=now, expires_minutes=15,
                              full_volume=False)
        s.add(emergency)
        s.flush()
        stop = Command.from_json(emergency_stop_command(emergency, 2, now).to_json())
        play = Command.from_json(emergency_command(emergency, 2, now).to_json())
    assert (stop.kind, stop.emergency, stop.airing) == ("stop", emergency.id, 2)
    assert play.volume is None  # not at full volume: the station's own volume


def test_command_to_a_dead_broker_returns_false_without_raising(sessions: sessionmaker[Session], settings: Settings,
                                                                clock: FakeClock) -> None:
    with transaction(sessions) as s:
        station, _ = add_station(s, "GL-A", clock())
        dead = replace(settings, mqtt_url=f"mqtt://127.0.0.1:{free_port()}")
        assert send_command(station, Command.make("stop", datetime(2026, 11, 23, tzinfo=UTC)), dead) is False


def test_the_publisher_works_when_its_socket_number_is_above_1024(tmp_path: Path) -> None:
    """A web server holding a thousand stations' connections hands the publisher descriptors past
    select()'s limit; paho's own loop never saw the broker's answer there."""
    import os
    import resource

    from scheduler.delivery.publisher import Message, MqttPublisher

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip("the descriptor limit is below 1,200 here")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200) if hard == resource.RLIM_INFINITY
                                               else min(max(soft, 1200), hard), hard))
    fillers: list[int] = []
    # The broker and the test's own subscriber (paho's select loop) get their descriptors first.
    with Broker(tmp_path) as broker, subscriber(broker.url, ["loaxa/test/#"]) as seen:
        try:
            source = os.open(os.devnull, os.O_RDONLY)
            fillers.append(source)
            while fillers[-1] < 1100:
                fillers.append(os.dup(source))
            with MqttPublisher(broker.url, timeout=10) as publisher:
                sock = publisher.client.socket()
                assert sock is not None and sock.fileno() > 1024
                confirmed = publisher.publish_many([Message(f"loaxa/test/{n}", b"phat") for n in range(50)])
            assert confirmed == [True] * 50
            wait_for(lambda: len(seen) == 50)
        finally:
            for fd in fillers:
                os.close(fd)
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_remote_care_commands_go_over_mosquitto_and_the_agent_obeys_them(
        sessions: sessionmaker[Session], settings: Settings, clock: FakeClock, tmp_path: Path) -> None:
    from scheduler.agent.agent import Agent, AgentConfig
    from scheduler.agent.players import NullPlayer
    from scheduler.delivery import care

    now = clock()
    with Broker(tmp_path) as broker, transaction(sessions) as s:
        station, _ = add_station(s, "GL-CARE", now)
        with subscriber(broker.url, [station_topics(station).cmd]) as heard:
            live = replace(settings, mqtt_url=broker.url)
            row = care.send_care(s, live, station, care.care_command("volume", now, live, volume=42), None, now)
            wait_for(lambda: len(heard) == 1)
        pending = care.pending_commands(s, station, now)  # still handed over HTTP until the box answers
    assert row.via == "mqtt" and [c.id for c in pending] == [row.command_id]
    topic, payload, _ = heard[0]
    agent = Agent(AgentConfig(server="http://127.0.0.1:9", station="GL-CARE", token="t", cache_dir=tmp_path / "box",
                              mqtt=False), clock=clock, player=NullPlayer(clock))
    agent.deliver(topic, payload)
    agent.tick_playback(now)
    assert agent.volume == 42
    with transaction(sessions) as s:
        station = s.merge(station)
        assert care.record_results(s, station, agent.status(now)["care"], now) == 1
        assert care.pending_commands(s, station, now) == []
    agent.shutdown()


def test_a_play_command_carries_only_a_download_path_for_its_own_audio() -> None:
    from scheduler.delivery.commands import signed_audio_path
    from scheduler.wire import audio_path

    sha, other = "a" * 64, "b" * 64
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    path = signed_audio_path("bí-mật", sha, now, timedelta(minutes=15))
    assert path.startswith(audio_path(sha) + "?link=")
    command = Command.make("play", now, sha256=sha, duration_ms=1000, emergency=1, airing=0, audio_path=path)
    assert Command.from_json(command.to_json()).audio_path == path
    for bad in (signed_audio_path("bí-mật", other, now, timedelta(minutes=1)), "https://evil.example/x.mp3",
                audio_path(sha)):
        forged = replace(command, audio_path=bad)
        with pytest.raises(ValueError, match="Đường tải âm thanh"):
            Command.from_json(forged.to_json())
