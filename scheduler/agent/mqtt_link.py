"""The agent's MQTT connection: programme notices and commands in, retained status out.

paho runs its own thread and reconnects with back-off (1 s doubling to 60 s); a dead broker
only means the agent falls back to polling HTTP. The session is persistent (clean_session off,
fixed client id) so QoS 1 commands sent during a short drop are still delivered.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from scheduler.wire import parse_mqtt_url

log = logging.getLogger("loaxa.agent.mqtt")


@dataclass(frozen=True)
class MqttConfig:
    """What the server's /api/v1/mqtt hands a station (see docs/station-api.md)."""

    url: str
    username: str | None
    password: str | None
    programme_topic: str
    cmd_topic: str
    status_topic: str
    client_id: str
    event_topic: str = ""

    @classmethod
    def from_api(cls, data: dict[str, Any], url_override: str | None = None) -> MqttConfig | None:
        url = url_override or data.get("url")
        if not url:
            return None
        topics = data["topics"]
        return cls(
            url=str(url),
            username=data.get("username"),
            password=data.get("password"),
            programme_topic=str(topics["programme"]),
            cmd_topic=str(topics["cmd"]),
            status_topic=str(topics["status"]),
            event_topic=str(topics.get("event") or str(topics["status"]).rsplit("/", 1)[0] + "/event"),
            client_id=str(data.get("client_id") or f"loaxa-agent-{data.get('username', '')}"),
        )


class MqttLink:
    def __init__(self, config: MqttConfig, on_message: Callable[[str, bytes], None],
                 on_connected: Callable[[], None] | None = None) -> None:
        self.config = config
        self._on_message = on_message
        self._on_connected = on_connected
        self.connected = threading.Event()
        url = parse_mqtt_url(config.url)
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=config.client_id, clean_session=False,
                             protocol=mqtt.MQTTv311)
        username = config.username or url.username
        password = config.password if config.username else url.password
        if username:
            client.username_pw_set(username, password)
        if url.tls:
            client.tls_set()
        client.reconnect_delay_set(1, 60)
        client.will_set(config.status_topic, json.dumps({"state": "offline"}), qos=1, retain=True)
        client.on_connect = self._connected
        client.on_disconnect = self._disconnected
        client.on_message = self._message
        self.client = client
        self._host, self._port = url.host, url.port

    def start(self) -> None:
        self.client.connect_async(self._host, self._port, keepalive=30)
        self.client.loop_start()

    def stop(self, final_status: dict[str, Any] | None = None) -> None:
        """Say goodbye (the will only fires on an unclean drop), then disconnect."""
        if self.connected.is_set():
            info = self.client.publish(self.config.status_topic,
                                       json.dumps(final_status or {"state": "offline"}), qos=1, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout=2)
        self.client.disconnect()
        self.client.loop_stop()
        self.connected.clear()

    def publish_status(self, status: dict[str, Any]) -> bool:
        if not self.connected.is_set():
            return False
        info = self.client.publish(self.config.status_topic, json.dumps(status, ensure_ascii=False), qos=1,
                                   retain=True)
        return info.rc == mqtt.MQTT_ERR_SUCCESS

    def publish_event(self, payload: bytes) -> bool:
        """An emergency report (QoS 1, not retained); False when the link is down."""
        if not self.connected.is_set() or not self.config.event_topic:
            return False
        info = self.client.publish(self.config.event_topic, payload, qos=1, retain=False)
        return info.rc == mqtt.MQTT_ERR_SUCCESS

    def _connected(self, client: mqtt.Client, _userdata: Any, _flags: Any, reason_code: Any,
                   _props: Any) -> None:
        if reason_code.is_failure:
            log.warning("Máy chủ MQTT từ chối kết nối: %s", reason_code)
            return
        client.subscribe([(self.config.programme_topic, 1), (self.config.cmd_topic, 1)])
        self.connected.set()
        log.info("Đã kết nối MQTT %s", self.config.url)
        if self._on_connected is not None:
            self._on_connected()

    def _disconnected(self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason_code: Any,
                      _props: Any) -> None:
        if self.connected.is_set():
            log.warning("Mất kết nối MQTT (%s); sẽ thử lại.", reason_code)
        self.connected.clear()

    def _message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        self._on_message(message.topic, bytes(message.payload))
