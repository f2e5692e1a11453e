"""Fixtures for the audio tests: real sounds made with ffmpeg, local stand-ins for the online engines.

No test may reach the Internet: every socket connection to a non-loopback address fails loudly.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sound_tools import ffmpeg
from tts_fakes import EdgeServer, GttsServer

# Copies of ../shared/seeds, kept in the repository so the suite runs from any clone.
SEEDS = Path(__file__).resolve().parents[1] / "data" / "seeds"


LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")


def _is_local(host: object) -> bool:
    name = host.decode() if isinstance(host, bytes) else str(host)
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return name in LOCAL_NAMES


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse to resolve or connect to anything but this machine (the real Google/Bing hosts included).

    AssertionError rather than OSError, so that no engine can mistake it for an outage and
    quietly fall back: a test that strays off 127.0.0.1 fails.
    """
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def refuse(target: object) -> AssertionError:
        return AssertionError(f"test tried to reach {target!r}: tests must stay on 127.0.0.1")

    def check(sock: socket.socket, address: Any) -> None:
        inet = sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple)
        if inet and not _is_local(address[0]):
            raise refuse(address)

    def connect(sock: socket.socket, address: Any) -> None:
        check(sock, address)
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        check(sock, address)
        return real_connect_ex(sock, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not _is_local(host):
            raise refuse(host)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(scope="session")
def tone_mp3() -> bytes:
    """Real MP3 bytes (a 0.8 s tone) that the fake online servers answer with."""
    made: bytes = ffmpeg(
        "-v", "error", "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=24000:duration=0.8",
        "-af", "volume=-10dB", "-ac", "1", "-c:a", "libmp3lame", "-b:a", "48k", "-f", "mp3", "pipe:1",
    ).stdout  # fmt: skip
    return made


@pytest.fixture
def gtts_server(tone_mp3: bytes) -> Iterator[GttsServer]:
    server = GttsServer(tone_mp3)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def edge_server(tone_mp3: bytes) -> Iterator[EdgeServer]:
    server = EdgeServer(tone_mp3)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL on which nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def seed_paragraph() -> str:
    """The longest paragraph of a real provincial plan (seed 000): dates, numbers, document codes."""
    seed = SEEDS / "000_08618c959fe94d34.txt"
    paragraphs = seed.read_text(encoding="utf-8").split("\n\n")
    return max((p.strip() for p in paragraphs), key=len)
