"""Cache keys: a digest of everything that changes the sound, and nothing that does not."""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from audio.settings import AudioSettings

# Bump when the mastering changes, so old renders are not served for the new recipe.
PIPELINE_VERSION = 1


@functools.lru_cache(maxsize=32)
def _file_digest(path: str, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes, memoised per (path, mtime, size)."""
    stat = path.stat()
    return _file_digest(str(path), stat.st_mtime_ns, stat.st_size)


def mastering_material(settings: AudioSettings) -> dict[str, object]:
    """The settings that shape the mastered MP3 (the jingle by content, not by name)."""
    jingle = settings.jingle_path
    return {
        "pipeline": PIPELINE_VERSION,
        "loudness_lufs": settings.loudness_lufs,
        "true_peak_dbtp": settings.true_peak_dbtp,
        "bitrate": settings.bitrate,
        "sample_rate": settings.sample_rate,
        "jingle": file_digest(jingle) if jingle is not None and jingle.is_file() else None,
        "gap_ms": settings.gap_ms if jingle is not None else None,
    }


def digest(material: dict[str, object]) -> str:
    blob = json.dumps(material, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def speech_key(normalized: str, language: str, settings: AudioSettings) -> str:
    """Key of a speech render: normalized text, language, engine order with voices, mastering."""
    return digest(
        {
            "kind": "speech",
            "text": normalized,
            "language": language,
            "engines": list(settings.engines),
            "voices": {name: settings.voices.get(name) for name in settings.engines},
            "variant": settings.variant,
            **mastering_material(settings),
        }
    )


def recording_key(source_sha256: str, settings: AudioSettings) -> str:
    """Key of an ingested recording: the uploaded bytes and the mastering."""
    return digest({"kind": "recording", "source": source_sha256, **mastering_material(settings)})
