"""Broadcast mastering: trim silence, optional jingle, loudness to target under a true-peak ceiling, MP3.

Loudness is fitted by a gain (audio.gain), with an oversampled look-ahead limiter when that gain
would push true peaks over the ceiling; the MP3 itself is measured and re-made until it is on
target, since the encoder changes loudness and peaks too.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

from audio.errors import AudioError
from audio.ffmpeg import configure_pydub, decode_to_pcm
from audio.gain import chain_for, first_guess, solve_gain
from audio.loudness import SILENCE_LUFS, Loudness, measure_file, measure_pcm
from audio.segment import AudioSegment, conform_pcm, detect_leading_silence, from_pcm, silence
from audio.settings import AudioSettings

# Silence is judged relative to the loudest sample, so quiet recordings are trimmed too.
SILENCE_BELOW_PEAK_DB = 45.0
SILENCE_FLOOR_DBFS = -60.0
KEEP_SILENCE_MS = 150  # left at both ends so the first consonant is not clipped
LOUDNESS_TOLERANCE_LU = 0.5  # how far the final MP3 may land from the target before it is re-made
INITIAL_MARGIN_DB = 0.7  # headroom under the ceiling for resampling and MP3 overshoot
# LAME loses about 0.4 LU on speech at 24 kHz (measured); the first try aims that much higher.
ENCODER_LOSS_GUESS_LU = 0.4
MAX_ATTEMPTS = 4


@dataclass(frozen=True)
class Mastered:
    """What the final MP3 measured."""

    duration_ms: int
    loudness_lufs: float
    true_peak_dbtp: float


def trim_silence(segment: AudioSegment) -> AudioSegment:
    """Cut leading and trailing silence, keeping a short pad; an all-silent segment becomes empty."""
    if len(segment) == 0 or segment.max_dBFS == -math.inf:
        return segment[:0]
    threshold = max(segment.max_dBFS - SILENCE_BELOW_PEAK_DB, SILENCE_FLOOR_DBFS)
    start = detect_leading_silence(segment, silence_threshold=threshold, chunk_size=10)
    end = len(segment) - detect_leading_silence(segment.reverse(), silence_threshold=threshold, chunk_size=10)
    if end <= start:
        return segment[:0]
    return segment[max(0, start - KEEP_SILENCE_MS) : min(len(segment), end + KEEP_SILENCE_MS)]


@functools.lru_cache(maxsize=8)
def _jingle_pcm(path: str, mtime_ns: int, size: int, sample_rate: int) -> bytes:
    return decode_to_pcm(Path(path), sample_rate=sample_rate)


def load_jingle(path: Path, sample_rate: int) -> AudioSegment:
    """Decode the jingle (memoised per file version), trimmed of silence."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise AudioError(
            f"Không đọc được tệp nhạc hiệu '{path}' ({exc.strerror}). "
            "Hãy kiểm tra đường dẫn nhạc hiệu trong cấu hình âm thanh."
        ) from exc
    try:
        pcm = _jingle_pcm(str(path), stat.st_mtime_ns, stat.st_size, sample_rate)
    except AudioError as exc:
        raise AudioError(
            f"Tệp nhạc hiệu '{path}' không phải âm thanh đọc được ({exc}). Hãy chọn tệp MP3 hoặc WAV khác."
        ) from exc
    jingle = trim_silence(from_pcm(pcm, sample_rate))
    if len(jingle) == 0:
        raise AudioError(f"Tệp nhạc hiệu '{path}' chỉ có khoảng lặng. Hãy chọn tệp nhạc hiệu khác.")
    return jingle


def _balanced(parts: list[AudioSegment], target_lufs: float, sample_rate: int) -> list[AudioSegment]:
    """Bring parts to equal loudness, all lowered by one common headroom so none clips in 16 bits."""
    measures = [measure_pcm(bytes(p.raw_data), sample_rate) for p in parts]
    gains = [first_guess(m, target_lufs, limit_dbtp=-1.0) for m in measures]
    headroom = max(0.0, max(m.sample_peak_dbfs + g for m, g in zip(measures, gains, strict=True)) + 0.5)
    return [p.apply_gain(g - headroom) for p, g in zip(parts, gains, strict=True)]


def export_mp3(pcm: bytes, out: Path, *, title: str, settings: AudioSettings, filters: str = "") -> None:
    """Mono MP3 at the configured bitrate and rate, with the ID3 title tag, after `filters`."""
    from pydub.exceptions import CouldntEncodeError

    configure_pydub()
    parameters = ["-ac", "1", "-ar", str(settings.sample_rate)]
    if filters:
        parameters += ["-af", filters]
    try:
        from_pcm(pcm, settings.sample_rate).export(
            str(out), format="mp3", bitrate=settings.bitrate, tags={"title": title}, parameters=parameters
        )
    except CouldntEncodeError as exc:
        raise AudioError(
            f"ffmpeg không mã hóa được MP3 (tốc độ bit {settings.bitrate}): {str(exc)[-300:]}. "
            "Hãy kiểm tra tốc độ bit trong cấu hình âm thanh (ví dụ 64k)."
        ) from exc


def assemble(speech: AudioSegment, settings: AudioSettings) -> AudioSegment:
    """Trimmed speech at the output rate, between intro and outro jingle when one is configured."""
    rate = settings.sample_rate
    body = trim_silence(from_pcm(conform_pcm(speech, rate), rate))
    if len(body) == 0:
        raise AudioError("Âm thanh chỉ toàn khoảng lặng, không có gì để phát.")
    if settings.jingle_path is None:
        return body
    jingle = load_jingle(settings.jingle_path, rate)
    jingle, body = _balanced([jingle, body], settings.loudness_lufs, rate)
    gap = silence(settings.gap_ms, rate)
    return jingle + gap + body + gap + jingle


def master_to_mp3(speech: AudioSegment, out: Path, *, title: str, settings: AudioSettings) -> Mastered:
    """Write the broadcast-ready MP3 of `speech` to `out` and return what the file itself measures.

    The gain is solved on PCM, then the MP3 is measured; what the encoder changed (loudness,
    overshooting peaks) is corrected on the next try.
    """
    rate = settings.sample_rate
    target, ceiling = settings.loudness_lufs, settings.true_peak_dbtp
    programme = bytes(assemble(speech, settings).raw_data)
    source = measure_pcm(programme, rate, true_peak=False)
    if source.sample_peak_dbfs == -math.inf:
        raise AudioError("Âm thanh chỉ toàn khoảng lặng, không có gì để phát.")
    margin, encoder_loss = INITIAL_MARGIN_DB, ENCODER_LOSS_GUESS_LU
    final: Loudness | None = None
    for _ in range(MAX_ATTEMPTS):
        limit = ceiling - margin
        gain = solve_gain(programme, source, target_lufs=target + encoder_loss, limit_dbtp=limit)
        export_mp3(programme, out, title=title, settings=settings, filters=chain_for(source, gain, limit))
        final = measure_file(out, rate)
        peak_ok = final.true_peak_dbtp <= ceiling
        too_short = final.integrated_lufs <= SILENCE_LUFS + 0.1  # under 400 ms: no integrated loudness
        loud_ok = too_short or abs(final.integrated_lufs - target) <= LOUDNESS_TOLERANCE_LU
        if peak_ok and loud_ok:
            break
        if not peak_ok:
            margin += final.true_peak_dbtp - ceiling + 0.2
        if not loud_ok:
            encoder_loss += target - final.integrated_lufs
    assert final is not None
    if final.true_peak_dbtp > ceiling:
        raise AudioError(
            f"Không giữ được đỉnh thực dưới {ceiling} dBTP (đo được {final.true_peak_dbtp:.1f} dBTP). "
            "Hãy hạ mức độ to mục tiêu trong cấu hình âm thanh."
        )
    return Mastered(final.duration_ms, final.integrated_lufs, final.true_peak_dbtp)
