"""Real player processes (a shell copying what it plays, and mpv where installed): a player prepared ahead of
its item."""

from __future__ import annotations

import array
import contextlib
import http.server
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from delivery_world import wait_for

from audio.ffmpeg import ffmpeg_exe
from scheduler.agent.players import ProcessPlayer, make_player

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the players make their FIFOs (tempfile's folder), to see that none is left behind."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def copier(out: Path) -> ProcessPlayer:
    """A player that copies its source to `out` (its shell opens `out` the moment it is started)."""
    return ProcessPlayer("copy", lambda src, vol: ["sh", "-c", 'cat "$0" > "$1"', src, str(out)], primable=True)


def test_a_prepared_player_is_running_before_the_start_and_plays_the_whole_file_once_started(
        private_tmp: Path) -> None:
    audio, out = private_tmp / "item.mp3", private_tmp / "heard"
    audio.write_bytes(bytes(range(256)) * 1000)  # larger than a pipe's buffer
    player = copier(out)
    player.prepare(str(audio), 80)
    wait_for(out.exists, timeout=30)  # the process is up before its start...
    assert out.read_bytes() == b""  # ...and plays nothing until then
    player.start(str(audio), 1000, 80)
    wait_for(lambda: player.poll().state == "done", timeout=30)
    assert out.read_bytes() == audio.read_bytes()
    assert list(private_tmp.glob("loaxa-next-*")) == []


def test_a_prepared_player_waits_while_another_source_plays_and_is_ended_when_cancelled(private_tmp: Path) -> None:
    audio, warning, out = private_tmp / "item.mp3", private_tmp / "warning.mp3", private_tmp / "heard"
    audio.write_bytes(b"item")
    warning.write_bytes(b"warning")
    player = copier(out)
    player.prepare(str(audio), 80)
    wait_for(out.exists, timeout=30)
    player.start(str(warning), 1000, 80)  # an emergency first: started on its own
    wait_for(lambda: player.poll().state == "done", timeout=30)
    assert out.read_bytes() == b"warning"
    player.start(str(audio), 1000, 60)  # another volume than prepared: started afresh
    wait_for(lambda: player.poll().state == "done", timeout=30)
    assert out.read_bytes() == b"item"
    assert len(list(private_tmp.glob("loaxa-next-*"))) == 1  # the prepared one still waits
    player.cancel()
    assert list(private_tmp.glob("loaxa-next-*")) == []


def test_a_stream_is_never_prepared_ahead(private_tmp: Path) -> None:
    out = private_tmp / "heard"
    player = copier(out)
    player.prepare("http://127.0.0.1:9/vov1", 80)
    assert not out.exists() and list(private_tmp.glob("loaxa-next-*")) == []


# -- mpv, prepared paused: a real mpv whose sound output is a file (ao=pcm through its MPV_HOME) ---------


def processes_naming(path: Path) -> list[int]:
    """The live processes whose command line names `path` (a zombie's command line is empty)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            if str(path).encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
    return found


@pytest.fixture
def mpv_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder holding tone.mp3 (a 440 Hz tone), where mpv writes what it plays to heard.pcm."""
    if shutil.which("mpv") is None:
        pytest.skip("mpv is not installed on this machine (scripts/install-players.sh mpv)")
    home = tmp_path / "mpv"
    home.mkdir()
    (home / "mpv.conf").write_text(f"ao=pcm\nao-pcm-file={tmp_path / 'heard.pcm'}\nao-pcm-waveheader=no\n"
                                   "audio-format=s16\n")
    monkeypatch.setenv("MPV_HOME", str(home))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
                    "-af", "volume=4", "-c:a", "libmp3lame", "-b:a", "64k", str(tmp_path / "tone.mp3")], check=True)
    yield tmp_path
    for pid in processes_naming(tmp_path):  # left by a failing test
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def loudest(pcm: Path) -> int:
    samples = array.array("h", pcm.read_bytes())
    return max(map(abs, samples), default=0)


def test_a_prepared_mpv_has_its_sound_output_open_before_the_start_and_is_silent_until_then(mpv_home: Path) -> None:
    tone, heard = mpv_home / "tone.mp3", mpv_home / "heard.pcm"
    player = make_player("mpv", datetime.now)
    player.prepare(str(tone), 100)
    wait_for(heard.exists, timeout=30)  # file loaded and sound output open: at the start it only unpauses
    time.sleep(0.5)  # room to play early, which a paused player must not do
    assert heard.read_bytes() == b""
    player.start(str(tone), 1000, 100)
    wait_for(lambda: player.poll().state == "done", timeout=30)
    assert loudest(heard) > 10000
    assert processes_naming(mpv_home) == []


def test_a_stream_is_joined_paused_before_its_start_and_heard_once_started(mpv_home: Path) -> None:
    heard, requests = mpv_home / "heard.pcm", []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(mpv_home), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            requests.append(self.path)

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/tone.mp3"
        player = make_player("mpv", datetime.now)
        player.prepare(url, 100)
        wait_for(lambda: requests and heard.exists(), timeout=30)  # joined, its sound output open
        time.sleep(0.5)
        assert heard.read_bytes() == b""
        player.start(url, 1000, 100)
        wait_for(lambda: player.poll().state == "done", timeout=30)
        server.shutdown()
    assert loudest(heard) > 10000


def test_a_prepared_mpv_never_started_is_ended_when_cancelled(mpv_home: Path) -> None:
    player = make_player("mpv", datetime.now)
    player.prepare(str(mpv_home / "tone.mp3"), 100)
    wait_for(lambda: processes_naming(mpv_home), timeout=30)
    player.cancel()
    assert processes_naming(mpv_home) == []
    assert not (mpv_home / "heard.pcm").exists() or (mpv_home / "heard.pcm").read_bytes() == b""


def test_a_prepared_mpv_quits_when_its_agent_is_gone(mpv_home: Path) -> None:
    # An agent killed between preparing and starting (a crash, the watchdog) leaves no player waiting.
    script = ("import sys, tempfile, time; from datetime import datetime; from pathlib import Path\n"
              "from scheduler.agent.players import make_player\n"
              "tempfile.tempdir = sys.argv[1]\n"
              "player = make_player('mpv', datetime.now)\n"
              "player.prepare(sys.argv[1] + '/tone.mp3', 100)\n"
              "time.sleep(1)\n")
    subprocess.run([sys.executable, "-c", script, str(mpv_home)], check=True, cwd=ROOT)
    wait_for(lambda: processes_naming(mpv_home) == [], timeout=30)


def test_a_paused_player_whose_control_connection_is_gone_is_started_afresh(private_tmp: Path) -> None:
    audio, out = private_tmp / "item.mp3", private_tmp / "heard"
    audio.write_bytes(b"item")
    # A stand-in for mpv that drops its IPC connection, says so, and waits.
    gone = "import os, sys, time; os.close(int(sys.argv[1])); open(sys.argv[2] + '.gone', 'w'); time.sleep(60)"
    player = ProcessPlayer("copy", lambda src, vol: ["sh", "-c", 'cat "$0" > "$1"', src, str(out)],
                           paused=lambda src, vol, fd: [sys.executable, "-c", gone, str(fd), src])
    player.prepare(str(audio), 80)
    wait_for((private_tmp / "item.mp3.gone").exists, timeout=30)
    player.start(str(audio), 1000, 80)
    wait_for(lambda: player.poll().state == "done", timeout=30)
    assert out.read_bytes() == b"item"
    assert processes_naming(audio) == []
