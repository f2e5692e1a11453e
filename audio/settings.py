"""Settings of the text-to-speech engines and of the broadcast processing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ENGINE_NAMES: tuple[str, ...] = ("gtts", "edge", "espeak")


@dataclass(frozen=True)
class AudioSettings:
    """How speech is rendered and mastered; the defaults fit a commune loudspeaker network."""

    engines: tuple[str, ...] = ("gtts", "espeak")  # tried in order; a fallback is reported as a warning
    voices: Mapping[str, str] = field(default_factory=dict)  # engine -> voice, e.g. edge: vi-VN-NamMinhNeural
    loudness_lufs: float = -16.0
    true_peak_dbtp: float = -1.5
    bitrate: str = "64k"
    sample_rate: int = 24000
    max_recording_seconds: int = 1800
    jingle_path: Path | None = None  # intro/outro jingle (nhạc hiệu)
    gap_ms: int = 600  # silence between jingle and speech
    http_timeout_s: float = 10.0
    gtts_base_url: str | None = None  # replaces https://translate.google.com (tests use a local server)
    edge_url: str | None = None  # replaces edge-tts' websocket URL (tests use a local server)
    variant: str = "north"  # reading variant for the normalizer and espeak-ng: north, central, south
