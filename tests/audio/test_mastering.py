"""Broadcast mastering: silence trimmed, jingle around the speech, loud peaks limited, quiet input raised."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sound_tools import decode, ebur128, ffmpeg, make_tone, rms_dbfs, zero_crossings_per_second

from audio.errors import AudioError
from audio.pipeline import render_speech, render_text_to_file
from audio.process import KEEP_SILENCE_MS, master_to_mp3, trim_silence
from audio.segment import from_pcm, silence
from audio.settings import AudioSettings

SETTINGS = AudioSettings(engines=("espeak",))
RATE = 24000
TEXT = "Xin chào bà con."


def test_trim_cuts_leading_and_trailing_silence_but_keeps_a_short_pad(tmp_path: Path) -> None:
    tone = from_pcm(bytes(decode(make_tone(tmp_path / "t.wav", seconds=1.0))), RATE)
    padded = silence(2000, RATE) + tone + silence(3000, RATE)

    trimmed = trim_silence(padded)

    assert abs(len(trimmed) - (1000 + 2 * KEEP_SILENCE_MS)) <= 20


def test_jingle_opens_and_closes_the_bulletin_with_gaps(tmp_path: Path) -> None:
    jingle = make_tone(tmp_path / "nhac_hieu.wav", seconds=1.0, freq=1000, volume_db=-6)
    with_jingle = replace(SETTINGS, jingle_path=jingle, gap_ms=600)

    plain = render_speech(TEXT, language="vi", title="t", media_dir=tmp_path / "a", settings=SETTINGS)
    framed = render_speech(TEXT, language="vi", title="t", media_dir=tmp_path / "b", settings=with_jingle)

    assert abs(framed.duration_ms - plain.duration_ms - 2 * (1000 + 600)) <= 60
    samples = decode(tmp_path / "b" / framed.file_name)
    second = RATE
    intro, gap = samples[int(0.1 * second) : int(0.9 * second)], samples[int(1.1 * second) : int(1.5 * second)]
    outro = samples[-int(0.9 * second) : -int(0.1 * second)]
    # A 1000 Hz tone crosses zero 2000 times a second; speech does not hold such a steady rate.
    assert abs(zero_crossings_per_second(intro) - 2000) < 40
    assert abs(zero_crossings_per_second(outro) - 2000) < 40
    assert rms_dbfs(gap) < -50
    measured = ebur128(tmp_path / "b" / framed.file_name)
    assert abs(measured.integrated_lufs - SETTINGS.loudness_lufs) <= 1.0
    assert measured.true_peak_dbtp <= SETTINGS.true_peak_dbtp


def test_missing_jingle_file_is_a_clear_error(tmp_path: Path) -> None:
    settings = replace(SETTINGS, jingle_path=tmp_path / "khong_co.mp3")
    with pytest.raises(AudioError, match="nhạc hiệu"):
        render_text_to_file(TEXT, tmp_path / "o.mp3", language="vi", settings=settings)
    assert not (tmp_path / "o.mp3").exists()


def test_peaky_input_is_limited_under_the_ceiling_while_reaching_the_target(tmp_path: Path) -> None:
    # A quiet tone with full-scale clicks: reaching -16 LUFS needs far more gain than the peaks allow.
    raw = ffmpeg(
        "-v", "error", "-f", "lavfi",
        "-i", f"aevalsrc=0.03*sin(2*PI*440*t)+if(lt(mod(t\\,0.5)\\,0.002)\\,0.99\\,0):s={RATE}:d=6",
        "-f", "s16le", "-ac", "1", "pipe:1",
    ).stdout  # fmt: skip
    out = tmp_path / "peaky.mp3"

    mastered = master_to_mp3(from_pcm(raw, RATE), out, title="t", settings=SETTINGS)

    measured = ebur128(out)
    assert measured.true_peak_dbtp <= SETTINGS.true_peak_dbtp
    assert abs(measured.integrated_lufs - SETTINGS.loudness_lufs) <= 1.0
    assert abs(mastered.loudness_lufs - measured.integrated_lufs) <= 0.2


def test_quiet_input_is_raised_to_the_target(tmp_path: Path) -> None:
    quiet = from_pcm(bytes(decode(make_tone(tmp_path / "q.wav", seconds=3.0, volume_db=-22))), RATE)
    out = tmp_path / "quiet.mp3"

    master_to_mp3(quiet, out, title="t", settings=SETTINGS)

    assert abs(ebur128(out).integrated_lufs - SETTINGS.loudness_lufs) <= 1.0


def test_all_silent_speech_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="khoảng lặng"):
        master_to_mp3(silence(2000, RATE), tmp_path / "s.mp3", title="t", settings=SETTINGS)
