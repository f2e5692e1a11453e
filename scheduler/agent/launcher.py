"""The launcher (`loaxa agent --supervise`): runs the agent as a child process from the release `current`
points at, starts it again when it exits (at once after a restart command), and watches a freshly
switched release: if it has not reported healthy (scheduler.agent.updater, healthy.json) within the
health timeout — or exits first — the launcher switches back to the previous release by itself.

Decisions take a monotonic `clock`, so a box whose wall clock jumps does not roll back by mistake.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from scheduler import wire
from scheduler.agent.updater import HEALTHY_FILE, STATE_FILE, current_release, read_json, switch, write_json

log = logging.getLogger("loaxa.agent.launcher")

DEFAULT_HEALTH_TIMEOUT = 60.0
POLL = 0.2
MAX_BACKOFF = 30.0


@dataclass
class Launcher:
    home: Path
    agent_args: Sequence[str]  # the `loaxa agent` options, without --supervise
    health_timeout: float = DEFAULT_HEALTH_TIMEOUT
    python: str = sys.executable
    clock: Callable[[], float] = time.monotonic

    def child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        release = current_release(self.home)
        base = env.get("PYTHONPATH", "")
        if release is not None:
            env["PYTHONPATH"] = str(release) + (os.pathsep + base if base else "")
        env["LOAXA_AGENT_HOME"] = str(self.home)
        return env

    def start(self) -> subprocess.Popen[bytes]:
        # cwd is the home: `python -m` puts the working directory first on sys.path, and it must not
        # shadow the release with whatever source tree the launcher was started from.
        return subprocess.Popen([self.python, "-m", "web.cli", "agent", *self.agent_args], env=self.child_env(),
                                cwd=self.home)

    def rollback(self, state: dict[str, object], reason: str) -> None:
        previous = state.get("previous")
        switch(self.home, Path(str(previous)) if previous else None)
        write_json(self.home / STATE_FILE, {**state, "state": "rolled_back", "reason": reason})
        log.error("Phiên bản %s %s; đã quay lại phiên bản %s.", state.get("version"), reason,
                  state.get("previous_version"))

    def run(self, stop: threading.Event) -> int:
        """Supervise until `stop` is set; returns the exit code for the launcher process."""
        self.home.mkdir(parents=True, exist_ok=True)
        backoff = 1.0
        while not stop.is_set():
            state = read_json(self.home / STATE_FILE)
            trial = state.get("state") in ("switched", "trying")
            deadline = self.clock() + self.health_timeout
            if trial:
                state = {**state, "state": "trying"}
                write_json(self.home / STATE_FILE, state)
                log.info("Chạy thử phiên bản %s (chờ báo khỏe tối đa %.0f giây).", state.get("version"),
                         self.health_timeout)
            child = self.start()
            rolled_back = False
            while child.poll() is None and not stop.is_set():
                if trial:
                    if read_json(self.home / HEALTHY_FILE).get("version") == state.get("version"):
                        state = {**state, "state": "done"}
                        write_json(self.home / STATE_FILE, state)
                        log.info("Phiên bản %s đã báo khỏe: giữ phiên bản này.", state.get("version"))
                        trial = False
                    elif self.clock() >= deadline:
                        child.terminate()
                        try:
                            child.wait(timeout=20)
                        except subprocess.TimeoutExpired:
                            child.kill()
                            child.wait()
                        self.rollback(state, f"không báo hoạt động tốt trong {self.health_timeout:.0f} giây")
                        trial, rolled_back = False, True
                        break
                stop.wait(POLL)
            if stop.is_set():
                if child.poll() is None:
                    child.terminate()
                    child.wait(timeout=30)
                return 0
            code = child.wait()
            if trial:
                self.rollback(state, f"dừng với mã {code} trước khi báo hoạt động tốt")
                continue
            if code == wire.RESTART_EXIT_CODE or rolled_back:
                backoff = 1.0
                continue
            log.warning("Phần mềm đầu thu dừng với mã %s; chạy lại sau %.0f giây.", code, backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
        return 0
