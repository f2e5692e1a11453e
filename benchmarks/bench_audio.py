"""Audio pipeline speed, as multiples of real time (seconds of audio produced per wall-clock second).

Offline only (espeak-ng). Side by side for each bulletin size:
  synth    espeak-ng alone (normalized text -> raw PCM),
  render   the whole render_speech on a cache miss (normalize, synth, trim, loudness, MP3, measure),
  hit      render_speech again on the same text (cache hit: index read + sha256 of the file),
and the hit's speed-up over the full render.

Run: python benchmarks/bench_audio.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from audio.engines.espeak_engine import EspeakEngine
from audio.pipeline import RenderedAudio, render_speech
from audio.settings import AudioSettings
from audio.synthesis import prepare_text
from audio.text import split_sentences

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SETTINGS = AudioSettings(engines=("espeak",))
FALLBACK_TEXT = (
    "Thực hiện ý kiến chỉ đạo của Ủy ban nhân dân tỉnh tại Kế hoạch số 1389/KH-UBND ngày 24/9/2021 "
    "về việc thông tin, tuyên truyền về cải cách hành chính nhà nước giai đoạn 2021 - 2030 thông qua "
    "hệ thống thông tin cơ sở trên địa bàn tỉnh Gia Lai. "
)


def seed_text() -> str:
    if SEEDS.is_dir():
        return "\n".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt")))
    return FALLBACK_TEXT * 60


def sized_texts(corpus: str) -> dict[str, str]:
    """Bulletins of three typical sizes cut from the seed documents at sentence ends."""
    words = corpus.split()
    return {
        "short (~15 s)": " ".join(words[:25]),
        "bulletin (~75 s)": " ".join(words[200:420]),
        "long (~6 min)": " ".join(words[1000:2100]),
    }


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median wall seconds of `fn` over `repeat` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median is shown)")
    parser.add_argument("--quick", action="store_true", help="skip the 5-minute bulletin")
    args = parser.parse_args()
    engine = EspeakEngine(SETTINGS)
    texts = sized_texts(seed_text())
    if args.quick:
        texts.pop("long (~6 min)")
    print(f"{'size':<20}{'audio s':>9}{'synth ×RT':>11}{'render ×RT':>12}{'hit ×RT':>12}{'hit vs render':>15}")
    with tempfile.TemporaryDirectory() as tmp:
        media = Path(tmp)
        for label, text in texts.items():
            chunks = split_sentences(prepare_text(text, "vi", SETTINGS), max_chars=engine.max_chunk_chars)

            def synth(chunks: list[str] = chunks) -> None:
                engine.synthesize(chunks, "vi", "vi")

            synth_s = timed(synth, args.repeat)
            # A new bulletin number each run makes every run a cache miss.
            variants = iter([f"Bản tin số {i}. {text}" for i in range(args.repeat)])
            last: list[str] = []

            def miss(variants: Iterator[str] = variants, last: list[str] = last) -> None:
                last[:] = [next(variants)]
                render_speech(last[0], language="vi", title="b", media_dir=media, settings=SETTINGS)

            render_s = timed(miss, args.repeat)

            def hit(text: str = last[0]) -> RenderedAudio:
                result = render_speech(text, language="vi", title="b", media_dir=media, settings=SETTINGS)
                assert result.cached
                return result

            audio_s = hit().duration_ms / 1000
            hit_s = timed(hit, max(args.repeat, 20))
            print(
                f"{label:<20}{audio_s:>9.1f}{audio_s / synth_s:>11.0f}{audio_s / render_s:>12.1f}"
                f"{audio_s / hit_s:>12.0f}{render_s / hit_s:>14.0f}×"
            )


if __name__ == "__main__":
    main()
