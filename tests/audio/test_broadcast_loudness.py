"""The 'done' criterion: offline espeak-ng speech becomes a broadcast-ready MP3 on the loudness target.

Loudness is measured here independently, with ffmpeg's own ebur128 filter (peak=true).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sound_tools import describe, ebur128

from audio.pipeline import render_text_to_file
from audio.settings import AudioSettings

OFFLINE = AudioSettings(engines=("espeak",))


def test_seed_paragraph_renders_offline_to_target_loudness_under_true_peak_ceiling(
    tmp_path: Path, seed_paragraph: str
) -> None:
    out = tmp_path / "ban_tin.mp3"
    result = render_text_to_file(seed_paragraph, out, language="vi", settings=OFFLINE)

    measured = ebur128(out)
    assert abs(measured.integrated_lufs - OFFLINE.loudness_lufs) <= 1.0, measured
    assert measured.true_peak_dbtp <= OFFLINE.true_peak_dbtp, measured
    # What the pipeline recorded is what the file measures.
    assert abs(result.loudness_lufs - measured.integrated_lufs) <= 0.2
    assert result.true_peak_dbtp <= OFFLINE.true_peak_dbtp
    assert result.engine == "espeak" and result.voice == "vi"
    assert result.warnings == ()
    assert result.duration_ms > 20_000  # a ~500-character paragraph is read, not a stub


def test_output_is_mono_mp3_at_configured_bitrate_and_rate_with_id3_title(tmp_path: Path) -> None:
    settings = replace(OFFLINE, bitrate="48k", sample_rate=22050)
    out = tmp_path / "Thông báo lịch tiêm chủng.mp3"
    render_text_to_file("Xin chào bà con.", out, language="vi", settings=settings)

    info = describe(out)
    assert "Audio: mp3" in info
    assert "22050 Hz, mono" in info
    assert "48 kb/s" in info
    assert "title           : Thông báo lịch tiêm chủng" in info


def test_a_different_target_is_met_too(tmp_path: Path) -> None:
    settings = replace(OFFLINE, loudness_lufs=-23.0, true_peak_dbtp=-3.0)
    out = tmp_path / "ebu.mp3"
    render_text_to_file(
        "Ủy ban nhân dân xã thông báo lịch tiếp công dân trong tuần.", out, language="vi", settings=settings
    )
    measured = ebur128(out)
    assert abs(measured.integrated_lufs - (-23.0)) <= 1.0, measured
    assert measured.true_peak_dbtp <= -3.0, measured
