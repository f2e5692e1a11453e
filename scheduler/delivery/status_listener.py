"""Listen to the stations' retained MQTT status topics and record online/offline on Station.status;
and to their event topics, where they report what became of an emergency (the tracking board).

The broker publishes an agent's last will {"state": "offline"} when its link drops uncleanly, so the
admin page learns of a dead box within the keep-alive (about 45 s) instead of waiting for HTTP
silence. Optional: run it in the scheduler service with start()/stop(); without it nothing breaks.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.models import Station
from scheduler.db.session import transaction
from scheduler.delivery.mqtt_topics import code_segment, station_code_from_status_topic
from scheduler.emergencies.tracking import record_report
from scheduler.wire import EVENT_TOPIC, STATUS_TOPIC, TOPIC_ROOT, EmergencyReport, parse_mqtt_url

log = logging.getLogger("loaxa.delivery.status")
STATUS_FILTER = f"{TOPIC_ROOT}/+/+/+/{STATUS_TOPIC}"
EVENT_FILTER = f"{TOPIC_ROOT}/+/+/+/{EVENT_TOPIC}"


def _station(session: Session, segment: str) -> Station | None:
    station = session.scalar(select(Station).where(Station.code == segment))
    if station is None:  # a code with characters unsafe in topics: match on its topic segment
        station = next((s for s in session.scalars(select(Station)) if code_segment(s.code) == segment), None)
    return station


def record_mqtt_event(session: Session, topic: str, payload: bytes, now: datetime) -> bool:
    """Store an emergency report a station published on its event topic; False if ignored."""
    segment = station_code_from_status_topic(topic, EVENT_TOPIC)
    if segment is None:
        return False
    try:
        report = EmergencyReport.from_json(payload)
    except ValueError as exc:
        log.warning("Bỏ qua báo cáo khẩn cấp không hợp lệ trên %s: %s", topic, exc)
        return False
    station = _station(session, segment)
    return station is not None and record_report(session, station, report, now)


def record_mqtt_status(session: Session, topic: str, payload: bytes, now: datetime) -> str | None:
    """Store the state carried by one status message; returns the station code, or None if ignored."""
    segment = station_code_from_status_topic(topic)
    if segment is None:
        return None
    try:
        data = json.loads(payload)
        state = str(data.get("state", ""))
    except (ValueError, AttributeError):
        return None
    if state not in ("online", "offline"):
        return None
    station = _station(session, segment)
    if station is None:
        return None
    status = {**(station.status or {}), "mqtt_state": state, "mqtt_at": now.isoformat()}
    fault = data.get("stream_fault", ...)
    if fault is None or isinstance(fault, dict):
        status["stream_fault"] = fault  # a failed relay or live stream, published the moment it fails
    station.status = status
    return station.code


class StatusListener:
    def __init__(self, url: str, sessions: sessionmaker[Session], clock: Callable[[], datetime]) -> None:
        self.sessions = sessions
        self.clock = clock
        parsed = parse_mqtt_url(url)
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="loaxa-status-listener", clean_session=True)
        if parsed.username:
            client.username_pw_set(parsed.username, parsed.password)
        if parsed.tls:
            client.tls_set()
        client.reconnect_delay_set(1, 60)
        client.on_connect = lambda c, *_: c.subscribe([(STATUS_FILTER, 1), (EVENT_FILTER, 1)])
        client.on_message = self._message
        self.client = client
        self._host, self._port = parsed.host, parsed.port

    def start(self) -> None:
        """Connect in the background (retrying while the broker is down)."""
        self.client.connect_async(self._host, self._port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        try:
            with transaction(self.sessions) as session:
                if message.topic.endswith("/" + EVENT_TOPIC):
                    record_mqtt_event(session, message.topic, bytes(message.payload), self.clock())
                else:
                    record_mqtt_status(session, message.topic, bytes(message.payload), self.clock())
        except Exception:  # a database hiccup must not kill the listener thread
            log.exception("Không ghi được trạng thái MQTT từ %s", message.topic)
