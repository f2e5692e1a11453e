"""Player backends: ffplay, mpv, aplay (audio decoded by ffmpeg), a custom command, and `null`.

A player plays one source at a time. `poll()` says whether it is still playing, finished, or
failed (with a Vietnamese reason). The null player "plays" for the item's length on the injected
clock, for simulation and tests.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

PLAYER_NAMES: tuple[str, ...] = ("ffplay", "mpv", "aplay", "custom", "null")

State = Literal["playing", "done", "failed"]


@dataclass(frozen=True)
class PlayerStatus:
    state: State
    error: str = ""


class Player(Protocol):
    name: str

    def start(self, source: str, duration_ms: int, volume: int) -> None: ...

    def poll(self) -> PlayerStatus: ...

    def stop(self) -> None: ...


class NullPlayer:
    """Plays nothing for exactly `duration_ms` of the injected clock."""

    name = "null"

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.until: datetime | None = None
        self.started: list[tuple[str, int, int]] = []  # (source, duration_ms, volume): for inspection

    def start(self, source: str, duration_ms: int, volume: int) -> None:
        self.until = self.clock() + timedelta(milliseconds=duration_ms)
        self.started.append((source, duration_ms, volume))

    def poll(self) -> PlayerStatus:
        if self.until is None or self.clock() >= self.until:
            self.until = None
            return PlayerStatus("done")
        return PlayerStatus("playing")

    def stop(self) -> None:
        self.until = None


class ProcessPlayer:
    """Runs one external command per item in its own process group, so stop() ends all of it."""

    def __init__(self, name: str, argv: Callable[[str, int], Sequence[str]]) -> None:
        self.name = name
        self._argv = argv
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: tempfile._TemporaryFileWrapper[bytes] | None = None
        self._failure = ""

    def start(self, source: str, duration_ms: int, volume: int) -> None:
        self.stop()
        self._stderr = tempfile.NamedTemporaryFile(prefix="loaxa-player-", suffix=".log")  # noqa: SIM115
        argv = list(self._argv(source, volume))
        try:
            self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                          stderr=self._stderr, start_new_session=True)
        except OSError as exc:
            self._proc = None
            self._failure = f"Không chạy được trình phát {self.name} ({argv[0]}): {exc}"
            return
        self._failure = ""

    def poll(self) -> PlayerStatus:
        if self._proc is None:
            if self._failure:
                message, self._failure = self._failure, ""
                return PlayerStatus("failed", message)
            return PlayerStatus("done")
        code = self._proc.poll()
        if code is None:
            return PlayerStatus("playing")
        self._proc = None
        if code == 0:
            return PlayerStatus("done")
        return PlayerStatus("failed", f"Trình phát {self.name} dừng với mã lỗi {code}: {self._stderr_tail()}")

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.flush()
        with open(self._stderr.name, "rb") as fh:
            lines = fh.read().decode("utf-8", "replace").strip().splitlines()
        return " | ".join(lines[-3:])

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=3)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=3)


def _require(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        raise ValueError(
            f"Không tìm thấy chương trình «{program}» trên máy. Cài đặt nó (ví dụ: apt install {program}) "
            "hoặc chọn trình phát khác bằng --player."
        )
    return found


def make_player(name: str, clock: Callable[[], datetime], command: str | None = None,
                ffmpeg: str | None = None) -> Player:
    """Build a backend by name; raise ValueError (Vietnamese) when its program is missing."""
    if name == "null":
        return NullPlayer(clock)
    if name == "ffplay":
        exe = _require("ffplay")
        return ProcessPlayer(name, lambda src, vol: [exe, "-nodisp", "-autoexit", "-loglevel", "error",
                                                     "-volume", str(vol), src])
    if name == "mpv":
        exe = _require("mpv")
        return ProcessPlayer(name, lambda src, vol: [exe, "--no-video", "--really-quiet", f"--volume={vol}",
                                                     src])
    if name == "aplay":
        aplay = _require("aplay")
        decoder = ffmpeg or _require("ffmpeg")
        # aplay only takes PCM/WAV: ffmpeg decodes (and sets the volume), aplay plays.
        script = 'exec "$1" -nostdin -v error -i "$2" -af "volume=$3" -f wav - | "$4" -q'
        return ProcessPlayer(name, lambda src, vol: ["sh", "-c", script, "sh", decoder, src,
                                                     f"{vol / 100:.2f}", aplay])
    if name == "custom":
        if not command:
            raise ValueError("Trình phát «custom» cần --player-cmd, ví dụ: "
                             "--player-cmd 'cvlc --play-and-exit {source}'.")
        template = shlex.split(command)
        return ProcessPlayer(name, lambda src, vol: [a.replace("{source}", src).replace("{volume}", str(vol))
                                                     for a in template])
    raise ValueError(f"Trình phát «{name}» không có; chọn một trong: {', '.join(PLAYER_NAMES)}.")
