"""Engine order with fallback: a refused or unreachable online engine hands over to espeak-ng, visibly."""

from __future__ import annotations

from pathlib import Path

import pytest
from tts_fakes import GttsServer

from audio.errors import EngineUnavailable
from audio.pipeline import render_speech
from audio.settings import AudioSettings

TEXT = "Ủy ban nhân dân xã thông báo lịch tiếp công dân."


def test_gtts_server_error_falls_back_to_espeak_with_a_warning(gtts_server: GttsServer, tmp_path: Path) -> None:
    gtts_server.statuses = [500]
    settings = AudioSettings(engines=("gtts", "espeak"), gtts_base_url=gtts_server.url)

    result = render_speech(TEXT, language="vi", title="Thông báo", media_dir=tmp_path, settings=settings)

    assert (result.engine, result.voice) == ("espeak", "vi")
    assert len(gtts_server.requests) == 1  # the refusal reached the server, and was not retried
    [warning] = result.warnings
    assert warning.startswith("Không dùng được gTTS (")
    assert "HTTP 500" in warning
    assert warning.endswith("; đã chuyển sang espeak-ng.")


def test_unreachable_gtts_falls_back_to_espeak_with_a_warning(closed_port_url: str, tmp_path: Path) -> None:
    settings = AudioSettings(engines=("gtts", "espeak"), gtts_base_url=closed_port_url, http_timeout_s=2)

    result = render_speech(TEXT, language="vi", title="Thông báo", media_dir=tmp_path, settings=settings)

    assert result.engine == "espeak"
    [warning] = result.warnings
    assert "không kết nối được máy chủ 127.0.0.1" in warning
    assert warning.endswith("đã chuyển sang espeak-ng.")


def test_fallback_warning_is_kept_on_a_cache_hit(gtts_server: GttsServer, tmp_path: Path) -> None:
    gtts_server.statuses = [500]
    settings = AudioSettings(engines=("gtts", "espeak"), gtts_base_url=gtts_server.url)
    first = render_speech(TEXT, language="vi", title="Thông báo", media_dir=tmp_path, settings=settings)

    again = render_speech(TEXT, language="vi", title="Thông báo", media_dir=tmp_path, settings=settings)

    assert again.cached and again.warnings == first.warnings
    assert len(gtts_server.requests) == 1


def test_when_no_engine_can_speak_the_error_lists_every_reason(closed_port_url: str, tmp_path: Path) -> None:
    settings = AudioSettings(engines=("gtts", "espeak"), gtts_base_url=closed_port_url, http_timeout_s=2)

    with pytest.raises(EngineUnavailable) as err:
        render_speech("សួស្តី", language="km", title="Khmer", media_dir=tmp_path, settings=settings)

    message = str(err.value)
    assert "tiếng Khmer" in message
    assert "gTTS: không kết nối được" in message
    assert "espeak-ng: không có giọng đọc tiếng Khmer" in message
    assert "tải lên bản ghi âm" in message  # what to do
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_language_without_any_voice_is_refused_without_touching_the_network(
    gtts_server: GttsServer, tmp_path: Path
) -> None:
    settings = AudioSettings(engines=("gtts", "espeak"), gtts_base_url=gtts_server.url)

    with pytest.raises(EngineUnavailable, match="tiếng Jrai"):
        render_speech("Bơ̆n rơngai", language="jra", title="Jrai", media_dir=tmp_path, settings=settings)

    assert gtts_server.requests == []


def test_unknown_engine_name_is_a_clear_configuration_error(tmp_path: Path) -> None:
    settings = AudioSettings(engines=("google",))
    with pytest.raises(Exception, match="Không có bộ đọc tên 'google'"):
        render_speech(TEXT, language="vi", title="x", media_dir=tmp_path, settings=settings)
