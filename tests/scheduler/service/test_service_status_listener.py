"""The leading scheduler listens to the stations' MQTT status, so a dead box's last will is recorded."""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import replace
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.fake_clock import FakeClock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "delivery"))
from delivery_world import Broker, add_station, wait_for  # noqa: E402

from scheduler.db.models import Station  # noqa: E402
from scheduler.db.session import transaction  # noqa: E402
from scheduler.delivery.mqtt_topics import station_topics  # noqa: E402
from scheduler.service.config import ServiceConfig  # noqa: E402
from scheduler.service.runner import run_service  # noqa: E402
from scheduler.settings import Settings  # noqa: E402

pytestmark = pytest.mark.mqtt


def _state(sessions: sessionmaker[Session]) -> str | None:
    with sessions() as s:
        station = s.scalar(select(Station).where(Station.code == "GL-S"))
        return None if station is None else (station.status or {}).get("mqtt_state")


def test_leader_records_a_station_going_offline_over_mqtt(
    settings: Settings, sessions: sessionmaker[Session], clock: FakeClock, tmp_path: Path
) -> None:
    with transaction(sessions) as s:
        station, _ = add_station(s, "GL-S", clock())
        status_topic = station_topics(station).status
    with Broker(tmp_path) as broker:
        stop = threading.Event()
        service = threading.Thread(
            target=run_service,
            args=(replace(settings, mqtt_url=broker.url), ServiceConfig(leader_poll_seconds=0.2), stop, clock),
            daemon=True,
        )
        service.start()
        box = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="box-GL-S")
        box.connect("127.0.0.1", broker.port)
        box.loop_start()
        try:
            # Retained, like an agent's last will: the listener sees it whenever it subscribes.
            box.publish(status_topic, json.dumps({"state": "offline"}), qos=1, retain=True).wait_for_publish(10)
            wait_for(lambda: _state(sessions) == "offline")
        finally:
            box.loop_stop()
            box.disconnect()
            stop.set()
            service.join(timeout=30)
    assert not service.is_alive()
