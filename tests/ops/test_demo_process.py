"""`loaxa demo` as a newcomer runs it: a real process with its web server, scheduler and station agent.

However it is stopped (Ctrl+C, `kill`, a closed terminal, even SIGKILL) every child stops with it,
the port is free again and the next demo starts cleanly. What it prints is Vietnamese, with no
library tracebacks.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    """Direct children of `pid`, read from /proc (Linux)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A data directory seeded once (audio rendered, weeks planned) that every demo run below reuses."""
    data = tmp_path_factory.mktemp("demo-data")
    env = {**os.environ, "LOAXA_DATA_DIR": str(data), "LOAXA_TTS_ENGINES": "espeak", "PYTHONUNBUFFERED": "1"}
    for name in ("LOAXA_DATABASE_URL", "LOAXA_MEDIA_DIR", "LOAXA_MQTT_URL", "LOAXA_PUBLIC_URL"):
        env.pop(name, None)
    seeded = subprocess.run([sys.executable, "-m", "web.cli", "demo", "--seed-only"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    yield env


class Demo:
    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.port = port
        self.log = log
        self.out = log.open("w")
        self.proc = subprocess.Popen([sys.executable, "-m", "web.cli", "demo", "--port", str(port)], cwd=ROOT,
                                     env=env, stdout=self.out, stderr=subprocess.STDOUT)

    def wait_until_running(self) -> list[int]:
        _wait(lambda: _answers(self.port) and len(_children(self.proc.pid)) == 3 and "Tài khoản mẫu" in self.text(),
              120, "the demo's web server, scheduler and agent")
        return _children(self.proc.pid)

    def text(self) -> str:
        self.out.flush()
        return self.log.read_text(encoding="utf-8")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        for child in _children(self.proc.pid):
            os.kill(child, signal.SIGKILL)
        self.proc.wait()
        self.out.close()


ENGLISH = ("Traceback", "HTTPConnectionPool", "Max retries", "Connection refused", "apscheduler", "Scheduler started",
           "Added job", " INFO ", " WARNING ", "signal 15", "Không kết nối được máy chủ", "đang chạy chính với tên", "(admin)", "(operator)", "added")


def test_every_way_of_stopping_the_demo_stops_every_child_and_the_next_demo_starts_cleanly(
    demo_env: dict[str, str], tmp_path: Path
) -> None:
    """Ctrl+C (SIGINT), `kill` (SIGTERM), a closed terminal (SIGHUP), SIGKILL: each demo after the first
    is the "second demo" of the one before, on the same port and the same data."""
    port = _free_port()
    for round_, signum in enumerate((signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGKILL)):
        demo = Demo(demo_env, port, tmp_path / f"demo-{round_}.log")
        try:
            children = demo.wait_until_running()
            if round_ == 0:
                _wait(lambda: "Đã nhận lịch phát tuần" in demo.text(), 60, "the agent's first programme")  # noqa: B023
            os.kill(demo.proc.pid, signum)  # the demo process alone, as `kill PID` does
            demo.proc.wait(timeout=60)
            _wait(lambda: not any(_alive(pid) for pid in children), 30, "every child of the demo to stop")  # noqa: B023
            _wait(lambda: not _answers(port), 10, "the port to close")
            text = demo.text()
            if signum != signal.SIGKILL:
                assert demo.proc.returncode == 0, text
                assert "Đã dừng bản trình diễn." in text
        finally:
            demo.close()
        if round_ == 0:
            for english in ENGLISH:
                assert english not in text, f"{english!r} in the demo output:\n{text}"
            assert "vanhanh    mật khẩu vanhanh-demo   Vận hành xã, phạm vi: Xã Ia Grai" in text, text
            assert "Bộ lập lịch nền bắt đầu làm việc" in text and "Các việc định kỳ: " in text
            assert "[đầu thu DEMO-01] Đã nhận lịch phát tuần" in text


def test_a_second_demo_on_a_busy_port_says_so_before_doing_anything(
    demo_env: dict[str, str], tmp_path: Path
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = subprocess.run([sys.executable, "-m", "web.cli", "demo", "--port", str(port)], cwd=ROOT,
                             env=demo_env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert f"Cổng {port} đang có chương trình khác dùng" in run.stderr
    assert "Traceback" not in run.stderr and "Đã tạo dữ liệu mẫu" not in run.stdout
