"""The production layout in deploy/ comes up on this machine and serves a station through nginx.

Runs scripts/deploy-smoke.sh (PostgreSQL, Mosquitto, gunicorn, the scheduler, nginx; about a minute).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_URL = os.environ.get("LOAXA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.mqtt
@pytest.mark.timeout(900)
def test_deploy_layout_serves_login_manifest_audio_and_playlog_through_nginx() -> None:
    env = {**os.environ, "LOAXA_PYTHON": sys.executable, "LOAXA_TEST_PG_URL": PG_ADMIN_URL}
    env.pop("LOAXA_SMOKE_KEEP", None)
    run = subprocess.run(
        ["bash", str(ROOT / "scripts" / "deploy-smoke.sh")], env=env, capture_output=True, text=True, timeout=840
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    passed = [line.strip() for line in run.stdout.splitlines() if line.strip().startswith("đạt:")]
    assert len(passed) == 7, output
    assert any("do nginx gửi sau khi Flask kiểm tra mã" in line for line in passed)
    assert any("/truc-tiep/ đến tiến trình phát trực tiếp riêng" in line for line in passed)

    # Torn down: the run's database is gone and its work directory removed.
    database = re.search(r"cơ sở dữ liệu PostgreSQL mới (\S+)", run.stdout)
    assert database is not None, output
    engine = create_engine(PG_ADMIN_URL)
    with engine.connect() as conn:
        left = conn.execute(text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": database[1]})
        assert left.scalar_one() == 0
    engine.dispose()
    assert "Giữ thư mục làm việc" not in run.stdout
