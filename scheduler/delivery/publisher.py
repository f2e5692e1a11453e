"""Publishing to the broker from the server (paho-mqtt 2.x, callback API version 2).

A publisher connects, sends a batch with QoS 1, waits for the broker's acknowledgements and
disconnects. When the broker is down it raises BrokerUnavailable; callers log and retry later,
so a dead broker never breaks a web request or a scheduler job.

It drives its socket itself with the `selectors` module (epoll on Linux) instead of paho's
loop thread: paho's loop uses select(), which cannot watch a descriptor numbered 1024 or more,
and a web server holding a thousand stations' connections hands out such numbers (the publisher
then never saw the broker's answer and every emergency command timed out).
"""

from __future__ import annotations

import logging
import selectors
import time
import uuid
from collections.abc import Callable, Iterable
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
        self._connected = False
        self._refused: str | None = None
        self._selector: selectors.BaseSelector | None = None
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id or f"loaxa-server-{uuid.uuid4().hex[:8]}",
                             clean_session=True, protocol=mqtt.MQTTv311)
        if self.url.username:
            client.username_pw_set(self.url.username, self.url.password)
        if self.url.tls:
            client.tls_set()
        # No in-flight limit: with one, paho scans every queued message on each PUBACK (quadratic: a
        # national programme change spent a third of its push there); MQTT 3.1.1 brokers take them all.
        client.max_inflight_messages_set(0)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        self.client = client
        self._open = False

    def _on_connect(self, _c: mqtt.Client, _u: Any, _f: Any, reason_code: Any, _p: Any) -> None:
        if reason_code.is_failure:
            self._refused = str(reason_code)
        self._connected = True

    def _pump(self, done: Callable[[], bool], timeout: float) -> bool:
        """Move bytes both ways until `done()` or `timeout` seconds pass; True if done."""
        deadline = time.monotonic() + timeout
        while not done():
            remaining = deadline - time.monotonic()
            sock = self.client.socket()
            if remaining <= 0 or sock is None or self._selector is None:
                return False
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if self.client.want_write() else 0)
            self._selector.modify(sock, events)
            for _key, ready in self._selector.select(min(remaining, 1.0)):
                if ready & selectors.EVENT_READ and self.client.loop_read(100) != mqtt.MQTT_ERR_SUCCESS:
                    return done()
                if ready & selectors.EVENT_WRITE:
                    self.client.loop_write()
            self.client.loop_misc()
        return True

    def open(self) -> MqttPublisher:
        try:
            self.client.connect(self.url.host, self.url.port, keepalive=30)
        except OSError as exc:
            raise BrokerUnavailable(
                f"Không kết nối được máy chủ MQTT {self.url.host}:{self.url.port}: {exc}"
            ) from exc
        self._selector = selectors.DefaultSelector()
        sock = self.client.socket()
        assert sock is not None
        self._selector.register(sock, selectors.EVENT_READ)
        self._open = True
        if not self._pump(lambda: self._connected, self.timeout) or self._refused:
            self.close()
            raise BrokerUnavailable(
                f"Máy chủ MQTT {self.url.host}:{self.url.port} không nhận kết nối: "
                f"{self._refused or 'hết thời gian chờ'}. Kiểm tra tài khoản trong LOAXA_MQTT_URL."
            )
        return self

    def close(self) -> None:
        if self._open:
            self.client.disconnect()
            self._pump(lambda: self.client.socket() is None or not self.client.want_write(), 1.0)
            if self._selector is not None:
                self._selector.close()
                self._selector = None
            self._open = False

    def __enter__(self) -> MqttPublisher:
        return self.open()

    def __exit__(self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None) -> None:
        self.close()

    def publish_many(self, messages: Iterable[Message]) -> list[bool]:
        """Send all, then wait for the acknowledgements; one flag per message, in order."""
        infos = [self.client.publish(m.topic, m.payload, qos=m.qos, retain=m.retain) for m in messages]
        if not self._pump(lambda: all(info.is_published() for info in infos), self.timeout):
            missing = sum(1 for info in infos if not info.is_published())
            log.warning("Máy chủ MQTT chưa xác nhận %d/%d tin sau %.0f giây.", missing, len(infos), self.timeout)
        return [info.is_published() for info in infos]

    def publish(self, message: Message) -> bool:
        return self.publish_many([message])[0]
