"""Real processes for the remote-care tests: `loaxa serve` and `loaxa agent` subprocesses, and the
`loaxa care` command run against the same database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from click.testing import CliRunner, Result
from delivery_world import wait_port

from scheduler.settings import Settings
from web.cli import main

LOAXA = [str(Path(sys.executable).with_name("loaxa"))] if Path(sys.executable).with_name("loaxa").exists() \
    else [sys.executable, "-m", "web.cli"]


@contextmanager
def loaxa_serve(settings: Settings, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "LOAXA_DATABASE_URL": settings.database_url, "LOAXA_MEDIA_DIR": str(settings.media_dir),
           "LOAXA_DATA_DIR": str(settings.data_dir), "LOAXA_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    env.pop("LOAXA_MQTT_URL", None)
    with open(log, "ab") as out:
        proc = subprocess.Popen([*LOAXA, "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", "4"],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_port(port, timeout=60)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=20)


def agent_args(url: str, code: str, token: str, cache: Path, *extra: str) -> list[str]:
    return ["agent", "--server", url, "--station", code, "--token", token, "--cache", str(cache), "--player", "null",
            "--no-mqtt", "--poll", "5", "--upload-every", "1", "--status-every", "5", *extra]


def start_agent(args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen([*LOAXA, *args], stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, **(env or {})})


def run_cli(settings: Settings, *args: str, public_url: str = "http://127.0.0.1:8080") -> Result:
    env = {"LOAXA_DATABASE_URL": settings.database_url, "LOAXA_DATA_DIR": str(settings.data_dir),
           "LOAXA_MEDIA_DIR": str(settings.media_dir), "LOAXA_PUBLIC_URL": public_url, "LOAXA_MQTT_URL": ""}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
