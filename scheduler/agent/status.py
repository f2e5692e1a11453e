"""What the box reports about itself: agent version, disk, amplifier and power state."""

from __future__ import annotations

import json
import logging
import shlex
import subprocess
from collections.abc import Callable
from importlib import metadata
from typing import Any

log = logging.getLogger("loaxa.agent.status")

Hardware = Callable[[], dict[str, Any]]


def agent_version() -> str:
    try:
        return metadata.version("loaxa")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def no_hardware() -> dict[str, Any]:
    """Boxes without sensors report what they cannot know as unknown, never a guess."""
    return {"amplifier": "unknown", "power": "unknown"}


def command_hardware(command: str, timeout: float = 5.0) -> Hardware:
    """Run `command` (it prints JSON such as {"amplifier": "on", "power": "mains"}) on each status."""

    def probe() -> dict[str, Any]:
        try:
            done = subprocess.run(shlex.split(command), capture_output=True, timeout=timeout, check=True)
            data = json.loads(done.stdout)
            if not isinstance(data, dict):
                raise ValueError("kết quả không phải đối tượng JSON")
            return {**no_hardware(), **data}
        except (OSError, subprocess.SubprocessError, ValueError) as exc:
            log.warning("Lệnh đọc trạng thái phần cứng «%s» lỗi: %s", command, exc)
            return {**no_hardware(), "error": str(exc)[:200]}

    return probe
