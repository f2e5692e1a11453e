"""gTTS against a local server speaking Google's batchexecute RPC: payload, retries, throttling."""

from __future__ import annotations

from pathlib import Path

import pytest
from tts_fakes import GttsServer

from audio.engines.gtts_engine import RPC_PATH, GttsEngine
from audio.engines.online import RetryPolicy, Throttle
from audio.errors import EngineUnavailable
from audio.pipeline import render_speech
from audio.settings import AudioSettings


class FakeTime:
    """A clock that only moves when someone sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def engine_for(server: GttsServer, time: FakeTime, *, attempts: int = 4, interval: float = 0.0) -> GttsEngine:
    settings = AudioSettings(engines=("gtts",), gtts_base_url=server.url, http_timeout_s=5)
    return GttsEngine(
        settings,
        retry=RetryPolicy(attempts=attempts, base_delay_s=1.0, factor=2.0, max_delay_s=16.0),
        throttle=Throttle(interval, clock=time.clock, sleep=time.sleep),
        sleep=time.sleep,
    )


def test_each_chunk_is_one_rpc_carrying_its_text_and_language(gtts_server: GttsServer) -> None:
    engine = engine_for(gtts_server, FakeTime())
    chunks = ["Ủy ban nhân dân xã thông báo.", "Bà con chú ý lắng nghe."]

    segment = engine.synthesize(chunks, "vi", engine.voice_for("vi"))

    assert [(r.text, r.language) for r in gtts_server.requests] == [(c, "vi") for c in chunks]
    assert all(r.path == f"/{RPC_PATH}" for r in gtts_server.requests)
    # Two 0.8 s answers decoded and joined with a short pause.
    assert 1700 <= len(segment) <= 2100


def test_http_429_is_retried_with_growing_back_off(gtts_server: GttsServer) -> None:
    gtts_server.statuses = [429, 429, 200]
    time = FakeTime()
    engine = engine_for(gtts_server, time)

    engine.synthesize(["Thông báo khẩn."], "vi", "vi")

    assert len(gtts_server.requests) == 3
    assert time.sleeps == [1.0, 2.0]


def test_retry_after_header_lengthens_the_back_off(gtts_server: GttsServer) -> None:
    gtts_server.statuses = [429, 200]
    gtts_server.retry_after = "5"
    time = FakeTime()

    engine_for(gtts_server, time).synthesize(["Thông báo."], "vi", "vi")

    assert time.sleeps == [5.0]


def test_retries_are_bounded_and_then_reported_in_vietnamese(gtts_server: GttsServer) -> None:
    gtts_server.statuses = [429] * 10
    time = FakeTime()

    with pytest.raises(EngineUnavailable) as err:
        engine_for(gtts_server, time, attempts=3).synthesize(["Thông báo."], "vi", "vi")

    assert len(gtts_server.requests) == 3
    assert time.sleeps == [1.0, 2.0]
    assert "HTTP 429" in str(err.value) and "3 lần thử" in str(err.value)
    assert err.value.engine == "gtts"


def test_server_error_is_not_retried(gtts_server: GttsServer) -> None:
    gtts_server.statuses = [500]
    with pytest.raises(EngineUnavailable, match="HTTP 500"):
        engine_for(gtts_server, FakeTime()).synthesize(["Thông báo."], "vi", "vi")
    assert len(gtts_server.requests) == 1


def test_requests_are_spaced_by_the_minimum_interval(gtts_server: GttsServer) -> None:
    time = FakeTime()
    engine = engine_for(gtts_server, time, interval=0.5)

    engine.synthesize(["Câu một.", "Câu hai.", "Câu ba."], "vi", "vi")

    # The fake clock stands still between requests, so each later request waits the full interval.
    assert time.sleeps == [0.5, 0.5]


def test_khmer_is_routed_to_gtts_when_espeak_has_no_khmer_voice(gtts_server: GttsServer, tmp_path: Path) -> None:
    settings = AudioSettings(engines=("espeak", "gtts"), gtts_base_url=gtts_server.url)
    khmer = "សូមជម្រាបសួរ បងប្អូនទាំងអស់គ្នា"

    result = render_speech(khmer, language="km", title="Khmer", media_dir=tmp_path, settings=settings)

    assert result.engine == "gtts"
    assert result.voice == "km"
    assert [r.language for r in gtts_server.requests] == ["km"]
    assert "".join(r.text for r in gtts_server.requests).replace(" ", "") == khmer.replace(" ", "")
    # espeak-ng was configured first, so not using it is said aloud.
    assert len(result.warnings) == 1
    assert "espeak-ng" in result.warnings[0] and "tiếng Khmer" in result.warnings[0]
    assert result.warnings[0].endswith("đã chuyển sang gTTS.")


def test_khmer_with_default_engine_order_uses_gtts_without_warning(gtts_server: GttsServer, tmp_path: Path) -> None:
    settings = AudioSettings(gtts_base_url=gtts_server.url)  # default order: gtts, espeak

    result = render_speech("សួស្តី", language="km", title="Khmer", media_dir=tmp_path, settings=settings)

    assert (result.engine, result.warnings) == ("gtts", ())


def test_without_a_local_url_the_real_google_host_is_refused_by_the_test_guard() -> None:
    engine = GttsEngine(AudioSettings(engines=("gtts",)), throttle=Throttle(0.0))
    with pytest.raises(AssertionError, match="translate.google.com"):
        engine.synthesize(["Xin chào."], "vi", "vi")
