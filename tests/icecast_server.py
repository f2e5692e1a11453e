"""A private Icecast 2 for tests, started and stopped by the project's own scripts/icecast.sh."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path
from types import TracebackType

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "icecast.sh"
PASSWORD = "loaxa-test-source"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Icecast:
    """`source_url` carries the source password (LOAXA_ICECAST_URL); `url` is where listeners go."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = _free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def source_url(self) -> str:
        return f"http://source:{PASSWORD}@127.0.0.1:{self.port}"

    def _run(self, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(SCRIPT), command, "--port", str(self.port), "--dir", str(self.directory),
                               "--password", PASSWORD], capture_output=True, text=True, timeout=300)

    def alive(self) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def __enter__(self) -> Icecast:
        self.directory.mkdir(parents=True, exist_ok=True)
        for _ in range(5):
            done = self._run("start")
            if done.returncode != 3:  # 3: another program took the free port meanwhile (the machine is shared)
                break
            self.port = _free_port()
        assert done.returncode == 0, done.stdout + done.stderr
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._run("stop")
