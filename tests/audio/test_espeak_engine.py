"""espeak-ng through espeakng-loader's bundled library: offline voices, thread and process safety."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor

import pytest

from audio.engines.espeak_engine import EspeakEngine
from audio.errors import EngineUnavailable
from audio.settings import AudioSettings

TEXTS = [
    "Ủy ban nhân dân xã thông báo.",
    "Bà con chú ý phòng chống bão.",
    "Lịch tiêm chủng vào sáng thứ bảy.",
    "Đài truyền thanh xã xin hết tin.",
]


def pcm(text: str, variant: str = "north") -> bytes:
    engine = EspeakEngine(AudioSettings(variant=variant))
    return bytes(engine.synthesize([text], "vi", engine.voice_for("vi")).raw_data)


def test_vietnamese_voice_follows_the_reading_variant() -> None:
    voices = {v: EspeakEngine(AudioSettings(variant=v)).voice_for("vi") for v in ("north", "central", "south")}
    assert voices == {"north": "vi", "central": "vi-vn-x-central", "south": "vi-vn-x-south"}
    assert pcm(TEXTS[0], "north") != pcm(TEXTS[0], "south")


def test_speech_is_real_audio_of_plausible_length() -> None:
    segment = EspeakEngine(AudioSettings()).synthesize(TEXTS, "vi", "vi")
    assert segment.channels == 1 and segment.sample_width == 2
    assert 4_000 < len(segment) < 20_000  # four short sentences
    assert segment.max_dBFS > -20


def test_khmer_is_not_in_espeak_data_and_is_refused_in_vietnamese() -> None:
    engine = EspeakEngine(AudioSettings())
    assert engine.supports("vi")
    assert not engine.supports("km")
    with pytest.raises(EngineUnavailable, match="không có giọng đọc tiếng Khmer"):
        engine.synthesize(["សួស្តី"], "km", "km")


def close(a: int, b: int) -> bool:
    """espeak-ng varies a sentence's length by a few ms from call to call (its pitch flutter)."""
    return abs(a - b) <= 0.02 * b


def test_concurrent_threads_each_get_their_own_whole_sentence() -> None:
    sequential = [len(pcm(t)) for t in TEXTS]
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = [len(p) for p in pool.map(pcm, TEXTS * 3)]
    # Interleaved calls into the library would mix or drop audio between threads.
    assert all(close(c, s) for c, s in zip(concurrent, sequential * 3, strict=True)), (concurrent, sequential)


def _child_pcm_length(queue: multiprocessing.Queue[int]) -> None:
    queue.put(len(pcm(TEXTS[1])))


def test_forked_process_can_speak_after_the_parent_did() -> None:
    expected = len(pcm(TEXTS[1]))  # the parent has the library initialised
    ctx = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[int] = ctx.Queue()
    child = ctx.Process(target=_child_pcm_length, args=(queue,))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    assert close(queue.get(timeout=5), expected)
