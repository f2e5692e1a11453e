"""Edge TTS against a local websocket server speaking the read-aloud protocol."""

from __future__ import annotations

from pathlib import Path

import edge_tts.communicate
import pytest
from tts_fakes import EdgeServer

from audio.engines.edge_engine import EdgeEngine
from audio.engines.online import RetryPolicy, Throttle
from audio.errors import EngineUnavailable
from audio.pipeline import render_speech
from audio.settings import AudioSettings


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def engine_for(server: EdgeServer, sleeps: Sleeps, **settings_kw: object) -> EdgeEngine:
    settings = AudioSettings(engines=("edge",), edge_url=server.url, http_timeout_s=5, **settings_kw)  # type: ignore[arg-type]
    return EdgeEngine(
        settings,
        retry=RetryPolicy(attempts=3, base_delay_s=0.5, factor=2.0),
        throttle=Throttle(0.0, sleep=sleeps),
        sleep=sleeps,
    )


def test_each_chunk_is_sent_as_ssml_with_the_vietnamese_neural_voice(edge_server: EdgeServer) -> None:
    engine = engine_for(edge_server, Sleeps())
    voice = engine.voice_for("vi")
    chunks = ["Ủy ban nhân dân xã thông báo.", "Bà con chú ý lắng nghe."]

    segment = engine.synthesize(chunks, "vi", voice)

    assert voice == "vi-VN-HoaiMyNeural"
    assert [r.text for r in edge_server.requests] == chunks
    assert all("vi-VN, HoaiMyNeural" in r.voice for r in edge_server.requests)
    assert all("TrustedClientToken=test" in r.query for r in edge_server.requests)
    assert 1700 <= len(segment) <= 2100  # two 0.8 s answers and a pause
    # The redirect is scoped to the request: edge-tts' own URL is back afterwards.
    wss_url: str = edge_tts.communicate.WSS_URL  # type: ignore[attr-defined]
    assert wss_url.startswith("wss://speech.platform.bing.com")


def test_voice_override_is_used_when_it_fits_the_language(edge_server: EdgeServer) -> None:
    engine = engine_for(edge_server, Sleeps(), voices={"edge": "vi-VN-NamMinhNeural"})

    engine.synthesize(["Xin chào."], "vi", engine.voice_for("vi"))

    assert "vi-VN, NamMinhNeural" in edge_server.requests[0].voice
    assert engine.voice_for("km") == "km-KH-SreymomNeural"  # a Vietnamese voice cannot read Khmer


def test_handshake_429_is_retried_with_back_off(edge_server: EdgeServer) -> None:
    edge_server.handshake_statuses = [429, 429]
    sleeps = Sleeps()

    engine_for(edge_server, sleeps).synthesize(["Thông báo."], "vi", "vi-VN-HoaiMyNeural")

    assert edge_server.handshakes == 3
    assert sleeps == [0.5, 1.0]


def test_persistent_429_gives_up_after_the_bounded_attempts(edge_server: EdgeServer) -> None:
    edge_server.handshake_statuses = [429] * 5
    sleeps = Sleeps()

    with pytest.raises(EngineUnavailable, match="HTTP 429"):
        engine_for(edge_server, sleeps).synthesize(["Thông báo."], "vi", "vi-VN-HoaiMyNeural")

    assert edge_server.handshakes == 3
    assert sleeps == [0.5, 1.0]


def test_unreachable_server_is_reported(closed_port_url: str) -> None:
    settings = AudioSettings(engines=("edge",), edge_url=closed_port_url.replace("http", "ws") + "/edge/v1?x=1")
    with pytest.raises(EngineUnavailable, match="không kết nối được"):
        EdgeEngine(settings, throttle=Throttle(0.0)).synthesize(["Xin chào."], "vi", "vi-VN-HoaiMyNeural")


def test_pipeline_records_edge_engine_and_voice(edge_server: EdgeServer, tmp_path: Path) -> None:
    settings = AudioSettings(engines=("edge", "espeak"), edge_url=edge_server.url)

    result = render_speech("Xin chào bà con.", language="vi", title="Edge", media_dir=tmp_path, settings=settings)

    assert (result.engine, result.voice, result.warnings) == ("edge", "vi-VN-HoaiMyNeural", ())
    assert (tmp_path / result.file_name).is_file()
