"""Publishing to the broker from the server (paho-mqtt 2.x, callback API version 2).

A publisher connects, sends a batch with QoS 1, waits for the broker's acknowledgements and
disconnects. When the broker is down it raises BrokerUnavailable; callers log and retry later,
so a dead broker never breaks a web request or a scheduler job.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from scheduler.wire import parse_mqtt_url

log = logging.getLogger("loaxa.delivery.mqtt")


class BrokerUnavailable(Exception):
    """The broker could not be reached, refused us, or did not confirm in time."""


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False


class MqttPublisher:
    """Usable as a context manager; `publish_many` returns how many messages the broker confirmed."""

    def __init__(self, url: str, client_id: str | None = None, timeout: float = 10.0) -> None:
        self.url = parse_mqtt_url(url)
        self.timeout = timeout
        self._connected = threading.Event()
        self._refused: str | None = None
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id or f"loaxa-server-{uuid.uuid4().hex[:8]}",
                             clean_session=True, protocol=mqtt.MQTTv311)
        if self.url.username:
            client.username_pw_set(self.url.username, self.url.password)
        if self.url.tls:
            client.tls_set()
        client.max_inflight_messages_set(1000)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        self.client = client
        self._open = False

    def _on_connect(self, _c: mqtt.Client, _u: Any, _f: Any, reason_code: Any, _p: Any) -> None:
        if reason_code.is_failure:
            self._refused = str(reason_code)
        self._connected.set()

    def open(self) -> MqttPublisher:
        try:
            self.client.connect(self.url.host, self.url.port, keepalive=30)
        except OSError as exc:
            raise BrokerUnavailable(
                f"Không kết nối được máy chủ MQTT {self.url.host}:{self.url.port}: {exc}"
            ) from exc
        self.client.loop_start()
        self._open = True
        if not self._connected.wait(self.timeout) or self._refused:
            self.close()
            raise BrokerUnavailable(
                f"Máy chủ MQTT {self.url.host}:{self.url.port} không nhận kết nối: "
                f"{self._refused or 'hết thời gian chờ'}. Kiểm tra tài khoản trong LOAXA_MQTT_URL."
            )
        return self

    def close(self) -> None:
        if self._open:
            self.client.disconnect()
            self.client.loop_stop()
            self._open = False

    def __enter__(self) -> MqttPublisher:
        return self.open()

    def __exit__(self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None) -> None:
        self.close()

    def publish_many(self, messages: Iterable[Message]) -> list[bool]:
        """Send all, then wait for each acknowledgement; one flag per message, in order."""
        infos = [self.client.publish(m.topic, m.payload, qos=m.qos, retain=m.retain) for m in messages]
        confirmed = []
        for info in infos:
            try:
                info.wait_for_publish(timeout=self.timeout)
            except (RuntimeError, ValueError) as exc:
                log.warning("Không gửi được tin MQTT: %s", exc)
            confirmed.append(info.is_published())
        return confirmed

    def publish(self, message: Message) -> bool:
        return self.publish_many([message])[0]
