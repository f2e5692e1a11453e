"""Live broadcast latency: mouth to loudspeaker on loopback (target ≤ 5 s).

loaxa path (what Phát trực tiếp does): a "microphone" writes PCM in real time — silence, then a 1 s
660 Hz burst every 3 s — into ffmpeg (Opus in WebM, as Chromium's MediaRecorder makes), whose output
is POSTed every 250 ms to `loaxa serve` (/truc-tiep/<id>/am-thanh, logged in as an approver, CSRF on)
→ the server's ffmpeg → a private Icecast (scripts/icecast.sh) → a real `loaxa agent` told over a
private Mosquitto, whose player is ffmpeg decoding the mount into a FIFO read here. Latency = when a
burst's first PCM frame reached this process through the FIFO − when it was written to the mic.

Baseline, side by side: the same microphone into one ffmpeg that encodes MP3 straight to the same
Icecast, and one ffmpeg listener decoding into a FIFO — the floor of Icecast and the codecs with no
browser chunking, no loaxa hop and no agent. (A real loudspeaker adds its sound card's buffer.)

Usage: python benchmarks/bench_live.py [--bursts 10]. Figures: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import secrets
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RATE = 16000
FRAME = 320  # 20 ms
TONE_HZ = 660.0
PASSWORD = "mat-khau-bench-2026"
LOAXA = [str(Path(sys.executable).with_name("loaxa"))] if Path(sys.executable).with_name("loaxa").exists() \
    else [sys.executable, "-m", "web.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


def ffmpeg() -> str:
    from audio.ffmpeg import ffmpeg_exe

    return ffmpeg_exe()


@contextlib.contextmanager
def icecast(workdir: Path) -> Iterator[tuple[str, str]]:
    port, password = free_port(), secrets.token_hex(8)
    script = str(ROOT / "scripts" / "icecast.sh")
    args = ["--port", str(port), "--dir", str(workdir / "icecast"), "--password", password]
    subprocess.run([script, "start", *args], check=True, capture_output=True)
    try:
        yield f"http://source:{password}@127.0.0.1:{port}", f"http://127.0.0.1:{port}"
    finally:
        subprocess.run([script, "stop", *args], check=False, capture_output=True)


@contextlib.contextmanager
def mosquitto(workdir: Path) -> Iterator[str]:
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = free_port()
    conf = workdir / "mosquitto.conf"
    lines = [f"listener {port} 127.0.0.1", "persistence false", "allow_anonymous true"]
    if os.geteuid() == 0:
        lines.append("user root")
    conf.write_text("\n".join(lines) + "\n")
    proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait()


class Mic:
    """Writes PCM in real time to `sink` (a pipe): silence, and 1 s bursts every 3 s once `go` is set;
    `onsets` are the wall-clock instants each burst's first frame was written."""

    def __init__(self, sink: object, bursts: int) -> None:
        self.sink = sink
        self.bursts = bursts
        self.onsets: list[float] = []
        self.go = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        silence = b"\0\0" * FRAME
        n, started, burst_frame = 0, time.monotonic(), -1
        while len(self.onsets) < self.bursts or (burst_frame >= 0 and n - burst_frame < 150):
            due = started + n * FRAME / RATE
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if self.go.is_set() and (burst_frame < 0 or n - burst_frame >= 150):  # every 3 s
                burst_frame = n
                self.onsets.append(time.time())
            in_burst = burst_frame >= 0 and n - burst_frame < 50  # 1 s of tone
            frame = b"".join(struct.pack("<h", int(12000 * math.sin(2 * math.pi * TONE_HZ * (i + n * FRAME) / RATE)))
                             for i in range(FRAME)) if in_burst else silence
            try:
                self.sink.write(frame)  # type: ignore[attr-defined]
                self.sink.flush()  # type: ignore[attr-defined]
            except (BrokenPipeError, ValueError):
                break
            n += 1
        self.done.set()


class Ear:
    """Reads decoded PCM from a FIFO and stamps when each loud stretch begins after a quiet one."""

    def __init__(self, fifo: Path) -> None:
        self.fifo = fifo
        self.onsets: list[float] = []
        self.first_byte = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        quiet = 0
        with open(self.fifo, "rb", buffering=0) as source:
            while True:
                block = source.read(FRAME * 2)
                if not block:
                    return
                self.first_byte.set()
                now = time.time()
                samples = struct.unpack(f"<{len(block) // 2}h", block[: len(block) // 2 * 2])
                loud = max((abs(s) for s in samples), default=0) > 3000
                if loud and quiet >= 25:  # 0.5 s of quiet before: a new burst
                    self.onsets.append(now)
                quiet = 0 if loud else quiet + 1


def latencies(mic: Mic, ear: Ear) -> list[float]:
    """Pair the k-th microphone burst with the k-th loudspeaker onset. The ear hears nothing loud before the
    first burst (the mic is silent until then), and every burst must be heard once, so the pairing cannot
    slip by a burst even if the latency were longer than the 3 s between bursts."""
    if len(ear.onsets) != len(mic.onsets):
        raise SystemExit(f"heard {len(ear.onsets)} bursts for {len(mic.onsets)} spoken: {ear.onsets} {mic.onsets}")
    return [e - m for m, e in zip(mic.onsets, ear.onsets, strict=True)]


def baseline(ice_source: str, ice_listen: str, workdir: Path, bursts: int) -> list[float]:
    fifo = workdir / "baseline.pcm"
    os.mkfifo(fifo)
    mount = "/baseline.mp3"
    user_pass_host = ice_source.split("://", 1)[1]
    encoder = subprocess.Popen([ffmpeg(), "-hide_banner", "-loglevel", "error", "-f", "s16le", "-ar", str(RATE),
                                "-ac", "1", "-i", "pipe:0", "-c:a", "libmp3lame", "-b:a", "64k", "-flush_packets", "1",
                                "-content_type", "audio/mpeg", "-f", "mp3", f"icecast://{user_pass_host}{mount}"],
                               stdin=subprocess.PIPE)
    mic = Mic(encoder.stdin, bursts)
    time.sleep(2)
    listener = subprocess.Popen(["sh", "-c", f'exec "$0" -nostdin -loglevel error -i "$1" -ac 1 -ar {RATE} '
                                 f'-f s16le - > "$2"', ffmpeg(), f"{ice_listen}{mount}", str(fifo)])
    ear = Ear(fifo)
    ear.first_byte.wait(30)
    time.sleep(1)
    mic.go.set()
    mic.done.wait(bursts * 3 + 30)
    time.sleep(5)
    for proc in (listener, encoder):
        proc.kill()
        proc.wait()
    return latencies(mic, ear)


def seed(database_url: str, now: datetime) -> str:
    from scheduler.accounts import hash_password, issue_station_token
    from scheduler.db.models import Commune, Province, Station, User
    from scheduler.db.session import make_engine, make_session_factory, transaction, upgrade_schema

    engine = make_engine(database_url)
    upgrade_schema(engine)
    with transaction(make_session_factory(engine)) as s:
        province = Province(name="Gia Lai", policy={})
        s.add(province)
        s.flush()
        commune = Commune(name="Xã Ia Dêr", province_id=province.id, policy={})
        s.add(commune)
        s.flush()
        station = Station(code="BM-LIVE", name="Cụm loa đo độ trễ", commune=commune, status={}, languages="vi")
        s.add(station)
        token = issue_station_token(station, now)
        s.add(User(username="duyet", full_name="Người duyệt", role="approver", password_hash=hash_password(PASSWORD),
                   created_at=now))
    engine.dispose()
    return token


def log_in(base: str) -> tuple[requests.Session, str]:
    http = requests.Session()
    form = http.get(f"{base}/dang-nhap").text
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form) or re.search(r'content="([^"]+)"', form)
    assert csrf is not None
    http.post(f"{base}/dang-nhap", data={"username": "duyet", "password": PASSWORD, "csrf_token": csrf.group(1)})
    page = http.get(f"{base}/truc-tiep/").text
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert meta is not None, page[:500]
    return http, meta.group(1)


def loaxa_path(ice_source: str, workdir: Path, bursts: int) -> list[float]:
    port = free_port()
    database_url = f"sqlite:///{workdir / 'loaxa.sqlite3'}"
    token = seed(database_url, datetime.now(UTC))
    fifo = workdir / "station.pcm"
    os.mkfifo(fifo)
    procs: list[subprocess.Popen[bytes]] = []
    with mosquitto(workdir) as broker, open(workdir / "processes.log", "ab") as log:
        env = {**os.environ, "LOAXA_DATABASE_URL": database_url, "LOAXA_DATA_DIR": str(workdir),
               "LOAXA_MEDIA_DIR": str(workdir / "media"), "LOAXA_PUBLIC_URL": f"http://127.0.0.1:{port}",
               "LOAXA_MQTT_URL": broker, "LOAXA_ICECAST_URL": ice_source}
        try:
            procs.append(subprocess.Popen([*LOAXA, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                                          stdout=log, stderr=subprocess.STDOUT))
            wait_port(port)
            player = f"sh -c 'exec \"$0\" -nostdin -loglevel error -i \"$1\" -ac 1 -ar {RATE} -f s16le - > \"$2\"' " \
                     f"{ffmpeg()} {{source}} {fifo}"
            procs.append(subprocess.Popen([*LOAXA, "agent", "--server", f"http://127.0.0.1:{port}", "--station",
                                           "BM-LIVE", "--token", token, "--cache", str(workdir / "cache"), "--mqtt",
                                           broker, "--player", "custom", "--player-cmd", player], env=env,
                                          stdout=log, stderr=subprocess.STDOUT))
            time.sleep(3)  # the box connects to the broker
            base = f"http://127.0.0.1:{port}"
            http, csrf = log_in(base)
            started = http.post(f"{base}/truc-tiep/bat-dau", json={"title": "Đo độ trễ", "targets": ["BM-LIVE"]},
                                headers={"X-CSRFToken": csrf}).json()
            assert started.get("ok"), started
            encoder = subprocess.Popen([ffmpeg(), "-hide_banner", "-loglevel", "error", "-f", "s16le", "-ar", str(RATE),
                                        "-ac", "1", "-i", "pipe:0", "-c:a", "libopus", "-b:a", "48k",
                                        "-frame_duration", "20", "-cluster_time_limit", "250", "-f", "webm",
                                        "-live", "1", "pipe:1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            procs.append(encoder)
            mic = Mic(encoder.stdin, bursts)
            ear = Ear(fifo)
            chunks: list[bytes] = []
            lock = threading.Lock()

            def read_encoder() -> None:
                assert encoder.stdout is not None
                while data := encoder.stdout.read1(65536):  # type: ignore[attr-defined]
                    with lock:
                        chunks.append(data)

            threading.Thread(target=read_encoder, daemon=True).start()
            seq, deadline = 0, time.monotonic() + bursts * 3 + 60
            while time.monotonic() < deadline and not mic.done.is_set():
                time.sleep(0.25)  # MediaRecorder's timeslice on the page
                with lock:
                    body, chunks[:] = b"".join(chunks), []
                if body:
                    http.post(f"{base}/truc-tiep/{started['id']}/am-thanh?seq={seq}", data=body,
                              headers={"X-CSRFToken": csrf, "Content-Type": "application/octet-stream"})
                    seq += 1
                if ear.first_byte.is_set() and not mic.go.is_set():
                    time.sleep(1)
                    mic.go.set()
            time.sleep(5)
            http.post(f"{base}/truc-tiep/{started['id']}/dung", json={}, headers={"X-CSRFToken": csrf})
            return latencies(mic, ear)
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()


def describe(name: str, values: list[float], bursts: int) -> str:
    if not values:
        return f"{name}: no burst heard of {bursts}"
    ordered = sorted(values)
    p50 = statistics.median(ordered)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return (f"{name}: {len(values)}/{bursts} bursts heard; p50 {p50:.2f} s, p90 {p90:.2f} s, "
            f"max {ordered[-1]:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bursts", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="loaxa-bench-live-") as tmp:
        workdir = Path(tmp)
        os.chmod(workdir, 0o755)
        with icecast(workdir) as (ice_source, ice_listen):
            base = baseline(ice_source, ice_listen, workdir, args.bursts)
            live = loaxa_path(ice_source, workdir, args.bursts)
    print(describe("baseline (mic → ffmpeg → Icecast → ffmpeg)", base, args.bursts))
    print(describe("loaxa (mic → WebM chunks → loaxa → Icecast → agent's player)", live, args.bursts))
    if base and live:
        print(f"ratio loaxa/baseline (p50): {statistics.median(live) / statistics.median(base):.2f}")


if __name__ == "__main__":
    main()
