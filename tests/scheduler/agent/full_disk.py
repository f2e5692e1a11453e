"""A real small file system for full-disk tests: a tmpfs mounted in a private user and mount namespace.

`in_small_fs(size, cache, argv)` runs `argv` with a tmpfs of `size` mounted on `cache`, visible only to
that process (`unshare --user --map-root-user --mount`: no root needed where unprivileged user
namespaces are allowed). From outside, the process's files are reached through /proc/<pid>/root.

Run as a script (`python full_disk.py CACHE`) it plays the store scenario below inside such a
file system and prints what it saw as JSON.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
ROOT = HERE.parents[3]


def small_fs_available() -> str | None:
    """None when a private tmpfs can be mounted here; otherwise why not."""
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is not installed"
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                            "mount -t tmpfs -o size=64k tmpfs /tmp && echo ok"], capture_output=True, text=True)
    return None if probe.stdout.strip() == "ok" else f"no private tmpfs: {probe.stderr.strip()[:200]}"


def in_small_fs(size_kb: int, cache: Path, argv: list[str]) -> list[str]:
    cache.mkdir(parents=True, exist_ok=True)
    script = f'mount -t tmpfs -o size={size_kb}k tmpfs "$0" && exec "$@"'
    return ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private", "sh", "-c", script,
            str(cache), *argv]


def fill(path: Path) -> int:
    """Write zeros to `path` until the file system refuses (ENOSPC); how many bytes went in."""
    written = 0
    block = b"\0" * 4096
    with open(path, "ab", buffering=0) as fh:
        while True:
            try:
                written += fh.write(block)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                return written


def store_scenario(cache: Path) -> dict[str, Any]:
    """The agent's store and cache on a tmpfs that fills up, empties, and fills again."""
    sys.path.insert(0, str(ROOT))
    from scheduler.agent.audio_cache import AudioCache
    from scheduler.agent.storage import DiskGuard
    from scheduler.agent.store import PlayRow, Store, iso

    now = datetime(2026, 11, 24, 5, 30, tzinfo=UTC)
    needed_sha, unneeded_sha, orphan_sha = "a" * 64, "b" * 64, "c" * 64
    store = Store(cache / "agent.sqlite3")
    audio = AudioCache(cache)
    guard = DiskGuard(cache, audio, lambda: {needed_sha}, lambda: now, reserve_bytes=256 * 1024)
    store.on_full = guard.on_full
    guard.settle()
    seen: dict[str, Any] = {"reserve_laid": guard.reserve.exists()}
    for sha in (needed_sha, unneeded_sha):
        audio.prepare(sha)
        audio.path(sha).write_bytes(os.urandom(150 * 1024))
    audio.prepare(orphan_sha).write_bytes(os.urandom(150 * 1024))  # a download cut short long ago
    fill(cache / "filler-1.bin")
    # The writes a box makes while it plays: alive marks, play rows opened and closed.
    ids = []
    errors = []
    for n in range(400):
        at = now + timedelta(seconds=10 * n)
        row = PlayRow(play_id=f"p{n:04d}", item_key=f"k{n}", kind="bulletin", actual_start=iso(at) or "",
                      result="playing", title=f"Bản tin số {n} " + "x" * 200)
        try:
            store.set_value("alive_at", iso(at) or "")
        except OSError as exc:
            errors.append(type(exc).__name__)
        store.start_play(row)
        store.finish_play(row.play_id, at + timedelta(seconds=5), 5000, "played", "", handled_key=row.item_key)
        ids.append(row.play_id)
        if n == 200:
            seen["after_first_fill"] = {
                "full": guard.full, "label": guard.status().get("label"),
                "reserve": guard.reserve.exists(), "orphan_part": audio.part_path(orphan_sha).exists(),
                "needed": audio.present(needed_sha), "unneeded": audio.present(unneeded_sha),
            }
            fill(cache / "filler-2.bin")  # the disk fills again: nothing left to free
    seen["held_in_memory"] = store.held
    seen["errors_from_alive_marks"] = sorted(set(errors))
    closed = store.closed_plays(1000)
    seen["closed_ids_complete"] = [r.play_id for r in closed] == ids
    (cache / "filler-1.bin").unlink()
    (cache / "filler-2.bin").unlink()
    guard.settle()
    seen["after_space_returns"] = {"full": guard.full, "reserve": guard.reserve.exists(),
                                   "still_held": store.flush_held()}
    store.close()
    reopened = Store(cache / "agent.sqlite3")
    seen["on_disk_after_restart"] = [r.play_id for r in reopened.closed_plays(1000)] == ids
    seen["handled_on_disk"] = len(reopened.handled_keys())
    reopened.close()
    return seen


if __name__ == "__main__":
    print(json.dumps(store_scenario(Path(sys.argv[1]))))
