"""Content-addressed store of rendered MP3s and the cache index that maps a cache key to one.

Files live at media_dir/audio/<sha256>.mp3; media_dir/cache/<cache_key>.json records, per ID3
title, which file holds the render. Everything is written to a temporary name and renamed, so a
crash never leaves a half-written file under a final name.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path

from audio.errors import AudioError
from audio.ffmpeg import run_ffmpeg
from audio.rendered import RenderedAudio

AUDIO_DIR = "audio"
CACHE_DIR = "cache"
INDEX_VERSION = 1


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def temp_path(directory: Path, suffix: str) -> Iterator[Path]:
    """A fresh temporary path in `directory` (same file system as the final name), removed on exit."""
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=directory)
    os.close(fd)
    path = Path(name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def content_name(sha256: str) -> str:
    """Where the MP3 with this content lives, relative to media_dir."""
    return f"{AUDIO_DIR}/{sha256}.mp3"


def store_file(tmp: Path, media_dir: Path) -> tuple[str, str]:
    """Move a finished MP3 to its content address; return (file_name relative to media_dir, sha256)."""
    sha = file_sha256(tmp)
    file_name = content_name(sha)
    os.replace(tmp, media_dir / file_name)
    return file_name, sha


def _index_path(media_dir: Path, cache_key: str) -> Path:
    return media_dir / CACHE_DIR / f"{cache_key}.json"


def _read_index(media_dir: Path, cache_key: str) -> dict[str, object] | None:
    try:
        data = json.loads(_index_path(media_dir, cache_key).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # missing or damaged index: render again
    if not isinstance(data, dict) or data.get("version") != INDEX_VERSION:
        return None
    return data


def _verified(media_dir: Path, entry: object) -> tuple[str, str] | None:
    if not isinstance(entry, dict):
        return None
    file_name, sha = entry.get("file_name"), entry.get("sha256")
    if not isinstance(file_name, str) or not isinstance(sha, str):
        return None
    path = media_dir / file_name
    try:
        return (file_name, sha) if path.is_file() and file_sha256(path) == sha else None
    except OSError:
        return None


def _write_index(media_dir: Path, cache_key: str, data: dict[str, object]) -> None:
    final = _index_path(media_dir, cache_key)
    with temp_path(final.parent, ".json") as tmp:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, final)


def _retag(media_dir: Path, file_name: str, title: str) -> tuple[str, str]:
    """Copy an MP3 under a new ID3 title without re-encoding (audio and loudness unchanged)."""
    with temp_path(media_dir / AUDIO_DIR, ".mp3") as tmp:
        run_ffmpeg(
            ["-y", "-i", str(media_dir / file_name), "-map", "0:a", "-c:a", "copy",
             "-map_metadata", "-1", "-metadata", f"title={title}", "-id3v2_version", "4", "-f", "mp3", str(tmp)]
        )  # fmt: skip
        return store_file(tmp, media_dir)


def lookup(media_dir: Path, cache_key: str, title: str) -> RenderedAudio | None:
    """The cached render for this key and title, after checking its file's sha256; None on a miss."""
    data = _read_index(media_dir, cache_key)
    if data is None:
        return None
    files = data.get("files")
    if not isinstance(files, dict):
        return None
    found = _verified(media_dir, files.get(title))
    if found is None:
        # Same sound under another title: re-tag a verified copy rather than render again.
        source = next((v for v in (_verified(media_dir, e) for e in files.values()) if v), None)
        if source is None:
            return None
        try:
            found = _retag(media_dir, source[0], title)
        except AudioError:
            return None
        files[title] = {"file_name": found[0], "sha256": found[1]}
        _write_index(media_dir, cache_key, data)
    try:
        return RenderedAudio(
            file_name=found[0],
            sha256=found[1],
            duration_ms=int(data["duration_ms"]),  # type: ignore[call-overload]
            loudness_lufs=float(data["loudness_lufs"]),  # type: ignore[arg-type]
            true_peak_dbtp=float(data["true_peak_dbtp"]),  # type: ignore[arg-type]
            engine=str(data["engine"]),
            voice=str(data["voice"]),
            cache_key=cache_key,
            warnings=tuple(str(w) for w in data.get("warnings", ())),  # type: ignore[attr-defined]
            cached=True,
        )
    except (KeyError, TypeError, ValueError):
        return None


def remember(media_dir: Path, rendered: RenderedAudio, title: str) -> None:
    """Record a fresh render as the only entry of its cache key's index.

    A render happens only when no listed file verified, so older entries are dropped.
    """
    files = {title: {"file_name": rendered.file_name, "sha256": rendered.sha256}}
    record = {
        k: v for k, v in asdict(replace(rendered, cached=False)).items() if k not in ("file_name", "sha256", "cached")
    }
    record["warnings"] = list(rendered.warnings)
    _write_index(media_dir, rendered.cache_key, {"version": INDEX_VERSION, **record, "files": files})
