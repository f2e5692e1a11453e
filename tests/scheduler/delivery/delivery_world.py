"""Building blocks for delivery tests: real MP3s, stations with tokens, programmes, a live HTTP server,
and private Mosquitto brokers. Imported by the delivery, agent, API and soak tests.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import socket
import subprocess
import threading
import time as time_mod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from werkzeug.serving import BaseWSGIServer, make_server

from scheduler.accounts import issue_station_token
from scheduler.db.models import AudioAsset, Commune, Programme, ProgrammeItem, Province, Station
from scheduler.settings import Settings
from tests.openapi_check import CheckedWsgi

_MP3_CACHE: dict[tuple[float, int, str], bytes] = {}


def make_mp3(seconds: float, freq: int = 440, bitrate: str = "64k") -> bytes:
    """A real MP3 tone made by ffmpeg (cached per shape for the test run)."""
    key = (seconds, freq, bitrate)
    if key not in _MP3_CACHE:
        import imageio_ffmpeg

        done = subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
             f"sine=frequency={freq}:duration={seconds}", "-ac", "1", "-ar", "24000", "-c:a", "libmp3lame",
             "-b:a", bitrate, "-f", "mp3", "pipe:1"],
            capture_output=True, check=True, timeout=120,
        )
        _MP3_CACHE[key] = done.stdout
    return _MP3_CACHE[key]


def add_asset(session: Session, media_dir: Path, data: bytes, now: datetime, duration_ms: int) -> AudioAsset:
    sha = hashlib.sha256(data).hexdigest()
    name = f"audio/{sha}.mp3"
    (media_dir / "audio").mkdir(parents=True, exist_ok=True)
    (media_dir / name).write_bytes(data)
    asset = AudioAsset(sha256=sha, file_name=name, duration_ms=duration_ms, engine="test", created_at=now,
                       warnings=[])
    session.add(asset)
    session.flush()
    return asset


def add_station(session: Session, code: str, now: datetime, commune: str = "Xã Ia Dêr",
                province: str = "Gia Lai") -> tuple[Station, str]:
    """A station (creating its commune/province if needed) with a fresh token; returns (station, token)."""
    prov = session.query(Province).filter_by(name=province).one_or_none()
    if prov is None:
        prov = Province(name=province, policy={})
        session.add(prov)
        session.flush()
    comm = session.query(Commune).filter_by(name=commune, province_id=prov.id).one_or_none()
    if comm is None:
        comm = Commune(name=commune, province_id=prov.id, policy={})
        session.add(comm)
        session.flush()
    station = Station(code=code, name=f"Cụm loa {code}", commune=comm, status={})
    session.add(station)
    token = issue_station_token(station, now)
    session.flush()
    return station, token


@dataclass(frozen=True)
class ItemSpec:
    start: datetime
    asset: AudioAsset | None = None
    kind: str = "bulletin"
    title: str = "Tuyên truyền cải cách hành chính"
    seconds: float | None = None  # slot length when there is no asset (relays)
    stream_url: str | None = None
    bulletin: str | None = "CCHC-01"


def add_programme(session: Session, station: Station, week: str, items: Sequence[ItemSpec], now: datetime,
                  version: int = 1) -> Programme:
    programme = Programme(station=station, week=week, version=version, built_at=now, content_hash="")
    session.add(programme)
    set_items(programme, items)
    session.flush()
    return programme


def set_items(programme: Programme, items: Sequence[ItemSpec]) -> None:
    """Replace the programme's items and recompute its content hash (the version is the caller's)."""
    programme.items.clear()
    parts = []
    for spec in items:
        duration_ms = spec.asset.duration_ms if spec.asset else int((spec.seconds or 60) * 1000)
        end = spec.start + timedelta(milliseconds=duration_ms)
        programme.items.append(ProgrammeItem(
            start=spec.start, end=end, kind=spec.kind, bulletin_code=spec.bulletin if spec.asset else None,
            title=spec.title, topic="cchc", language="vi", priority="khan_cap" if spec.kind == "emergency" else "thuong",
            audio_sha256=spec.asset.sha256 if spec.asset else None, duration_ms=duration_ms,
            stream_url=spec.stream_url,
        ))
        parts.append(f"{spec.start.isoformat()}|{spec.asset.sha256 if spec.asset else spec.stream_url}")
    programme.content_hash = hashlib.sha256("\n".join(parts).encode()).hexdigest()


class ServerThread:
    """The real Flask app behind werkzeug's threaded server on 127.0.0.1:<free port>."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime], port: int = 0) -> None:
        from web.app import create_app

        self.app = create_app(settings, clock=clock, testing=False)
        # Every station-API answer the agents get is checked against the published OpenAPI document.
        self.checked = CheckedWsgi(self.app.wsgi_app)
        self.app.wsgi_app = self.checked  # type: ignore[method-assign]
        self.server: BaseWSGIServer = make_server("127.0.0.1", port, self.app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        # The manifest's audio URLs and notices name the public address: make it this server.
        self.app.extensions["loaxa"]["settings"] = replace(settings, public_url=self.url)
        self.settings: Settings = self.app.extensions["loaxa"]["settings"]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ServerThread:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.app.extensions["loaxa"]["engine"].dispose()
        if exc[0] is None:
            assert self.checked.problems == [], "answers that stray from /api/v1/openapi.json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time_mod.monotonic() + timeout
    while time_mod.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time_mod.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, step: float = 0.05) -> Any:
    """Poll until `condition()` is truthy (a test timeout, not a timing assertion)."""
    deadline = time_mod.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time_mod.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time_mod.sleep(step)


class Broker:
    """A private Mosquitto on its own port (config in `directory`); start/kill at will."""

    def __init__(self, directory: Path, port: int | None = None, extra_conf: Sequence[str] = ()) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.extra = list(extra_conf)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> Broker:
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        conf = self.directory / f"mosquitto-{self.port}.conf"
        lines = [f"listener {self.port} 127.0.0.1", "persistence false"] + (self.extra or ["allow_anonymous true"])
        if os.geteuid() == 0:
            lines.append("user root")  # else it drops to `mosquitto`, who cannot read pytest's private tmp dirs
        conf.write_text("\n".join(lines) + "\n")
        log = open(self.directory / f"mosquitto-{self.port}.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen([exe, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_port(self.port)
        except TimeoutError:
            self.kill()
            raise AssertionError((self.directory / f"mosquitto-{self.port}.log").read_text()) from None
        return self

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def __enter__(self) -> Broker:
        return self.start()

    def __exit__(self, *_exc: Any) -> None:
        self.kill()


@contextlib.contextmanager
def subscriber(url: str, topics: Sequence[str], username: str | None = None,
               password: str | None = None) -> Iterator[list[tuple[str, bytes, bool]]]:
    """Collect (topic, payload, retained) for `topics` from a real broker while the block runs."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from scheduler.wire import parse_mqtt_url

    parsed = parse_mqtt_url(url)
    received: list[tuple[str, bytes, bool]] = []
    subscribed = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    if username:
        client.username_pw_set(username, password)
    client.on_connect = lambda c, *_: c.subscribe([(t, 1) for t in topics])
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = lambda _c, _u, m: received.append((m.topic, bytes(m.payload), bool(m.retain)))
    client.connect(parsed.host, parsed.port)
    client.loop_start()
    try:
        if not subscribed.wait(10):
            raise AssertionError("subscription not acknowledged")
        yield received
    finally:
        client.disconnect()
        client.loop_stop()
