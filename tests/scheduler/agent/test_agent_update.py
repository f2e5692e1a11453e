"""Updating the agent with real processes: `loaxa agent-package build` publishes wheels built from this
source tree (0.1.1 and a broken 0.1.2 whose status never reaches the server), `loaxa care CODE update`
sends them, and a `loaxa agent --supervise` launcher installs each beside the current one, switches,
keeps the good one and rolls the broken one back by itself; a package altered on the server is refused."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from care_world import agent_args, loaxa_serve, run_cli, start_agent
from delivery_world import add_station, free_port, wait_for
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.models import AgentPackage, Station
from scheduler.db.session import transaction
from scheduler.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("backend", ["postgresql"], indirect=True)]
CODE = "GL-IADER-09"
ROOT = Path(__file__).resolve().parents[3]
HEALTH_SECONDS = 10


def source_copy(where: Path, version: str, broken: bool = False) -> Path:
    """This source tree with another version number (and, if `broken`, a status path the server lacks)."""
    for folder in ("scheduler", "web", "audio"):
        shutil.copytree(ROOT / folder, where / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, where / name)
    project = (where / "pyproject.toml").read_text(encoding="utf-8")
    (where / "pyproject.toml").write_text(project.replace('version = "0.1.0"', f'version = "{version}"', 1),
                                          encoding="utf-8")
    if broken:
        wire = where / "scheduler" / "wire.py"
        text = wire.read_text(encoding="utf-8")
        wire.write_text(text.replace('STATUS_PATH = f"{API_PREFIX}/status"', 'STATUS_PATH = f"{API_PREFIX}/trang-thai"'),
                        encoding="utf-8")
    return where


def agent_version_on_server(sessions: sessionmaker[Session]) -> object:
    with sessions() as s:
        return (s.scalars(select(Station.status).where(Station.code == CODE)).one() or {}).get("agent_version")


def test_update_switches_to_a_healthy_version_and_rolls_back_a_broken_one(
        settings: Settings, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    for version, broken in (("0.1.1", False), ("0.1.2", True)):
        source = source_copy(tmp_path / f"src-{version}", version, broken)
        built = run_cli(settings, "agent-package", "build", "--source", str(source))
        assert built.output.startswith(f"Đã đóng gói và phát hành phần mềm đầu thu phiên bản {version}"), built.output
    assert run_cli(settings, "agent-package", "list").output.startswith("0.1.2  ")

    now = datetime.now(UTC).replace(microsecond=0)
    with transaction(sessions) as s:
        _station, token = add_station(s, CODE, now)
    port, cache, home, log = free_port(), tmp_path / "cache", tmp_path / "home", tmp_path / "processes.log"
    url = f"http://127.0.0.1:{port}"
    with loaxa_serve(settings, port, log):
        launcher = start_agent(agent_args(url, CODE, token, cache, "--supervise", "--home", str(home),
                                          "--health-timeout", str(HEALTH_SECONDS)), log)
        try:
            wait_for(lambda: agent_version_on_server(sessions) == "0.1.0", timeout=60, step=0.2)

            good = run_cli(settings, "care", CODE, "update", "0.1.1", "--wait", "120", public_url=url)
            assert good.output.endswith("Đầu thu trả lời: Xong. Đã cập nhật lên phiên bản 0.1.1.\n"), log.read_text()
            wait_for(lambda: agent_version_on_server(sessions) == "0.1.1", timeout=60, step=0.2)
            assert (home / "current").resolve().name.startswith("0.1.1-")

            bad = run_cli(settings, "care", CODE, "update", "0.1.2", "--wait", "180", public_url=url)
            assert bad.exit_code == 1, bad.output
            assert bad.output.endswith(
                f"Đầu thu trả lời: Lỗi. Phiên bản 0.1.2 không báo hoạt động tốt trong {HEALTH_SECONDS} giây; "
                "đầu thu đã tự quay lại phiên bản 0.1.1.\n"), log.read_text()
            assert (home / "current").resolve().name.startswith("0.1.1-")
            assert agent_version_on_server(sessions) == "0.1.1"

            # A package altered on the server after publishing: a box that has not installed it yet (the
            # broken release is dropped here) downloads it, refuses it, and keeps running.
            for release in (home / "releases").glob("0.1.2-*"):
                shutil.rmtree(release)
            with sessions() as s:
                package = s.scalars(select(AgentPackage).where(AgentPackage.version == "0.1.2")).one()
            with open(settings.media_dir / package.file_name, "ab") as fh:
                fh.write(b"tampered")
            tampered = run_cli(settings, "care", CODE, "update", "0.1.2", "--wait", "120", public_url=url)
            assert tampered.exit_code == 1 and "không khớp" in tampered.output, tampered.output
            assert launcher.poll() is None and agent_version_on_server(sessions) == "0.1.1"
        finally:
            launcher.terminate()
            launcher.wait(timeout=60)
    assert launcher.returncode == 0
