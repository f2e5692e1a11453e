"""Throughput of the Vietnamese text normalizer over the seed documents, against two baselines.

Baselines run side by side on the same lines: a lower-case + regex tokenization pass (what any
text pipeline does at least), and a digit-only re.sub pass that replaces each digit by its word.
Prints chars/s and sentences/s, and the normalizer's cost as a multiple of each baseline.

    python benchmarks/bench_normalize.py [--repeat 20] [--seeds ../shared/seeds]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

from audio.text import normalize_lines, split_sentences
from audio.text.numbers import DIGIT_WORDS

DEFAULT_SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
_TOKEN = re.compile(r"\w+|[^\w\s]")
_DIGIT = re.compile(r"\d")


def tokenize_baseline(lines: list[str]) -> list[list[str]]:
    return [_TOKEN.findall(line.lower()) for line in lines]


def digit_baseline(lines: list[str]) -> list[str]:
    return [_DIGIT.sub(lambda m: " " + DIGIT_WORDS[int(m.group(0))] + " ", line) for line in lines]


def north(lines: list[str]) -> list[str]:
    return normalize_lines(lines, variant="north")


def south(lines: list[str]) -> list[str]:
    return normalize_lines(lines, variant="south")


def best_seconds(funcs: list[Callable[[list[str]], object]], lines: list[str], repeat: int) -> list[float]:
    """Best wall time of one pass over all lines, per function. The functions take turns in each
    round (in alternating order), so a burst of load from another process slows all of them."""
    best = [float("inf")] * len(funcs)
    for round_number in range(repeat):
        order = range(len(funcs)) if round_number % 2 == 0 else reversed(range(len(funcs)))
        for i in order:
            start = time.perf_counter()
            funcs[i](lines)
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seeds", type=Path, default=DEFAULT_SEEDS)
    args = parser.parse_args()
    files = sorted(args.seeds.glob("*.txt"))
    if not files:
        print(f"Không tìm thấy tài liệu mẫu (*.txt) trong {args.seeds}. Hãy chỉ đường dẫn bằng --seeds.")
        return 2
    text = "\n".join(path.read_text(encoding="utf-8") for path in files)
    lines = text.split("\n")
    chars = len(text)
    sentences = len(split_sentences(text))

    start = time.perf_counter()
    north(lines)  # first call: compiles the patterns and loads the lexicon
    cold = time.perf_counter() - start

    print(f"corpus: {len(files)} seed documents, {chars} chars, {len(lines)} lines, {sentences} sentences")
    print(f"first call (patterns compiled, lexicon loaded): {cold * 1000:.1f} ms")
    spoken = "\n".join(north(lines))
    runs: list[tuple[str, Callable[[list[str]], object], int]] = [
        ("baseline: lower() + regex tokens", tokenize_baseline, chars),
        ("baseline: digit-only re.sub", digit_baseline, chars),
        ("normalize_lines (north)", north, chars),
        ("normalize_lines (south)", south, chars),
        ("split_sentences(max 100) on the output", lambda _: split_sentences(spoken, 100), len(spoken)),
    ]
    bests = best_seconds([func for _, func, _ in runs], lines, args.repeat)
    print(f"best of {args.repeat} interleaved passes:")
    print("| pass | ms per corpus | chars/s | sentences/s | × tokenization baseline |")
    print("|---|---:|---:|---:|---:|")
    for (label, _, size), best in zip(runs, bests, strict=True):
        print(f"| {label} | {best * 1000:.1f} | {size / best:,.0f} | {sentences / best:,.0f} | {best / bests[0]:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
