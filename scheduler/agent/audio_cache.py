"""Audio files on the box, addressed by SHA-256: verified before use, written atomically.

A download lands in `<sha>.part` and becomes `<sha>.mp3` only after its hash matches, so a
half-written or corrupt file is never played; a file found corrupt is deleted and fetched again.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable
from pathlib import Path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


class AudioCache:
    def __init__(self, root: Path) -> None:
        self.root = root / "audio"
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._verified: dict[str, tuple[int, int]] = {}  # sha -> (size, mtime_ns) when last hashed

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.mp3"

    def part_path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.part"

    def present(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def verify(self, sha256: str, force: bool = False) -> bool:
        """True if the file exists and hashes to its name; a corrupt file is deleted.

        A file already hashed is not hashed again unless its size or mtime changed (or `force`).
        """
        path = self.path(sha256)
        try:
            st = path.stat()
        except FileNotFoundError:
            return False
        stamp = (st.st_size, st.st_mtime_ns)
        with self._lock:
            if not force and self._verified.get(sha256) == stamp:
                return True
        if file_sha256(path) == sha256:
            with self._lock:
                self._verified[sha256] = stamp
            return True
        path.unlink(missing_ok=True)
        with self._lock:
            self._verified.pop(sha256, None)
        return False

    def complete(self, sha256: str) -> bool:
        """Promote a finished `.part` file if its hash matches; a mismatching one is discarded."""
        part = self.part_path(sha256)
        if file_sha256(part) != sha256:
            part.unlink(missing_ok=True)
            return False
        os.replace(part, self.path(sha256))
        dir_fd = os.open(self.path(sha256).parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # make the rename itself survive a power cut
        finally:
            os.close(dir_fd)
        return self.verify(sha256, force=True)

    def prepare(self, sha256: str) -> Path:
        part = self.part_path(sha256)
        part.parent.mkdir(parents=True, exist_ok=True)
        return part

    def cached(self) -> set[str]:
        return {p.stem for p in self.root.glob("*/*.mp3")}

    def prune(self, keep: Iterable[str]) -> int:
        """Delete files no longer referenced; return how many."""
        wanted = set(keep)
        removed = 0
        for path in list(self.root.glob("*/*.mp3")) + list(self.root.glob("*/*.part")):
            if path.stem not in wanted:
                path.unlink(missing_ok=True)
                removed += 1
        with self._lock:
            for sha in list(self._verified):
                if sha not in wanted:
                    del self._verified[sha]
        return removed

    def drop_parts(self) -> int:
        """Delete every partial download (they are fetched again, whole, when there is room)."""
        removed = 0
        for path in self.root.glob("*/*.part"):
            path.unlink(missing_ok=True)
            removed += 1
        return removed

    def free_bytes(self) -> int:
        st = os.statvfs(self.root)
        return st.f_bavail * st.f_frsize
