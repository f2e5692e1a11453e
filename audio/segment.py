"""pydub AudioSegment helpers that never need ffprobe: raw PCM in, raw PCM out."""

from __future__ import annotations

import warnings

from audio.ffmpeg import decode_to_pcm, pcm_input_args, pcm_output_args, run_ffmpeg

with warnings.catch_warnings():
    # pydub warns at import when ffmpeg is not on PATH; we point it at our binary before exporting.
    warnings.simplefilter("ignore")
    from pydub import AudioSegment
    from pydub.silence import detect_leading_silence

__all__ = ["AudioSegment", "detect_leading_silence", "from_pcm", "decode_segment", "conform_pcm", "silence"]


def from_pcm(pcm: bytes, sample_rate: int) -> AudioSegment:
    """Wrap mono 16-bit PCM; an odd trailing byte (a cut sample) is dropped."""
    return AudioSegment(data=pcm[: len(pcm) - len(pcm) % 2], sample_width=2, frame_rate=sample_rate, channels=1)


def silence(duration_ms: int, sample_rate: int) -> AudioSegment:
    """Digital silence, mono 16-bit."""
    return from_pcm(b"\x00\x00" * (duration_ms * sample_rate // 1000), sample_rate)


def decode_segment(data: bytes, sample_rate: int) -> AudioSegment:
    """Decode encoded audio bytes (MP3 from an online engine) to a mono segment."""
    return from_pcm(decode_to_pcm(data, sample_rate=sample_rate), sample_rate)


def conform_pcm(segment: AudioSegment, sample_rate: int) -> bytes:
    """Mono 16-bit PCM of `segment` at `sample_rate` (ffmpeg resamples; pydub's resampler is crude)."""
    seg = segment.set_channels(1).set_sample_width(2)
    if seg.frame_rate == sample_rate:
        return bytes(seg.raw_data)
    args = [*pcm_input_args(seg.frame_rate), *pcm_output_args(sample_rate)]
    return run_ffmpeg(args, input_bytes=bytes(seg.raw_data)).stdout
