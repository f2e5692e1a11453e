"""One live broadcast's ffmpeg: browser chunks in (stdin, in sequence order), the Icecast mount and a
recording out. Lives in the web process that started it (docs/live.md: one process serves /truc-tiep)."""

from __future__ import annotations

import contextlib
import logging
import subprocess
import threading
import time
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

import requests

from audio.ffmpeg import ffmpeg_exe

log = logging.getLogger("loaxa.live.feeder")

BITRATE = "64k"


class FeederError(RuntimeError):
    """The live audio could not be passed on (Vietnamese message)."""


def source_url(icecast_url: str, mount: str) -> str:
    """ffmpeg's icecast:// address for the mount, with the source credentials of LOAXA_ICECAST_URL."""
    parts = urlsplit(icecast_url)
    user = parts.username or "source"
    password = parts.password or ""
    return f"icecast://{user}:{password}@{parts.hostname}:{parts.port or 8000}{mount}"


def listen_url(icecast_url: str, public_url: str | None, mount: str) -> str:
    """Where stations listen: LOAXA_ICECAST_PUBLIC_URL, else LOAXA_ICECAST_URL without its credentials."""
    if public_url:
        return f"{public_url.rstrip('/')}{mount}"
    parts = urlsplit(icecast_url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port or 8000}{mount}"


def mount_on_air(icecast_url: str, mount: str, timeout: float = 1.0) -> bool:
    """Whether Icecast lists the mount as a live source (its status page, no credentials needed)."""
    parts = urlsplit(icecast_url)
    try:
        answer = requests.get(f"{parts.scheme}://{parts.hostname}:{parts.port or 8000}/status-json.xsl",
                              timeout=timeout)
        sources = answer.json().get("icestats", {}).get("source", [])
    except (requests.RequestException, ValueError, AttributeError):
        return False
    if isinstance(sources, dict):
        sources = [sources]
    return any(str(s.get("listenurl", "")).endswith(mount) for s in sources if isinstance(s, dict))


class LiveFeeder:
    """ffmpeg reading the browser's WebM from stdin; `write(seq, data)` takes chunks in any order."""

    def __init__(self, icecast_url: str, mount: str, recording: Path, title: str) -> None:
        recording.parent.mkdir(parents=True, exist_ok=True)
        self.mount = mount
        self.recording = recording
        self._next = 0
        self._waiting: dict[int, bytes] = {}
        self._lock = threading.Lock()
        self.received = 0
        self.last_chunk = time.monotonic()
        self._errors: deque[str] = deque(maxlen=4)
        argv = [
            ffmpeg_exe(), "-hide_banner", "-nostats", "-loglevel", "warning",
            "-fflags", "nobuffer", "-probesize", "4096", "-analyzeduration", "0", "-i", "pipe:0",
            "-map", "0:a", "-ac", "1", "-ar", "44100", "-c:a", "libmp3lame", "-b:a", BITRATE,
            "-flush_packets", "1", "-content_type", "audio/mpeg", "-ice_name", title[:200],
            "-f", "mp3", source_url(icecast_url, mount),
            "-map", "0:a", "-ac", "1", "-c:a", "libmp3lame", "-b:a", BITRATE, "-f", "mp3", "-y", str(recording),
        ]
        try:
            self._proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.PIPE, start_new_session=True)
        except OSError as exc:
            raise FeederError(f"Không chạy được ffmpeg để phát trực tiếp: {exc}") from exc
        self._reader = threading.Thread(target=self._read_errors, name="loaxa-live-ffmpeg", daemon=True)
        self._reader.start()

    def _read_errors(self) -> None:
        assert self._proc.stderr is not None
        for raw in self._proc.stderr:
            line = raw.decode("utf-8", "replace").strip()
            if line:
                self._errors.append(line)
                log.warning("ffmpeg (phát trực tiếp %s): %s", self.mount, line)

    def alive(self) -> bool:
        return self._proc.poll() is None

    def error(self) -> str:
        return " | ".join(self._errors)

    def write(self, seq: int, data: bytes) -> None:
        """Pass chunk `seq` on once every earlier one has been; FeederError if ffmpeg has gone."""
        with self._lock:
            if seq < self._next or seq in self._waiting:
                return  # a chunk sent twice (the browser retried)
            self._waiting[seq] = data
            self.last_chunk = time.monotonic()
            stdin = self._proc.stdin
            assert stdin is not None
            while self._next in self._waiting:
                chunk = self._waiting.pop(self._next)
                try:
                    stdin.write(chunk)
                    stdin.flush()
                except (BrokenPipeError, OSError, ValueError) as exc:
                    raise FeederError(f"ffmpeg đã dừng, không nhận thêm âm thanh ({self.error() or exc}).") from exc
                self.received += len(chunk)
                self._next += 1

    def close(self, timeout: float = 10.0) -> None:
        """End of input: ffmpeg finishes the recording and leaves the mount."""
        with self._lock:
            if self._proc.stdin is not None:
                with contextlib.suppress(OSError, ValueError):
                    self._proc.stdin.close()
        try:
            self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=5)
        self._reader.join(timeout=2)
