"""The one interface every speech engine implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from audio.errors import EngineUnavailable
from audio.languages import language_name
from audio.segment import AudioSegment, silence
from audio.settings import AudioSettings

# A breath between sentence-sized chunks rendered by separate requests.
CHUNK_PAUSE_MS = 250


class SpeechEngine(ABC):
    """Turns sentence-sized chunks of normalized text into one mono AudioSegment.

    `synthesize` raises EngineUnavailable (Vietnamese message) when it cannot render; it never
    returns partial audio.
    """

    name: str  # "gtts" | "edge" | "espeak"
    label: str  # how users know it: "gTTS", "Edge TTS", "espeak-ng"
    max_chunk_chars: int = 200

    def __init__(self, settings: AudioSettings) -> None:
        self.settings = settings

    @abstractmethod
    def supports(self, language: str) -> bool:
        """Whether this engine has a voice for `language` (ISO 639 code, e.g. "vi", "km")."""

    @abstractmethod
    def voice_for(self, language: str) -> str:
        """The voice used for `language`: the settings' override when it fits, else the default."""

    @abstractmethod
    def synthesize(self, chunks: Sequence[str], language: str, voice: str) -> AudioSegment:
        """Render the chunks in order as one mono segment."""

    def unsupported_reason(self, language: str) -> str:
        return f"không có giọng đọc {language_name(language)}"

    def unavailable(self, reason: str) -> EngineUnavailable:
        """The error to raise: a full sentence, with the short `reason` kept for warnings."""
        return EngineUnavailable(f"Không dùng được {self.label}: {reason}.", engine=self.name, reason=reason)


def join_chunks(parts: Sequence[AudioSegment], sample_rate: int) -> AudioSegment:
    """Concatenate per-chunk audio with a short pause between chunks."""
    out = parts[0]
    for part in parts[1:]:
        out = out + silence(CHUNK_PAUSE_MS, sample_rate) + part
    return out
