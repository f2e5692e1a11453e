"""Finding the gain, with a true-peak limiter when needed, that brings a signal to a loudness target.

With the limiter in the chain loudness no longer grows dB for dB with gain (peaks are held back),
so the gain is searched: each step measures the processed signal (no encoding), and once the
target is bracketed the next gain is interpolated inside the bracket. Long programmes are searched
on an evenly spaced excerpt (the limiter acts within ~100 ms, so slices behave like the whole);
the caller measures the finished file in full anyway.
"""

from __future__ import annotations

from audio.loudness import SILENCE_LUFS, Loudness, integrated_lufs, measure_pcm

OVERSAMPLE = 4  # the limiter works at 4x the rate so that it also catches inter-sample peaks
SEARCH_TOLERANCE_LU = 0.15
MAX_SEARCH_STEPS = 10
MIN_LIMIT = 0.0625  # alimiter's lowest allowed limit (-24 dBFS)
EXCERPT_SLICES = 20
EXCERPT_SLICE_S = 3.0


def filter_chain(gain_db: float, limit_dbtp: float | None, sample_rate: int) -> str:
    """ffmpeg filters: gain, then (if `limit_dbtp`) an oversampled look-ahead limiter at that level."""
    chain = f"volume={gain_db:.3f}dB"
    if limit_dbtp is not None:
        limit = min(1.0, max(MIN_LIMIT, 10 ** (limit_dbtp / 20)))
        chain += (
            f",aresample={sample_rate * OVERSAMPLE},"
            f"alimiter=limit={limit:.5f}:level=false:attack=5:release=80,aresample={sample_rate}"
        )
    return chain


def chain_for(source: Loudness, gain_db: float, limit_dbtp: float) -> str:
    """The chain for this gain: the limiter only when the gain would lift true peaks past the limit."""
    needs_limiter = source.true_peak_dbtp + gain_db > limit_dbtp
    return filter_chain(gain_db, limit_dbtp if needs_limiter else None, source.sample_rate)


def _has_loudness(m: Loudness) -> bool:
    return m.integrated_lufs > SILENCE_LUFS + 0.1


def first_guess(source: Loudness, target_lufs: float, limit_dbtp: float) -> float:
    """Linear gain to target; sounds too short for ebur128's gate are peak-normalised instead."""
    if not _has_loudness(source):
        return limit_dbtp - source.true_peak_dbtp
    return target_lufs - source.integrated_lufs


def excerpt(pcm: bytes, sample_rate: int) -> bytes:
    """Evenly spaced slices of a long programme (mono 16-bit), or the programme itself if short."""
    slice_bytes = int(EXCERPT_SLICE_S * sample_rate) * 2
    if len(pcm) <= 2 * EXCERPT_SLICES * slice_bytes:
        return pcm
    stride = (len(pcm) - slice_bytes) // (EXCERPT_SLICES - 1) // 2 * 2
    return b"".join(pcm[i * stride : i * stride + slice_bytes] for i in range(EXCERPT_SLICES))


def solve_gain(pcm: bytes, source: Loudness, *, target_lufs: float, limit_dbtp: float) -> float:
    """The gain (dB) whose chain_for(source, ...) output measures within SEARCH_TOLERANCE_LU of the target."""
    gain = first_guess(source, target_lufs, limit_dbtp)
    if not _has_loudness(source) or source.true_peak_dbtp + gain <= limit_dbtp:
        return gain  # no limiter needed: loudness follows gain exactly
    rate = source.sample_rate
    sample = excerpt(pcm, rate)
    if len(sample) < len(pcm):
        # Aim the excerpt where the whole would land: correct for its own loudness.
        sample_source = measure_pcm(sample, rate, true_peak=False)
        if _has_loudness(sample_source):
            target_lufs += sample_source.integrated_lufs - source.integrated_lufs
    below: tuple[float, float] | None = None  # (gain, loudness) under the target
    above: tuple[float, float] | None = None
    best = (float("inf"), gain)
    for _ in range(MAX_SEARCH_STEPS):
        if source.true_peak_dbtp + gain <= limit_dbtp:
            return gain
        loudness = integrated_lufs(sample, rate, filters=chain_for(source, gain, limit_dbtp))
        miss = loudness - target_lufs
        best = min(best, (abs(miss), gain))
        if abs(miss) <= SEARCH_TOLERANCE_LU:
            return gain
        if miss < 0:
            below = (gain, loudness)
        else:
            above = (gain, loudness)
        if below and above:
            (g0, l0), (g1, l1) = below, above
            t = (target_lufs - l0) / (l1 - l0) if l1 != l0 else 0.5
            gain = g0 + (g1 - g0) * min(0.9, max(0.1, t))  # stay strictly inside the bracket
        elif below:
            gain += 2 * (target_lufs - loudness)  # the limiter swallows part of any added gain
        else:
            gain -= loudness - target_lufs  # less gain means less limiting: at least dB for dB
    return best[1]
