"""The MQTT status listener: a station's online report and its last will reach Station.status."""

from __future__ import annotations

from pathlib import Path

import pytest
from delivery_world import Broker, add_station, wait_for
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.agent.mqtt_link import MqttConfig, MqttLink
from scheduler.db.models import Station
from scheduler.db.session import transaction
from scheduler.delivery.mqtt_topics import station_topics
from scheduler.delivery.status_listener import StatusListener
from tests.fake_clock import FakeClock

pytestmark = pytest.mark.mqtt


def _state(sessions: sessionmaker[Session]) -> str | None:
    with sessions() as s:
        station = s.scalar(select(Station).where(Station.code == "GL-A"))
        return None if station is None else station.status.get("mqtt_state")


def test_agent_online_report_then_its_last_will_are_recorded(sessions: sessionmaker[Session], clock: FakeClock,
                                                             tmp_path: Path) -> None:
    with transaction(sessions) as s:
        station, _ = add_station(s, "GL-A", clock())
        topics = station_topics(station)
    with Broker(tmp_path) as broker:
        listener = StatusListener(broker.url, sessions, clock)
        listener.start()
        link = MqttLink(MqttConfig(broker.url, "GL-A", "x", topics.programme, topics.cmd, topics.status,
                                   "loaxa-agent-GL-A"), on_message=lambda *_: None)
        link.start()
        try:
            wait_for(link.connected.is_set)
            assert link.publish_status({"state": "online", "volume": 80})
            wait_for(lambda: _state(sessions) == "online")
            link.client.loop_stop()  # the box dies: no DISCONNECT, the broker sends the will
            sock = link.client.socket()
            assert sock is not None
            sock.close()
            wait_for(lambda: _state(sessions) == "offline")
        finally:
            listener.stop()


def _fault(sessions: sessionmaker[Session]) -> object:
    with sessions() as s:
        station = s.scalar(select(Station).where(Station.code == "GL-A"))
        return None if station is None else station.status.get("stream_fault", "absent")


def test_a_failed_stream_published_by_the_box_reaches_the_station_at_once_and_clears(
        sessions: sessionmaker[Session], clock: FakeClock, tmp_path: Path) -> None:
    with transaction(sessions) as s:
        station, _ = add_station(s, "GL-A", clock())
        topics = station_topics(station)
    with Broker(tmp_path) as broker:
        listener = StatusListener(broker.url, sessions, clock)
        listener.start()
        link = MqttLink(MqttConfig(broker.url, "GL-A", "x", topics.programme, topics.cmd, topics.status,
                                   "loaxa-agent-GL-A"), on_message=lambda *_: None)
        link.start()
        try:
            wait_for(link.connected.is_set)
            fault = {"title": "Tiếp sóng VOV1", "reason": "Luồng chỉ có im lặng 20 giây", "since": clock().isoformat()}
            assert link.publish_status({"state": "online", "stream_fault": fault})
            wait_for(lambda: isinstance(_fault(sessions), dict))
            assert _fault(sessions) == fault
            assert link.publish_status({"state": "online", "stream_fault": None})
            wait_for(lambda: _fault(sessions) is None)
        finally:
            link.stop()
            listener.stop()
