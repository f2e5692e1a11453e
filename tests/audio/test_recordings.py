"""Uploaded recordings: usable ones are mastered like speech; bad ones are refused and leave nothing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sound_tools import ebur128, ffmpeg, make_tone

from audio.engines.espeak_engine import EspeakEngine
from audio.errors import RecordingRejected
from audio.pipeline import ingest_recording
from audio.settings import AudioSettings

SETTINGS = AudioSettings()
ENCODERS = {".mp3": ("-c:a", "libmp3lame"), ".wav": (), ".m4a": ("-c:a", "aac"), ".ogg": ("-c:a", "libvorbis"),
            ".flac": ("-c:a", "flac"), ".opus": ("-c:a", "libopus")}


@pytest.fixture(scope="module")
def voice_pcm() -> bytes:
    """A real voice (espeak-ng reading Vietnamese) standing in for a person's recording, 22050 Hz."""
    segment = EspeakEngine(SETTINGS).synthesize(["Bà con thôn Plei Ring chú ý phòng chống bão lũ."], "vi", "vi")
    return bytes(segment.raw_data)


def recording(tmp_path: Path, pcm: bytes, suffix: str, *, quiet_db: float = -14.0) -> Path:
    """Write the voice with a quiet level and silence around it, as a phone would record it."""
    path = tmp_path / f"ban_ghi{suffix}"
    ffmpeg(
        "-v", "error", "-f", "s16le", "-ar", "22050", "-ac", "1", "-i", "pipe:0",
        "-af", f"volume={quiet_db}dB,adelay=1500,apad=pad_dur=1.5", *ENCODERS[suffix], str(path),
        input_bytes=pcm,
    )  # fmt: skip
    return path


def nothing_stored(media: Path) -> bool:
    return not media.exists() or not any(p.is_file() for p in media.rglob("*"))


@pytest.mark.parametrize("suffix", [".mp3", ".wav", ".m4a", ".ogg", ".flac", ".opus"])
def test_recording_in_each_format_is_mastered_to_target(tmp_path: Path, voice_pcm: bytes, suffix: str) -> None:
    source = recording(tmp_path, voice_pcm, suffix)
    media = tmp_path / "media"

    result = ingest_recording(source, title="Phòng chống bão", media_dir=media, settings=SETTINGS)

    assert (result.engine, result.voice, result.warnings) == ("recording", "", ())
    measured = ebur128(media / result.file_name)
    assert abs(measured.integrated_lufs - SETTINGS.loudness_lufs) <= 1.0
    assert measured.true_peak_dbtp <= SETTINGS.true_peak_dbtp
    # 1.5 s of silence each side were trimmed (the voice itself is ~3-4 s).
    voice_ms = len(voice_pcm) / 2 / 22050 * 1000
    assert result.duration_ms < voice_ms + 1000


def test_same_upload_twice_is_served_from_cache(tmp_path: Path, voice_pcm: bytes) -> None:
    source = recording(tmp_path, voice_pcm, ".wav")
    first = ingest_recording(source, title="A", media_dir=tmp_path / "m", settings=SETTINGS)
    again = ingest_recording(source, title="A", media_dir=tmp_path / "m", settings=SETTINGS)
    assert again.cached and again.sha256 == first.sha256


def test_text_file_renamed_mp3_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "ban_tin.mp3"
    fake.write_text("Kính gửi: Ủy ban nhân dân các xã, phường.", encoding="utf-8")

    with pytest.raises(RecordingRejected) as err:
        ingest_recording(fake, title="x", media_dir=tmp_path / "media", settings=SETTINGS)

    assert "'ban_tin.mp3'" in str(err.value)
    assert "không phải âm thanh" in str(err.value)
    assert nothing_stored(tmp_path / "media")


def test_truncated_mp3_is_refused(tmp_path: Path) -> None:
    whole = make_tone(tmp_path / "whole.mp3", seconds=6.0, args=("-c:a", "libmp3lame", "-b:a", "64k"))
    cut = tmp_path / "cut.mp3"
    data = whole.read_bytes()
    cut.write_bytes(data[: int(len(data) * 0.4) + 7])  # cut mid-frame, as an interrupted upload

    with pytest.raises(RecordingRejected, match="bị cắt cụt") as err:
        ingest_recording(cut, title="x", media_dir=tmp_path / "media", settings=SETTINGS)

    assert "6,0 giây" in str(err.value)
    assert nothing_stored(tmp_path / "media")


def test_silent_wav_is_refused(tmp_path: Path) -> None:
    silent = tmp_path / "im_lang.wav"
    ffmpeg("-v", "error", "-f", "lavfi", "-i", "anullsrc=r=24000:cl=mono", "-t", "5", str(silent))

    with pytest.raises(RecordingRejected, match="chỉ có khoảng lặng") as err:
        ingest_recording(silent, title="x", media_dir=tmp_path / "media", settings=SETTINGS)

    assert "micrô" in str(err.value)
    assert nothing_stored(tmp_path / "media")


def test_recording_longer_than_the_limit_is_refused(tmp_path: Path) -> None:
    long = make_tone(tmp_path / "dai.wav", seconds=4.0)
    settings = replace(SETTINGS, max_recording_seconds=3)

    with pytest.raises(RecordingRejected, match="dài hơn giới hạn 3,0 giây"):
        ingest_recording(long, title="x", media_dir=tmp_path / "media", settings=settings)

    assert nothing_stored(tmp_path / "media")


@pytest.mark.parametrize(
    ("name", "message"),
    [("ban_ghi.wma", "định dạng '.wma' chưa được hỗ trợ"), ("trong.mp3", "tệp rỗng")],
)
def test_unsupported_or_empty_files_are_refused(tmp_path: Path, name: str, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"" if name == "trong.mp3" else b"0&\xb2u\x8ef\xcf\x11")
    with pytest.raises(RecordingRejected, match=message):
        ingest_recording(path, title="x", media_dir=tmp_path / "media", settings=SETTINGS)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RecordingRejected, match="không tìm thấy tệp"):
        ingest_recording(tmp_path / "khong_co.mp3", title="x", media_dir=tmp_path / "m", settings=SETTINGS)
