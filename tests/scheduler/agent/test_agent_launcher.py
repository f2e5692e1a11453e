"""The launcher's decisions with stand-in agents (small scripts in place of `python -m web.cli agent`):
a restart exit starts the agent again at once, a switched release that exits before reporting healthy
is rolled back to the previous one, a healthy one is kept, and a slow one is rolled back at the timeout."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path

from scheduler import wire
from scheduler.agent.launcher import Launcher
from scheduler.agent.updater import CURRENT_LINK, HEALTHY_FILE, STATE_FILE, read_json, switch, write_json


def stand_in(tmp_path: Path, body: str) -> str:
    """An executable taking the agent's arguments; `body` is shell run with PYTHONPATH and the home at hand."""
    script = tmp_path / "agent.sh"
    script.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def releases(home: Path) -> tuple[Path, Path]:
    old, new = home / "releases" / "0.1.0-aaaa", home / "releases" / "0.2.0-bbbb"
    old.mkdir(parents=True)
    new.mkdir(parents=True)
    switch(home, new)
    write_json(home / STATE_FILE, {"state": "switched", "command": "c1", "version": "0.2.0", "release": str(new),
                                   "previous": str(old), "previous_version": "0.1.0"})
    return old, new


def lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def when(condition: Callable[[], bool], stop: threading.Event) -> threading.Event:
    """An event set once `condition` holds (polled beside the launcher)."""
    done = threading.Event()

    def watch() -> None:
        while not condition() and not stop.is_set():
            stop.wait(0.05)
        done.set()

    threading.Thread(target=watch, daemon=True).start()
    return done


def run_until(launcher: Launcher, done: threading.Event, stop: threading.Event) -> int:
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(launcher.run(stop)))
    thread.start()
    assert done.wait(30), "the launcher never got there"
    stop.set()
    thread.join(30)
    return result[0]


def test_a_release_that_exits_before_reporting_healthy_is_rolled_back(tmp_path: Path) -> None:
    home = tmp_path / "home"
    old, _new = releases(home)
    runs = tmp_path / "runs.txt"
    # Each start appends the release it runs from; the new release dies at once, the old one keeps running.
    agent = stand_in(tmp_path, f'echo "$PYTHONPATH" >> {runs}; case "$PYTHONPATH" in *0.2.0*) exit 3;; esac; sleep 30')
    stop = threading.Event()
    launcher = Launcher(home=home, agent_args=[], health_timeout=30, python=agent)
    assert run_until(launcher, when(lambda: lines(runs) >= 2, stop), stop) == 0
    starts = runs.read_text().splitlines()
    assert "0.2.0" in starts[0] and "0.1.0" in starts[1]
    assert (home / CURRENT_LINK).resolve() == old
    state = read_json(home / STATE_FILE)
    assert state["state"] == "rolled_back" and state["reason"] == "dừng với mã 3 trước khi báo hoạt động tốt"


def test_a_healthy_release_is_kept_and_a_restart_exit_starts_it_again(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _old, new = releases(home)
    runs = tmp_path / "runs.txt"
    # The first start reports healthy and asks for a restart; the second keeps running.
    agent = stand_in(tmp_path, f'echo run >> {runs}; if [ ! -f {home / HEALTHY_FILE} ]; then '
                               f'echo \'{{"version": "0.2.0"}}\' > {home / HEALTHY_FILE}; sleep 1; '
                               f'exit {wire.RESTART_EXIT_CODE}; fi; sleep 30')
    stop = threading.Event()
    launcher = Launcher(home=home, agent_args=[], health_timeout=30, python=agent)
    run_until(launcher, when(lambda: lines(runs) >= 2, stop), stop)
    assert (home / CURRENT_LINK).resolve() == new
    assert read_json(home / STATE_FILE)["state"] == "done"


def test_a_release_silent_past_the_timeout_is_stopped_and_rolled_back(tmp_path: Path) -> None:
    home = tmp_path / "home"
    old, _new = releases(home)
    ticks = iter(float(n) for n in range(100_000))  # the injected monotonic clock: one second per look
    agent = stand_in(tmp_path, "sleep 30")
    stop = threading.Event()
    launcher = Launcher(home=home, agent_args=[], health_timeout=5, python=agent, clock=lambda: next(ticks))
    run_until(launcher, when(lambda: read_json(home / STATE_FILE).get("state") == "rolled_back", stop), stop)
    assert (home / CURRENT_LINK).resolve() == old
    assert read_json(home / STATE_FILE)["reason"] == "không báo hoạt động tốt trong 5 giây"
    assert os.environ.get("LOAXA_AGENT_HOME") is None  # the launcher sets it for its child only
