"""Checking and storing uploaded recordings. Decoding happens later, in the background render job."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from werkzeug.datastructures import FileStorage

from scheduler.imports import store_upload
from web.forms import MAX_RECORDING_BYTES, RECORDING_EXTENSIONS


def looks_like_audio(head: bytes) -> bool:
    """True if the first bytes are a known audio container's signature (MP3, WAV, OGG, FLAC, MP4/M4A, AAC, WebM)."""
    if head.startswith((b"ID3", b"OggS", b"fLaC", b"\x1a\x45\xdf\xa3")):  # ... and WebM (EBML): browser recordings
        return True
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return True
    if head[4:8] == b"ftyp":
        return True
    # A bare MPEG audio frame (MP3) or an ADTS AAC frame: 11 or 12 sync bits.
    return len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0


def read_recording(upload: FileStorage | None) -> tuple[bytes, str] | None:
    """The uploaded bytes and their extension, or None when nothing was chosen; ValueError (Vietnamese) if bad."""
    if upload is None or not upload.filename:
        return None
    name = upload.filename
    suffix = Path(name).suffix.lower()
    if suffix not in RECORDING_EXTENSIONS:
        allowed = ", ".join(e.lstrip(".").upper() for e in RECORDING_EXTENSIONS)
        raise ValueError(f"Tệp «{name}» không phải tệp âm thanh được nhận. Hãy chọn tệp {allowed}.")
    data = upload.stream.read(MAX_RECORDING_BYTES + 1)
    if len(data) > MAX_RECORDING_BYTES:
        raise ValueError(f"Tệp «{name}» lớn hơn {MAX_RECORDING_BYTES // (1024 * 1024)} MB. Hãy nén hoặc cắt ngắn.")
    if not data:
        raise ValueError(f"Tệp «{name}» rỗng. Hãy chọn lại tệp ghi âm.")
    if not looks_like_audio(data[:16]):
        raise ValueError(f"Tệp «{name}» có đuôi {suffix} nhưng nội dung không phải âm thanh. Hãy xuất lại tệp ghi âm.")
    return data, suffix


def save_recording(data: bytes, suffix: str, media_dir: Path) -> tuple[str, bool]:
    """Store under its content hash (scheduler.imports.store_upload); return the name and whether it is new.

    Only a new file may be removed again if the save fails: an existing one belongs to another bulletin.
    """
    expected = f"uploads/{hashlib.sha256(data).hexdigest()}{suffix}"
    existed = (media_dir / expected).exists()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / f"upload{suffix}"
        source.write_bytes(data)
        name = store_upload(source, media_dir)
    return name, not existed and name == expected


def discard_recording(name: str, media_dir: Path) -> None:
    """Remove a recording stored for a save that then failed."""
    (media_dir / name).unlink(missing_ok=True)
