"""Remote care on the box: restart the agent, reboot the box, switch the amplifier, and the record of
what became of each command (wire.CareResult), kept in the box's store and sent with every status.

The box's own commands are configured where the agent starts (`--reboot-cmd`, `--amplifier-cmd`);
a command the box has no way to obey is answered `failed` with the reason, never silently dropped.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from scheduler import wire
from scheduler.agent.store import Store, iso

log = logging.getLogger("loaxa.agent.care")

RESULTS_KEY = "care_results"
AMPLIFIER_KEY = "amplifier_state"
KEEP_RESULTS = 20
COMMAND_TIMEOUT = 30.0


@dataclass(frozen=True)
class CareConfig:
    reboot_cmd: str | None = None  # e.g. "sudo /sbin/reboot"
    amplifier_cmd: str | None = None  # with {state}: e.g. "/usr/local/bin/amp {state}"
    home: Path | None = None  # the launcher's home (`loaxa agent --supervise`): agent updates go there


def run_command(command: str, timeout: float = COMMAND_TIMEOUT) -> str | None:
    """Run a configured box command; None on success, else a Vietnamese reason."""
    try:
        done = subprocess.run(shlex.split(command), capture_output=True, timeout=timeout, check=False)
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        return f"Không chạy được lệnh «{command}»: {exc}"
    if done.returncode != 0:
        output = (done.stderr or done.stdout).decode(errors="replace").strip()[:300]
        return f"Lệnh «{command}» lỗi (mã {done.returncode}){': ' + output if output else ''}."
    return None


class Care:
    """Obeys the care commands the agent hands over and remembers each result."""

    def __init__(self, store: Store, config: CareConfig, request_restart: Callable[[], None]) -> None:
        self.store = store
        self.config = config
        self.request_restart = request_restart

    # -- results --------------------------------------------------------------------------------

    def results(self) -> list[dict[str, Any]]:
        """The latest results first, as sent in the status (`care`)."""
        data = self.store.get_json(RESULTS_KEY)
        return list(data) if isinstance(data, list) else []

    def record(self, cmd: wire.Command, result: wire.CareState, message: str, now: datetime) -> None:
        self.record_id(cmd.id, cmd.kind, result, message, now)

    def record_id(self, command_id: str, kind: str, result: wire.CareState, message: str, now: datetime) -> None:
        entry = wire.CareResult(command_id, kind, result, iso(now) or "", message).to_dict()
        rest = [r for r in self.results() if r.get("id") != command_id]
        self.store.set_json(RESULTS_KEY, [entry, *rest][:KEEP_RESULTS])
        (log.info if result != "failed" else log.error)("Lệnh %s (%s): %s", kind, command_id[:12], message)

    def started(self, now: datetime) -> None:
        """At start-up: a restart or reboot asked for before is now done."""
        changed = False
        results = self.results()
        for entry in results:
            if entry.get("result") == "running" and entry.get("kind") in ("restart", "reboot"):
                entry["result"], entry["at"] = "ok", iso(now)
                entry["message"] = ("Phần mềm đầu thu đã chạy lại." if entry["kind"] == "restart"
                                    else "Đầu thu đã khởi động lại và phần mềm đã chạy.")
                changed = True
        if changed:
            self.store.set_json(RESULTS_KEY, results)

    # -- amplifier state ------------------------------------------------------------------------

    @property
    def amplifier(self) -> str | None:
        """The amplifier state last switched by command (None: never switched from here)."""
        return self.store.get_value(AMPLIFIER_KEY)

    # -- commands -------------------------------------------------------------------------------

    def handle(self, cmd: wire.Command, now: datetime) -> None:
        """Restart, reboot or amplifier (volume and resync are the agent's own; update: scheduler.agent.updater)."""
        if cmd.kind == "restart":
            self.record(cmd, "running", "Đang khởi động lại phần mềm đầu thu.", now)
            self.request_restart()
        elif cmd.kind == "reboot":
            if not self.config.reboot_cmd:
                self.record(cmd, "failed", "Đầu thu chưa cấu hình lệnh khởi động lại (--reboot-cmd).", now)
                return
            self.record(cmd, "running", "Đang khởi động lại đầu thu.", now)
            error = run_command(self.config.reboot_cmd)
            if error is not None:
                self.record(cmd, "failed", error, now)
        elif cmd.kind == "amplifier":
            state = cmd.state or ""
            if not self.config.amplifier_cmd:
                self.record(cmd, "failed", "Đầu thu chưa cấu hình lệnh bật/tắt ampli (--amplifier-cmd).", now)
                return
            error = run_command(self.config.amplifier_cmd.replace("{state}", shlex.quote(state)))
            if error is not None:
                self.record(cmd, "failed", error, now)
                return
            self.store.set_value(AMPLIFIER_KEY, state)
            self.record(cmd, "ok", "Đã bật ampli." if state == "on" else "Đã tắt ampli.", now)
