"""Updating the agent on the box: download the published package, check its SHA-256, install it beside
the current one, switch, and let the launcher (scheduler.agent.launcher) start it and roll back by
itself if the new version does not report healthy in time.

The launcher's home (`--home`, set by `loaxa agent --supervise`) holds:

    releases/<version>-<sha12>/   each installed package (pip install --no-deps --target)
    current -> releases/…         the release the launcher runs (absent: the base installation)
    update.json                   the update under way: switched → trying → done | rolled_back
    healthy.json                  written by an agent once its first status reached the server
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from scheduler import wire
from scheduler.agent.care import Care
from scheduler.agent.client import ServerClient, ServerRefused, ServerUnavailable
from scheduler.agent.status import agent_version
from scheduler.agent.store import iso

log = logging.getLogger("loaxa.agent.update")

STATE_FILE, HEALTHY_FILE, CURRENT_LINK, RELEASES = "update.json", "healthy.json", "current", "releases"
INSTALL_TIMEOUT = 600.0
KEEP_RELEASES = 3


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Atomically: a power cut leaves the old file or the new one, never half of one."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def current_release(home: Path) -> Path | None:
    link = home / CURRENT_LINK
    return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None


def switch(home: Path, target: Path | None) -> None:
    """Point `current` at `target` atomically (None: back to the base installation)."""
    link = home / CURRENT_LINK
    if target is None:
        link.unlink(missing_ok=True)
        return
    tmp = home / (CURRENT_LINK + ".new")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    os.replace(tmp, link)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Updater:
    def __init__(self, home: Path | None, client: ServerClient, care: Care) -> None:
        self.home = home
        self.client = client
        self.care = care

    # -- the update command ---------------------------------------------------------------------

    def update(self, cmd: wire.Command, now: datetime) -> bool:
        """Install the package and switch to it; True when the agent must now restart into it."""
        if self.home is None:
            self.care.record(cmd, "failed", "Đầu thu không chạy dưới trình khởi chạy nên không tự cập nhật được "
                                            "(chạy: loaxa agent --supervise --home THƯ_MỤC …).", now)
            return False
        assert cmd.sha256 is not None and cmd.version is not None
        if cmd.version == agent_version():
            self.care.record(cmd, "ok", f"Đầu thu đã chạy phiên bản {cmd.version}.", now)
            return False
        try:
            release = self._install(cmd)
        except (OSError, ServerUnavailable, ServerRefused, ValueError) as exc:
            self.care.record(cmd, "failed", f"Không cập nhật được lên phiên bản {cmd.version}: {exc}", now)
            return False
        previous = current_release(self.home)
        write_json(self.home / STATE_FILE, {
            "state": "switched", "command": cmd.id, "version": cmd.version, "sha256": cmd.sha256,
            "release": str(release), "previous": str(previous) if previous else None,
            "previous_version": agent_version(), "at": iso(now),
        })
        (self.home / HEALTHY_FILE).unlink(missing_ok=True)
        switch(self.home, release)
        self.care.record(cmd, "running", f"Đã cài phiên bản {cmd.version} bên cạnh phiên bản {agent_version()}; "
                                         "đang chuyển sang phiên bản mới.", now)
        return True

    def _install(self, cmd: wire.Command) -> Path:
        assert self.home is not None and cmd.sha256 is not None and cmd.version is not None
        releases = self.home / RELEASES
        releases.mkdir(parents=True, exist_ok=True)
        name = "".join(c for c in cmd.version if c.isalnum() or c in ".-+_")[:40] or "ban"
        release = releases / f"{name}-{cmd.sha256[:12]}"
        if (release / ".installed").exists():
            return release
        downloads = self.home / "downloads"
        downloads.mkdir(exist_ok=True)
        wheel = downloads / f"loaxa-{name}-py3-none-any.whl"
        # From the box's own server, whatever host the command names: the token goes nowhere else.
        self.client.fetch_to(wire.agent_package_path(cmd.sha256), wheel)
        got = sha256_of(wheel)
        if got != cmd.sha256:
            wheel.unlink(missing_ok=True)
            raise ValueError(f"SHA-256 của gói tải về ({got[:12]}…) không khớp ({cmd.sha256[:12]}…); đã bỏ gói.")
        partial = release.with_name(release.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        done = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "--disable-pip-version-check",
             "--no-index", "--target", str(partial), str(wheel)],
            capture_output=True, timeout=INSTALL_TIMEOUT, check=False)
        if done.returncode != 0:
            shutil.rmtree(partial, ignore_errors=True)
            raise ValueError("pip không cài được gói: " + done.stderr.decode(errors="replace").strip()[-300:])
        (partial / ".installed").write_text(cmd.sha256, encoding="utf-8")
        shutil.rmtree(release, ignore_errors=True)
        os.replace(partial, release)
        wheel.unlink(missing_ok=True)
        self._prune(releases, keep={release})
        return release

    def _prune(self, releases: Path, keep: set[Path]) -> None:
        current = current_release(self.home) if self.home else None
        olds = sorted((p for p in releases.iterdir() if p.is_dir() and p not in keep and p != current),
                      key=lambda p: p.stat().st_mtime, reverse=True)
        for old in olds[KEEP_RELEASES - 1:]:
            shutil.rmtree(old, ignore_errors=True)

    # -- after a switch -------------------------------------------------------------------------

    def network_ok(self, now: datetime) -> bool:
        """The server answered a status: on trial, say so to the launcher; once it is done (or rolled
        back), report the update's end. True when a result was recorded (to be sent at once)."""
        if self.home is None:
            return False
        state = read_json(self.home / STATE_FILE)
        if state.get("state") in ("switched", "trying") and state.get("version") == agent_version() \
                and read_json(self.home / HEALTHY_FILE).get("version") != agent_version():
            write_json(self.home / HEALTHY_FILE, {"version": agent_version(), "at": iso(now)})
        return self.report(now, state)

    def report(self, now: datetime, state: dict[str, Any] | None = None) -> bool:
        """Turn the launcher's verdict into the update command's result (once); True if it did."""
        if self.home is None:
            return False
        state = state if state is not None else read_json(self.home / STATE_FILE)
        command, verdict = str(state.get("command") or ""), state.get("state")
        if not command or verdict not in ("done", "rolled_back") or state.get("reported"):
            return False
        if verdict == "done":
            self.care.record_id(command, "update", "ok", f"Đã cập nhật lên phiên bản {state.get('version')}.", now)
        else:
            self.care.record_id(command, "update", "failed",
                                f"Phiên bản {state.get('version')} {state.get('reason') or 'không chạy được'}; "
                                f"đầu thu đã tự quay lại phiên bản {agent_version()}.", now)
        write_json(self.home / STATE_FILE, {**state, "reported": True})
        return True
