"""Player backends: ffplay, mpv, aplay (audio decoded by ffmpeg), a custom command, and `null`.

A player plays one source at a time. `poll()` says whether it is still playing, finished, or
failed (with a Vietnamese reason). The null player "plays" for the item's length on the injected
clock, for simulation and tests.

`prepare(source, volume)` readies the next item before its start: a real player takes about a second
to load and open its sound output (1.4 s for mpv on a busy 2-core box), so the process is started
then. mpv loads the file (or joins the stream), opens its sound output and waits paused; `start()`
unpauses it over its IPC connection (a socket pair handed to it at launch: nothing to wait for or
connect to, and an mpv whose agent is gone quits). ffplay and aplay (and an mpv without
`--input-ipc-client`) read their file through a FIFO that `start()` fills: at the start only the
audio flows, but the player still probes, decodes and opens its output then (mpv: 20 ms p50, 160 ms
p99 on a busy box, against about 5 ms from unpausing).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal, Protocol

PLAYER_NAMES: tuple[str, ...] = ("ffplay", "mpv", "aplay", "custom", "null")

State = Literal["playing", "done", "failed"]


@dataclass(frozen=True)
class PlayerStatus:
    state: State
    error: str = ""


class Player(Protocol):
    name: str

    def prepare(self, source: str, volume: int) -> None: ...

    def cancel(self) -> None: ...

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

    def prepare(self, source: str, volume: int) -> None:
        pass

    def cancel(self) -> None:
        pass

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


UNPAUSE = b'{"command": ["set_property", "pause", false]}\n'
QUIET = b'{"command": ["disable_event", "all"]}\n'  # no event piles up unread on the connection
PausedArgv = Callable[[str, int, int], Sequence[str]]  # (source, volume, IPC fd) -> a paused player's command


@dataclass
class _Primed:
    """A player process started ahead of its item: paused with its source loaded (`control`: its IPC
    connection), or waiting on a FIFO for the item's file (`fifo`)."""

    source: str
    volume: int
    proc: subprocess.Popen[bytes]
    stderr: tempfile._TemporaryFileWrapper[bytes]
    fifo: Path | None = None
    control: socket.socket | None = None

    def end(self) -> None:
        _end(self.proc)
        self.stderr.close()
        if self.fifo is not None:
            _remove_fifo(self.fifo)
        if self.control is not None:
            self.control.close()


def _feed(source: str, primed: _Primed) -> None:
    """Copy the file into the primed player's FIFO (until it is read whole or the player is gone)."""
    assert primed.fifo is not None
    try:
        while True:
            try:
                fd = os.open(primed.fifo, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError as exc:  # ENXIO: the player has not opened its input yet
                if exc.errno != errno.ENXIO or primed.proc.poll() is not None:
                    return
                time.sleep(0.005)
        os.set_blocking(fd, True)
        with open(source, "rb") as src, os.fdopen(fd, "wb") as out:
            for block in iter(lambda: src.read(64 * 1024), b""):
                out.write(block)
    except OSError:  # BrokenPipeError: the player was stopped mid-item
        pass
    finally:
        _remove_fifo(primed.fifo)


def _remove_fifo(fifo: Path) -> None:
    fifo.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        fifo.parent.rmdir()


class ProcessPlayer:
    """Runs one external command per item in its own process group, so stop() ends all of it.

    A player that can wait paused (`paused`: its command with an IPC fd) or read its file through a
    FIFO (`primable`) is started by prepare() ahead of the item."""

    def __init__(self, name: str, argv: Callable[[str, int], Sequence[str]], primable: bool = False,
                 paused: PausedArgv | None = None) -> None:
        self.name = name
        self._argv = argv
        self._primable = primable
        self._paused = paused
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: tempfile._TemporaryFileWrapper[bytes] | None = None
        self._control: socket.socket | None = None  # the playing process's IPC connection: closing it ends mpv
        self._primed: _Primed | None = None
        self._failure = ""
        self._killed: list[subprocess.Popen[bytes]] = []  # stopped, not yet reaped

    def _spawn(self, argv: Sequence[str], pass_fds: Sequence[int] = (),
               ) -> tuple[subprocess.Popen[bytes] | None, tempfile._TemporaryFileWrapper[bytes], str]:
        stderr = tempfile.NamedTemporaryFile(prefix="loaxa-player-", suffix=".log")  # noqa: SIM115
        try:
            proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=stderr, start_new_session=True, pass_fds=pass_fds)
        except OSError as exc:
            return None, stderr, f"Không chạy được trình phát {self.name} ({argv[0]}): {exc}"
        return proc, stderr, ""

    def prepare(self, source: str, volume: int) -> None:
        """Start the player for `source` now, to play it when start() names it."""
        self.cancel()
        if self._paused is not None:
            self._primed = self._prepare_paused(source, volume, self._paused)
            return
        if not self._primable or not os.path.isfile(source):
            return  # a stream is joined at its start: only a paused player can wait on it
        fifo = Path(tempfile.mkdtemp(prefix="loaxa-next-")) / "audio"
        os.mkfifo(fifo)
        proc, stderr, failure = self._spawn(self._argv(str(fifo), volume))
        if proc is None:
            stderr.close()
            _remove_fifo(fifo)
            return  # start() spawns it again and reports the failure
        self._primed = _Primed(source, volume, proc, stderr, fifo=fifo)

    def _prepare_paused(self, source: str, volume: int, paused: PausedArgv) -> _Primed | None:
        ours, theirs = socket.socketpair()
        try:
            proc, stderr, failure = self._spawn(paused(source, volume, theirs.fileno()), pass_fds=(theirs.fileno(),))
        finally:
            theirs.close()
        if proc is None:
            stderr.close()
            ours.close()
            return None  # start() spawns it again and reports the failure
        ours.settimeout(1.0)
        with contextlib.suppress(OSError):
            ours.sendall(QUIET)
        return _Primed(source, volume, proc, stderr, control=ours)

    def cancel(self) -> None:
        """End a player prepared for an item that will not start now."""
        primed, self._primed = self._primed, None
        if primed is not None:
            primed.end()
        self._reap()

    def start(self, source: str, duration_ms: int, volume: int) -> None:
        self.stop()
        try:
            self._start(source, volume)
        finally:
            self._reap()  # the player stopped before, once the next sound is on its way

    def _start(self, source: str, volume: int) -> None:
        primed = self._primed
        if primed is not None and (primed.source, primed.volume) == (source, volume) and primed.proc.poll() is None:
            self._primed = None
            if primed.control is None:
                self._proc, self._stderr, self._failure = primed.proc, primed.stderr, ""
                threading.Thread(target=_feed, args=(source, primed), name="loaxa-player-feed", daemon=True).start()
                return
            try:
                primed.control.sendall(UNPAUSE)
            except OSError:  # its IPC connection is gone: started afresh below
                primed.end()
            else:
                self._proc, self._stderr, self._control, self._failure = (
                    primed.proc, primed.stderr, primed.control, "")
                return
        # Another source (an emergency, a relay joined late): the prepared player waits for its own item.
        self._proc, self._stderr, self._failure = self._spawn(self._argv(source, volume))

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
        self._close_control()
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

    def _close_control(self) -> None:
        control, self._control = self._control, None
        if control is not None:
            control.close()

    def stop(self) -> None:
        """Kill the playing process. It is reaped by the next start() (after the new sound is on its way:
        a killed mpv takes 10–40 ms to exit on a busy box), cancel() or prepare()."""
        proc, self._proc = self._proc, None
        if proc is not None:
            _kill(proc)
            self._killed.append(proc)
        self._close_control()

    def _reap(self) -> None:
        killed, self._killed = self._killed, []
        for proc in killed:
            proc.wait(timeout=10)


def _end(proc: subprocess.Popen[bytes]) -> None:
    _kill(proc)
    proc.wait(timeout=10)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """End a player's whole process group at once: a player cut off has nothing to save, and waiting
    for a graceful exit (SIGTERM: 50–120 ms for mpv on a busy box) would delay the next sound as much."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def _takes_ipc_client(mpv: str) -> bool:
    """Whether this mpv accepts `--input-ipc-client` (one too old for it reads its file through a FIFO)."""
    try:
        return subprocess.run([mpv, "--no-config", "--input-ipc-client=", "--version"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


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
                                                     "-volume", str(vol), src], primable=True)
    if name == "mpv":
        exe = _require("mpv")

        def mpv(src: str, vol: int, *extra: str) -> list[str]:
            return [exe, "--no-video", "--really-quiet", f"--volume={vol}", *extra, src]

        paused: PausedArgv | None = None
        if _takes_ipc_client(exe):
            def paused(src: str, vol: int, fd: int) -> list[str]:
                return mpv(src, vol, "--pause", f"--input-ipc-client=fd://{fd}")
        return ProcessPlayer(name, mpv, primable=True, paused=paused)
    if name == "aplay":
        aplay = _require("aplay")
        decoder = ffmpeg or _require("ffmpeg")
        # aplay only takes PCM/WAV: ffmpeg decodes (and sets the volume), aplay plays.
        script = 'exec "$1" -nostdin -v error -i "$2" -af "volume=$3" -f wav - | "$4" -q'
        return ProcessPlayer(name, lambda src, vol: ["sh", "-c", script, "sh", decoder, src,
                                                     f"{vol / 100:.2f}", aplay], primable=True)
    if name == "custom":
        if not command:
            raise ValueError("Trình phát «custom» cần --player-cmd, ví dụ: "
                             "--player-cmd 'cvlc --play-and-exit {source}'.")
        template = shlex.split(command)
        return ProcessPlayer(name, lambda src, vol: [a.replace("{source}", src).replace("{volume}", str(vol))
                                                     for a in template])
    raise ValueError(f"Trình phát «{name}» không có; chọn một trong: {', '.join(PLAYER_NAMES)}.")
