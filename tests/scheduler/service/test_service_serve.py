"""`loaxa serve`: the Flask application behind waitress, answering real HTTP requests on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from scheduler.db.session import make_engine, upgrade_schema

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)


@pytest.mark.slow
def test_serve_answers_http_through_waitress(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'loaxa.sqlite3'}"
    engine = make_engine(url)
    upgrade_schema(engine)
    engine.dispose()
    port = _free_port()
    env = {**os.environ, "LOAXA_DATABASE_URL": url, "LOAXA_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(port), "--threads", "2"],
                                env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, headers = _get(f"http://127.0.0.1:{port}/dang-nhap")
                break
            except (ConnectionError, urllib.error.URLError):
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the server never started listening"
                time.sleep(0.2)
        assert status == 200, log.read_text()
        assert headers.get("Server") == "loaxa"  # waitress, with loaxa's ident
    finally:
        proc.terminate()
        proc.wait(timeout=30)
