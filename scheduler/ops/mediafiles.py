"""Media files for backups: listing with checksums, and copying by hardlink where possible.

Media files are content-addressed and written once (temp file, then rename), so a hardlink
is as safe as a copy and costs no space.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20
PARTIAL_SUFFIXES = (".part", ".tmp")  # files still being written by another process


@dataclass(frozen=True)
class MediaFile:
    path: str  # relative, with "/" separators
    sha256: str
    size: int


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def walk(root: Path) -> Iterator[Path]:
    """Regular files under `root` in a stable order, leaving out half-written ones."""
    if not root.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(PARTIAL_SUFFIXES):
                continue
            path = Path(dirpath) / name
            if path.is_file() and not path.is_symlink():
                yield path


def link_or_copy(source: Path, target: Path) -> None:
    """Put `source`'s bytes at `target` (a new file): a hardlink if the filesystem allows, else a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    tmp.replace(target)


def copy_tree(source_root: Path, target_root: Path) -> list[MediaFile]:
    """Copy every media file from one root to another; return the list with checksums."""
    files = []
    for path in walk(source_root):
        rel = path.relative_to(source_root).as_posix()
        target = target_root / rel
        link_or_copy(path, target)
        files.append(MediaFile(rel, sha256_of(target), target.stat().st_size))
    return files
