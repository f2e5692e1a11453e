"""Real player processes (a shell copying what it plays): a player prepared ahead of its item."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from delivery_world import wait_for

from scheduler.agent.players import ProcessPlayer


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
