"""Content-addressed cache: the same text and settings are never rendered twice."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from sound_tools import describe, make_tone

from audio.engines import ENGINE_FACTORIES
from audio.engines.espeak_engine import EspeakEngine
from audio.pipeline import RenderedAudio, render_speech, speech_cache_key
from audio.segment import AudioSegment
from audio.settings import AudioSettings

TEXT = "Xã tổ chức tiêm chủng cho trẻ em vào sáng thứ bảy."
SETTINGS = AudioSettings(engines=("espeak",))


class CountingEspeak(EspeakEngine):
    """The real espeak-ng engine, counting how often it is asked to speak."""

    calls: list[Sequence[str]]

    def synthesize(self, chunks: Sequence[str], language: str, voice: str) -> AudioSegment:
        self.calls.append(list(chunks))
        return super().synthesize(chunks, language, voice)


@pytest.fixture
def espeak_calls(monkeypatch: pytest.MonkeyPatch) -> list[Sequence[str]]:
    calls: list[Sequence[str]] = []

    def factory(settings: AudioSettings) -> EspeakEngine:
        engine = CountingEspeak(settings)
        engine.calls = calls
        return engine

    monkeypatch.setitem(ENGINE_FACTORIES, "espeak", factory)
    return calls


def render(
    media: Path, text: str = TEXT, title: str = "Tiêm chủng", settings: AudioSettings = SETTINGS
) -> RenderedAudio:
    return render_speech(text, language="vi", title=title, media_dir=media, settings=settings)


def test_second_render_of_same_text_is_a_cache_hit_without_engine_call(
    espeak_calls: list[Sequence[str]], tmp_path: Path
) -> None:
    first = render(tmp_path)
    mtime = (tmp_path / first.file_name).stat().st_mtime_ns

    second = render(tmp_path)

    assert len(espeak_calls) == 1
    assert (first.cached, second.cached) == (False, True)
    assert replace(second, cached=False) == first
    assert (tmp_path / first.file_name).stat().st_mtime_ns == mtime  # not rewritten
    index = json.loads((tmp_path / "cache" / f"{first.cache_key}.json").read_text(encoding="utf-8"))
    assert index["files"]["Tiêm chủng"]["sha256"] == first.sha256


def test_output_is_stored_under_its_own_sha256(espeak_calls: list[Sequence[str]], tmp_path: Path) -> None:
    result = render(tmp_path)
    data = (tmp_path / result.file_name).read_bytes()
    assert result.file_name == f"audio/{result.sha256}.mp3"
    assert hashlib.sha256(data).hexdigest() == result.sha256
    assert [p.name for p in (tmp_path / "audio").iterdir()] == [f"{result.sha256}.mp3"]  # no temp files left


def test_deleted_output_is_rendered_again(espeak_calls: list[Sequence[str]], tmp_path: Path) -> None:
    first = render(tmp_path)
    (tmp_path / first.file_name).unlink()

    again = render(tmp_path)

    assert len(espeak_calls) == 2
    assert not again.cached and (tmp_path / again.file_name).is_file()


def test_output_altered_on_disk_fails_the_sha256_check_and_is_rendered_again(
    espeak_calls: list[Sequence[str]], tmp_path: Path
) -> None:
    first = render(tmp_path)
    (tmp_path / first.file_name).write_bytes(b"corrupted")

    again = render(tmp_path)

    assert len(espeak_calls) == 2
    assert not again.cached
    assert hashlib.sha256((tmp_path / again.file_name).read_bytes()).hexdigest() == again.sha256


def test_changed_text_or_settings_render_anew(espeak_calls: list[Sequence[str]], tmp_path: Path) -> None:
    base = render(tmp_path)
    other_text = render(tmp_path, text="Xã tổ chức tiêm chủng cho trẻ em vào sáng chủ nhật.")
    quieter = render(tmp_path, settings=replace(SETTINGS, loudness_lufs=-20.0))
    southern = render(tmp_path, settings=replace(SETTINGS, voices={"espeak": "vi-vn-x-south"}))

    assert len(espeak_calls) == 4
    assert len({base.cache_key, other_text.cache_key, quieter.cache_key, southern.cache_key}) == 4
    assert southern.voice == "vi-vn-x-south"


def test_another_title_reuses_the_render_and_only_retags_it(espeak_calls: list[Sequence[str]], tmp_path: Path) -> None:
    first = render(tmp_path, title="Bản tin sáng")

    evening = render(tmp_path, title="Bản tin chiều")

    assert len(espeak_calls) == 1
    assert evening.cached and evening.cache_key == first.cache_key
    assert evening.sha256 != first.sha256
    assert "title           : Bản tin chiều" in describe(tmp_path / evening.file_name)
    assert "title           : Bản tin sáng" in describe(tmp_path / first.file_name)
    assert evening.duration_ms == first.duration_ms


def test_cache_key_covers_engine_order_voice_and_jingle_but_not_title(tmp_path: Path) -> None:
    key = speech_cache_key(TEXT, "vi", SETTINGS)
    jingle = make_tone(tmp_path / "jingle.wav", seconds=0.5)

    assert key == speech_cache_key(TEXT, "vi", SETTINGS)
    assert key != speech_cache_key(TEXT, "vi", replace(SETTINGS, engines=("gtts", "espeak")))
    assert key != speech_cache_key(TEXT, "vi", replace(SETTINGS, voices={"espeak": "vi-vn-x-central"}))
    assert key != speech_cache_key(TEXT, "vi", replace(SETTINGS, jingle_path=jingle))
    assert key != speech_cache_key(TEXT, "km", SETTINGS)
    # Only what shapes the sound counts: timeouts and server URLs do not.
    assert key == speech_cache_key(TEXT, "vi", replace(SETTINGS, http_timeout_s=3, gtts_base_url="http://x"))


def test_damaged_cache_index_means_a_fresh_render(espeak_calls: list[Sequence[str]], tmp_path: Path) -> None:
    first = render(tmp_path)
    (tmp_path / "cache" / f"{first.cache_key}.json").write_text("{not json", encoding="utf-8")

    again = render(tmp_path)

    assert len(espeak_calls) == 2 and not again.cached
