"""Entry points: text or an uploaded recording in, a broadcast-ready MP3 under media_dir out.

Nothing is rendered twice: a render is looked up by its cache key first, and a hit costs one
sha256 of the stored file. Files appear under their final names only when complete.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from audio import cache
from audio.cache import AUDIO_DIR, file_sha256, store_file, temp_path
from audio.keys import recording_key, speech_key
from audio.process import master_to_mp3
from audio.recordings import load_recording
from audio.rendered import RenderedAudio
from audio.settings import AudioSettings
from audio.synthesis import prepare_text, synthesize

if TYPE_CHECKING:
    from audio.segment import AudioSegment
    from audio.text import Lexicon

__all__ = [
    "RenderedAudio",
    "ingest_recording",
    "render_speech",
    "render_text_to_file",
    "speech_cache_key",
]


def speech_cache_key(text: str, language: str, settings: AudioSettings, lexicon: Lexicon | None = None) -> str:
    """The cache key render_speech would use for this text (it normalizes the text first)."""
    return speech_key(prepare_text(text, language, settings, lexicon), language, settings)


def render_speech(
    text: str,
    *,
    language: str,
    title: str,
    media_dir: Path,
    settings: AudioSettings,
    lexicon: Lexicon | None = None,
) -> RenderedAudio:
    """Speak `text` (Vietnamese is normalized first) and store the mastered MP3 under media_dir.

    Raises EngineUnavailable when no configured engine can speak `language`.
    """
    normalized = prepare_text(text, language, settings, lexicon)
    key = speech_key(normalized, language, settings)
    hit = cache.lookup(media_dir, key, title)
    if hit is not None:
        return hit
    speech = synthesize(normalized, language, settings)
    return _store_mastered(speech.segment, key=key, title=title, media_dir=media_dir, settings=settings,
                           engine=speech.engine, voice=speech.voice, warnings=speech.warnings)


def ingest_recording(source: Path, *, title: str, media_dir: Path, settings: AudioSettings) -> RenderedAudio:
    """Check an uploaded recording and master it like speech; RecordingRejected says what is wrong."""
    segment = load_recording(source, settings)
    key = recording_key(file_sha256(source), settings)
    hit = cache.lookup(media_dir, key, title)
    if hit is not None:
        return hit
    return _store_mastered(segment, key=key, title=title, media_dir=media_dir, settings=settings,
                           engine="recording", voice="", warnings=())


def _store_mastered(
    segment: AudioSegment,
    *,
    key: str,
    title: str,
    media_dir: Path,
    settings: AudioSettings,
    engine: str,
    voice: str,
    warnings: tuple[str, ...],
) -> RenderedAudio:
    """Master `segment` to MP3, store it under media_dir by content and remember it under `key`."""
    with temp_path(media_dir / AUDIO_DIR, ".mp3") as tmp:
        mastered = master_to_mp3(segment, tmp, title=title, settings=settings)
        file_name, sha = store_file(tmp, media_dir)
    rendered = RenderedAudio(
        file_name=file_name,
        sha256=sha,
        duration_ms=mastered.duration_ms,
        loudness_lufs=mastered.loudness_lufs,
        true_peak_dbtp=mastered.true_peak_dbtp,
        engine=engine,
        voice=voice,
        cache_key=key,
        warnings=warnings,
        cached=False,
    )
    cache.remember(media_dir, rendered, title)
    return rendered


def render_text_to_file(
    text: str,
    out: Path,
    *,
    language: str,
    settings: AudioSettings,
    engine: str | None = None,
    voice: str | None = None,
) -> RenderedAudio:
    """Speak `text` straight into the MP3 `out` (for `loaxa speak`); no cache, title = file stem.

    `engine` restricts rendering to that engine; `voice` overrides its voice (or the first one's).
    """
    if engine is not None:
        settings = replace(settings, engines=(engine,))
    if voice is not None and settings.engines:
        settings = replace(settings, voices={**settings.voices, settings.engines[0]: voice})
    normalized = prepare_text(text, language, settings)
    speech = synthesize(normalized, language, settings)
    out.parent.mkdir(parents=True, exist_ok=True)
    with temp_path(out.parent, ".mp3") as tmp:
        mastered = master_to_mp3(speech.segment, tmp, title=out.stem, settings=settings)
        sha = file_sha256(tmp)
        os.replace(tmp, out)
    return RenderedAudio(
        file_name=str(out),
        sha256=sha,
        duration_ms=mastered.duration_ms,
        loudness_lufs=mastered.loudness_lufs,
        true_peak_dbtp=mastered.true_peak_dbtp,
        engine=speech.engine,
        voice=speech.voice,
        cache_key=speech_key(normalized, language, settings),
        warnings=speech.warnings,
        cached=False,
    )
