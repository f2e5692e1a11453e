"""Text to raw speech: normalize, cut into sentence-sized chunks, try the engines in order.

A fallback to a later engine is never silent: it comes back as a Vietnamese warning naming the
engine that could not be used and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from audio.engines import create_engine
from audio.errors import AudioError, EngineUnavailable
from audio.languages import language_name
from audio.segment import AudioSegment
from audio.settings import AudioSettings

if TYPE_CHECKING:
    from audio.text import Lexicon


@dataclass(frozen=True)
class Speech:
    """Raw (unmastered) speech and who spoke it."""

    segment: AudioSegment
    engine: str
    voice: str
    warnings: tuple[str, ...]


def prepare_text(text: str, language: str, settings: AudioSettings, lexicon: Lexicon | None = None) -> str:
    """What the engines read: Vietnamese goes through the normalizer; other languages are only tidied."""
    if language == "vi":
        # Imported here so that audio/ imports even where the normalizer is not installed yet.
        from audio.text import normalize

        return normalize(text, variant=settings.variant, lexicon=lexicon)
    return " ".join(text.split())


def _chunks(text: str, max_chars: int) -> list[str]:
    from audio.text import split_sentences

    return [c for c in split_sentences(text, max_chars=max_chars) if c.strip()]


def synthesize(normalized: str, language: str, settings: AudioSettings) -> Speech:
    """Speak already-normalized text with the first engine that can; raise EngineUnavailable if none."""
    if not normalized.strip():
        raise AudioError("Văn bản rỗng: không có gì để đọc. Hãy nhập nội dung bản tin.")
    if not settings.engines:
        raise AudioError("Chưa cấu hình bộ đọc nào (engines rỗng). Hãy chọn ít nhất một: gtts, edge, espeak.")
    skipped: list[tuple[str, str]] = []  # (engine label, reason)
    for name in settings.engines:
        engine = create_engine(name, settings)
        try:
            if not engine.supports(language):
                skipped.append((engine.label, engine.unsupported_reason(language)))
                continue
            voice = engine.voice_for(language)
            segment = engine.synthesize(_chunks(normalized, engine.max_chunk_chars), language, voice)
        except EngineUnavailable as exc:
            skipped.append((engine.label, exc.reason))
            continue
        except AudioError as exc:  # e.g. the server sent bytes that are not audio
            skipped.append((engine.label, str(exc)))
            continue
        warnings = tuple(
            f"Không dùng được {label} ({reason}); đã chuyển sang {engine.label}." for label, reason in skipped
        )
        return Speech(segment, engine.name, voice, warnings)
    reasons = "; ".join(f"{label}: {reason}" for label, reason in skipped)
    raise EngineUnavailable(
        f"Không bộ đọc nào đọc được {language_name(language)} ({reasons}). "
        "Hãy kiểm tra kết nối mạng, thêm bộ đọc khác vào cấu hình, hoặc tải lên bản ghi âm.",
        reason=reasons,
    )
