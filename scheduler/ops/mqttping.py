"""A one-shot MQTT 3.1.1 CONNECT/CONNACK exchange: is the broker up and does it accept our login?

Plain sockets with a hard timeout, so a health probe never hangs on a network client's retries.
"""

from __future__ import annotations

import os
import socket
import ssl
import struct
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

CONNACK_CODES = {
    0: "chấp nhận",
    1: "máy chủ không hỗ trợ MQTT 3.1.1",
    2: "mã client bị từ chối",
    3: "máy chủ MQTT tạm thời không phục vụ",
    4: "sai tên đăng nhập hoặc mật khẩu MQTT",
    5: "tài khoản MQTT không được phép kết nối",
}


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None

    @property
    def display(self) -> str:
        """host:port without credentials, safe to show."""
        return f"{self.host}:{self.port}"


def parse_mqtt_url(url: str) -> BrokerAddress:
    """mqtt://user:password@host:1883 or mqtts://…:8883; ValueError (Vietnamese) otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
        raise ValueError("LOAXA_MQTT_URL phải có dạng mqtt://tên:mật_khẩu@máy_chủ:1883 (hoặc mqtts:// cho TLS).")
    tls = parts.scheme in ("mqtts", "ssl")
    return BrokerAddress(
        host=parts.hostname,
        port=parts.port or (8883 if tls else 1883),
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def _string(value: str) -> bytes:
    data = value.encode("utf-8")
    return struct.pack("!H", len(data)) + data


def _remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def connect_packet(client_id: str, username: str | None, password: str | None, keepalive: int = 10) -> bytes:
    flags = 0x02  # clean session: a probe leaves nothing behind on the broker
    payload = _string(client_id)
    if username is not None:
        flags |= 0x80
        payload += _string(username)
        if password is not None:
            flags |= 0x40
            payload += _string(password)
    variable = _string("MQTT") + bytes([4, flags]) + struct.pack("!H", keepalive)
    body = variable + payload
    return bytes([0x10]) + _remaining_length(len(body)) + body


def _read_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        data += chunk
    return data


def ping(address: BrokerAddress, timeout: float = 2.0) -> int:
    """Send CONNECT, return the CONNACK return code (0 = accepted); OSError on network failure."""
    client_id = f"loaxa-hc-{os.getpid() % 100000}-{os.urandom(3).hex()}"  # <= 23 chars (MQTT 3.1.1)
    with socket.create_connection((address.host, address.port), timeout=timeout) as raw:
        raw.settimeout(timeout)
        sock: socket.socket = (
            ssl.create_default_context().wrap_socket(raw, server_hostname=address.host) if address.tls else raw
        )
        sock.sendall(connect_packet(client_id, address.username, address.password))
        header = _read_exact(sock, 4)
        if header[0] != 0x20 or header[1] != 0x02:
            raise ConnectionError(f"unexpected reply {header.hex()} instead of CONNACK")
        code = header[3]
        if code == 0:
            sock.sendall(b"\xe0\x00")  # DISCONNECT, so the broker logs a clean exit
        return code
