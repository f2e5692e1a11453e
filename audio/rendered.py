"""The result of rendering speech or ingesting a recording."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RenderedAudio:
    """A broadcast-ready MP3 under media_dir and what it measured."""

    file_name: str  # relative to media_dir, e.g. "audio/<sha256>.mp3"
    sha256: str  # of the output file bytes
    duration_ms: int
    loudness_lufs: float
    true_peak_dbtp: float
    engine: str  # "gtts" | "edge" | "espeak" | "recording"
    voice: str
    cache_key: str
    warnings: tuple[str, ...]  # Vietnamese, e.g. an engine fallback
    cached: bool
