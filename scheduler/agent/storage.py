"""A full cache disk: the box keeps playing what it holds, frees what it can and recovers by itself.

What fills a box's disk is audio: downloads (`.part` files) and files no programme needs any more.
When a write fails for want of space (a download, or the SQLite play log: "database or disk is
full"), `DiskGuard.on_full` deletes every partial download, evicts audio no item still to air needs
and releases the reserve: a file of `reserve_bytes` kept beside the cache so that the play log
always has room to be written once the disk has filled. While full, no download starts; the state
("đầy bộ nhớ") goes out in the status. Once free space is back above twice the reserve, the reserve
is laid down again and downloads resume.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from scheduler.agent.audio_cache import AudioCache

log = logging.getLogger("loaxa.agent.storage")

RESERVE_NAME = "reserve.bin"
DEFAULT_RESERVE_BYTES = 8 * 1024 * 1024
FULL_LABEL = "đầy bộ nhớ"


class DiskFull(OSError):
    """A write failed for want of space even after freeing what could be freed."""

    def __init__(self, what: str) -> None:
        super().__init__(errno.ENOSPC, f"Đầu thu {FULL_LABEL}: {what}")


def is_disk_full(exc: BaseException) -> bool:
    """ENOSPC/EDQUOT from the file system, or SQLite's SQLITE_FULL ("database or disk is full")."""
    if isinstance(exc, DiskFull):
        return True
    if isinstance(exc, sqlite3.OperationalError):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "is full" in str(exc)
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


class DiskGuard:
    """Frees space when a write fails, holds the reserve, and says whether the disk is full."""

    def __init__(self, root: Path, cache: AudioCache, needed: Callable[[], set[str]],
                 clock: Callable[[], datetime], reserve_bytes: int = DEFAULT_RESERVE_BYTES) -> None:
        self.reserve = root / RESERVE_NAME
        self.reserve_bytes = reserve_bytes
        self.cache = cache
        self._needed = needed
        self._clock = clock
        self._lock = threading.Lock()
        self.full_since: datetime | None = None
        self.what = ""
        self.freed = 0  # files deleted to make room since the disk filled
        self._floor = 0  # free bytes right after freeing: space has returned only once above this

    @property
    def full(self) -> bool:
        return self.full_since is not None

    def on_full(self, what: str) -> None:
        """A write failed for want of space: note it and free partial downloads, unneeded audio, the reserve."""
        with self._lock:
            if self.full_since is None:
                self.full_since = self._clock()
                self.freed = 0
                log.error("Đầu thu %s (%s): xóa tệp tải dở, âm thanh không còn cần và phần dự trữ; "
                          "vẫn phát âm thanh đang có.", FULL_LABEL, what)
            self.what = what
            try:
                self.freed += self.cache.drop_parts()
                self.freed += self.cache.prune(self._needed())
            except (OSError, sqlite3.Error) as exc:  # reading the manifests may fail too: the reserve still goes
                log.error("Không dọn được bộ nhớ đệm âm thanh: %s", exc)
            self.reserve.unlink(missing_ok=True)
            self._floor = self.cache.free_bytes()

    def settle(self) -> bool:
        """Lay the reserve down when there is room; leave the full state once free space is back (True
        then). Back means twice the reserve free and a reserve more than freeing alone left, so a file
        too big for what freeing gave is not tried again and again."""
        with self._lock:
            free = self.cache.free_bytes()
            room = free >= 2 * self.reserve_bytes
            recovered = self.full_since is not None and room and free >= self._floor + max(self.reserve_bytes, 1)
            if recovered:
                log.info("Đầu thu đã có lại dung lượng trống (%d MB); tải âm thanh trở lại.", free // (1024 * 1024))
                self.full_since = None
                self.what = ""
            if self.full_since is None and room and self.reserve_bytes and not self.reserve.exists():
                self._lay_reserve()
            return recovered

    def _lay_reserve(self) -> None:
        part = self.reserve.with_suffix(".tmp")
        try:
            with open(part, "wb") as fh:
                try:
                    os.posix_fallocate(fh.fileno(), 0, self.reserve_bytes)
                except OSError as exc:
                    if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                        raise
                    fh.write(b"\0" * self.reserve_bytes)  # a file system without fallocate
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(part, self.reserve)
        except OSError as exc:
            part.unlink(missing_ok=True)
            log.warning("Không tạo được phần dự trữ %s: %s", self.reserve, exc)

    def status(self) -> dict[str, Any]:
        """For the status report: {"state": "ok"} or {"state": "full", "label": "đầy bộ nhớ", …}."""
        since = self.full_since
        if since is None:
            return {"state": "ok"}
        return {"state": "full", "label": FULL_LABEL, "since": since.isoformat(), "what": self.what[:200],
                "freed_files": self.freed}
