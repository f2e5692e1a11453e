"""ffmpeg comes from pip (imageio-ffmpeg) with what mastering needs, and files are probed without ffprobe."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sound_tools import make_tone

import audio.ffmpeg as ffmpeg_module
from audio.ffmpeg import REQUIRED_ENCODERS, REQUIRED_FILTERS, ffmpeg_exe, probe


def test_chosen_ffmpeg_has_loudness_filters_and_mp3_encoder() -> None:
    exe = ffmpeg_exe()
    filters = subprocess.run([exe, "-hide_banner", "-filters"], capture_output=True, text=True).stdout
    encoders = subprocess.run([exe, "-hide_banner", "-encoders"], capture_output=True, text=True).stdout
    for name in (*REQUIRED_FILTERS, "loudnorm"):
        assert f" {name} " in filters, name
    for name in REQUIRED_ENCODERS:
        assert f" {name} " in encoders, name


def test_probe_reads_duration_and_codec_of_an_mp3(tmp_path: Path) -> None:
    info = probe(make_tone(tmp_path / "tone.mp3", seconds=2.5))
    assert info.readable and info.has_audio
    assert info.codec == "mp3"
    assert info.duration_s is not None and abs(info.duration_s - 2.5) < 0.1


def test_probe_reports_a_text_file_as_unreadable(tmp_path: Path) -> None:
    fake = tmp_path / "ban_tin.mp3"
    fake.write_text("Đây là văn bản, không phải âm thanh.", encoding="utf-8")
    info = probe(fake)
    assert not info.readable
    assert not info.has_audio


def test_an_ffmpeg_that_lists_the_filters_but_cannot_run_the_chain_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Like Debian 12's ffmpeg 5.1: ebur128 is listed, but `framelog=quiet` makes it fail.
    fake = tmp_path / "ffmpeg"
    listing = "\n".join(f" A.. {name} A->A fake" for name in (*REQUIRED_FILTERS, *REQUIRED_ENCODERS))
    fake.write_text(f"#!/bin/sh\ncase \"$2\" in -filters|-encoders) printf '%s\\n' '{listing}'; exit 0;; esac\n"
                    "echo \"Error setting option framelog to value quiet.\" >&2; exit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    ffmpeg_exe.cache_clear()
    try:
        assert ffmpeg_module._capabilities(str(fake))[0] >= set(REQUIRED_FILTERS)
        chosen = ffmpeg_exe()
    finally:
        ffmpeg_exe.cache_clear()
    assert chosen != str(fake)
    assert Path(chosen).exists()
