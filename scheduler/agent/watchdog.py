"""The stream watchdog: listens beside the player to a relay or live stream and says when it fails.

A stream *fails* when it cannot be opened, ends, stalls, or carries nothing but silence for
`silence` seconds. The agent then falls back (docs/agent.md, "Relay watchdog") and retries the
stream every `retry` seconds while its block lasts. The listening is done by ffmpeg's
`silencedetect` on a second connection to the stream: players (ffplay, mpv, a custom command)
cannot say whether what they play is silence.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

log = logging.getLogger("loaxa.agent.watchdog")

SILENCE_DB = -50  # quieter than this counts as silence (a live microphone's room noise is louder)
DEFAULT_SILENCE = timedelta(seconds=20)
DEFAULT_RETRY = timedelta(seconds=30)

Health = Literal["listening", "silent", "ended"]
_SILENCE_START = re.compile(r"silence_start:\s*(-?[\d.]+)")
_SILENCE_END = re.compile(r"silence_end:")
_CHATTER = ("[silencedetect", "[out#", "size=", "Input #", "Output #", "Stream #", "Stream mapping", "Duration:",
            "Metadata:", "Press [q]", "encoder", "  ")


@dataclass(frozen=True)
class WatchdogSettings:
    silence: timedelta = DEFAULT_SILENCE  # this long without sound (or data) and the stream has failed
    retry: timedelta = DEFAULT_RETRY  # wait this long after a failure before trying the stream again


def find_ffmpeg(configured: str | None = None) -> str | None:
    """The ffmpeg given (--ffmpeg), else the one on PATH; None means no silence watch (the agent says so)."""
    return configured or shutil.which("ffmpeg")


class StreamMonitor:
    """One ffmpeg process decoding `url` into nothing, watching for silence; `health()` never blocks."""

    def __init__(self, ffmpeg: str, url: str, silence: timedelta) -> None:
        seconds = max(silence.total_seconds(), 1.0)
        self.url = url
        self._lines: deque[str] = deque(maxlen=5)
        self._silent = False
        self._lock = threading.Lock()
        argv = [ffmpeg, "-nostdin", "-hide_banner", "-nostats", "-loglevel", "info"]
        if url.startswith(("http://", "https://")):
            # A stall (connected, no bytes) is silence too: give up reading after the same time.
            argv += ["-rw_timeout", str(int(seconds * 1_000_000))]
        argv += ["-i", url, "-vn", "-af", f"silencedetect=noise={SILENCE_DB}dB:d={seconds:g}", "-f", "null", "-"]
        self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, start_new_session=True)
        self._reader = threading.Thread(target=self._read, name="loaxa-stream-watch", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._proc.stderr is not None
        for raw in self._proc.stderr:
            line = raw.decode("utf-8", "replace").strip()
            with self._lock:
                if _SILENCE_START.search(line):
                    self._silent = True  # printed once the silence has lasted the whole `d`
                elif _SILENCE_END.search(line):
                    self._silent = False
                elif line and not line.startswith(_CHATTER):
                    self._lines.append(line)

    def health(self) -> Health:
        if self._proc.poll() is not None:
            self._reader.join(timeout=1)
            return "ended"
        with self._lock:
            return "silent" if self._silent else "listening"

    def reason(self) -> str:
        """Why the stream failed, in Vietnamese, with ffmpeg's last words when it ended."""
        state = self.health()
        if state == "silent":
            return "Luồng chỉ có im lặng"
        if self._proc.returncode == 0:
            return "Luồng bị ngắt (nguồn đã đóng kết nối)"
        with self._lock:
            tail = " | ".join(list(self._lines)[-2:])
        return "Luồng bị ngắt hoặc không mở được" + (f" ({tail[:300]})" if tail else "")

    def stop(self) -> None:
        if self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGTERM)
            try:
                self._proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait(timeout=3)
        self._reader.join(timeout=2)


MonitorFactory = Callable[[str], StreamMonitor | None]


def monitor_factory(settings: WatchdogSettings, ffmpeg: str | None = None) -> MonitorFactory:
    """Start a monitor per stream, or none (logged once) when no ffmpeg is on the box."""
    exe = find_ffmpeg(ffmpeg)
    if exe is None:
        log.warning("Không có ffmpeg trên đầu thu: không theo dõi được luồng tiếp sóng im lặng; "
                    "chỉ phát hiện khi trình phát dừng.")

    def start(url: str) -> StreamMonitor | None:
        if exe is None:
            return None
        try:
            return StreamMonitor(exe, url, settings.silence)
        except OSError as exc:
            log.error("Không chạy được ffmpeg để theo dõi luồng %s: %s", url, exc)
            return None

    return start
