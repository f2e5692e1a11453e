"""`pip install loaxa[agent]` is enough for a receiver box: the agent never needs the server's libraries.

The agent is started in a fresh interpreter where every server-side package is made impossible to
import, as on a box that never installed them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVER_ONLY = (
    "flask", "werkzeug", "jinja2", "flask_wtf", "wtforms", "sqlalchemy", "alembic", "psycopg", "apscheduler",
    "pydub", "gtts", "espeakng_loader", "imageio_ffmpeg", "openpyxl", "prometheus_client", "matplotlib", "fpdf",
    "tqdm", "holidays", "lunardate",
)  # fmt: skip

BLOCKER = f"""
import importlib.abc, sys
BLOCKED = {SERVER_ONLY!r}

class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (not installed on a receiver box)", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
"""


def run_isolated(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_agent_command_starts_without_any_server_package() -> None:
    run = run_isolated(
        "from web.cli import main\n"
        "try:\n"
        "    main(['agent', '--help'])\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
    )
    assert run.returncode == 0, run.stderr
    assert "--server" in run.stdout and "--token" in run.stdout and "--player" in run.stdout


def test_every_agent_module_imports_without_any_server_package() -> None:
    run = run_isolated(
        "import json, pkgutil, sys, importlib\n"
        "import scheduler.agent, web.cli.agent_cmd\n"
        "names = [m.name for m in pkgutil.walk_packages(scheduler.agent.__path__, 'scheduler.agent.')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps({'modules': names, 'loaded': sorted({m.split('.')[0] for m in sys.modules})}))\n"
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert "scheduler.agent.agent" in report["modules"]
    assert not set(report["loaded"]) & set(SERVER_ONLY)


def test_the_blocker_really_blocks_server_packages() -> None:
    run = run_isolated("import sqlalchemy\n")
    assert run.returncode != 0 and "not installed on a receiver box" in run.stderr


def test_base_install_carries_only_the_agent_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {dep.split(">")[0].split("=")[0].split("[")[0].split(";")[0].strip().lower() for dep in project["dependencies"]}
    assert names == {"click", "requests", "paho-mqtt", "tzdata"}
    assert project["optional-dependencies"]["agent"] == []
