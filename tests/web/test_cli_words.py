"""What a new user reads from the `loaxa` command before anything works: help, usage errors, and the
one sentence that replaces a traceback on a database never initialised or a base install.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from scheduler.db.session import make_engine, schema_state, upgrade_schema
from web.cli import main

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_URL = os.environ.get("LOAXA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

# Click's own English, written here independently of web/cli/click_vi.py's table.
CLICK_ENGLISH = ("Usage:", "Options:", "Commands:", "Show this message", "Show the version", "[default:",
                 "[required]", "[OPTIONS]", "COMMAND [ARGS]", "Error:", "Try '", "Invalid value", "No such",
                 "Missing ", "is not a valid", "Got unexpected")  # fmt: skip
# Metavars made of ASCII capitals are Click's type or parameter names ("TEXT", "INTEGER", "CODE").
ALLOWED_ASCII_METAVARS = {"URL"}


def _commands(path: list[str], command: click.Command) -> Iterator[tuple[list[str], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None
            yield from _commands([*path, name], sub)


ALL_COMMANDS = list(_commands([], main))


def test_the_walk_reaches_every_subcommand() -> None:
    names = {" ".join(path) for path, _ in ALL_COMMANDS}
    assert {"", "demo", "serve", "user add", "station token", "import bulletins", "programme build"} <= names
    assert len(names) > 30


@pytest.mark.parametrize("path", [p for p, _ in ALL_COMMANDS], ids=lambda p: " ".join(p) or "loaxa")
def test_help_is_vietnamese_and_every_option_is_described(path: list[str]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    out = result.output
    for english in CLICK_ENGLISH:
        assert english not in out, f"loaxa {' '.join(path)} --help: {english!r}\n{out}"
    assert "Cách dùng:" in out and "Hiện hướng dẫn này rồi thoát." in out
    command = dict((tuple(p), c) for p, c in ALL_COMMANDS)[tuple(path)]
    assert command.help, f"loaxa {' '.join(path)} has no description"
    ctx = click.Context(command)
    for param in command.get_params(ctx):
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"loaxa {' '.join(path)} {param.opts[-1]} has no description"
        if isinstance(param, click.Option) and param.is_flag:
            continue
        metavar = param.make_metavar()
        if re.fullmatch(r"[\[\]A-Z_. ]+", metavar):
            assert metavar.strip("[].") in ALLOWED_ASCII_METAVARS, f"loaxa {' '.join(path)}: {metavar}"


@pytest.mark.parametrize(("args", "expected"), [
    (["nosuch"], "Không có lệnh 'nosuch'."),
    (["serve", "--port", "abc"], "'abc' không phải số nguyên hợp lệ"),
    (["user", "add", "x"], "Thiếu tùy chọn '--role'"),
    (["station", "token", "A", "B"], "Thừa tham số (B)"),
])  # fmt: skip
def test_usage_errors_are_vietnamese(args: list[str], expected: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert expected in result.output, result.output
    assert "Lỗi:" in result.output and "Xem hướng dẫn:" in result.output


def test_version_line_is_vietnamese() -> None:
    result = CliRunner().invoke(main, ["--version"], prog_name="loaxa")
    assert result.exit_code == 0 and "loaxa, phiên bản " in result.output


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nobody has run `loaxa init` on."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'never-initialised.sqlite3'}"
        return
    name = f"loaxa_empty_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _run(url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOAXA_DATABASE_URL": url, "LOAXA_DATA_DIR": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "web.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("args", [
    ["station", "token", "DEMO-01"], ["user", "list"], ["programme", "build", "--week", "2026-W49"],
    ["serve", "--port", "1"], ["scheduler"],
], ids=lambda a: " ".join(a))  # fmt: skip
def test_commands_on_a_database_never_initialised_say_what_to_run(
    empty_database_url: str, tmp_path: Path, args: list[str]
) -> None:
    run = _run(empty_database_url, tmp_path, *args)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stderr and "sqlalchemy" not in run.stderr.lower()
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "chưa được khởi tạo: chạy «loaxa init» trước" in lines[0], run.stderr


def test_a_database_behind_the_newest_migration_is_called_old(empty_database_url: str, tmp_path: Path) -> None:
    engine = make_engine(empty_database_url)
    try:
        assert schema_state(engine) == "empty"
        upgrade_schema(engine, "0001")
        assert schema_state(engine) == "old"
        run = _run(empty_database_url, tmp_path, "scheduler")
        assert run.returncode == 1 and "còn ở phiên bản cũ: chạy «loaxa init»" in run.stderr, run.stderr
        upgrade_schema(engine)
        assert schema_state(engine) == "current"
    finally:
        engine.dispose()


SERVER_ONLY = ("flask", "werkzeug", "sqlalchemy", "alembic", "psycopg", "apscheduler", "waitress")
BLOCKER = f"""
import importlib.abc, sys
class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {SERVER_ONLY!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, NotInstalled())
from web.cli import main
main()
"""


@pytest.mark.parametrize("command", ["init", "demo", "serve", "user"])
def test_server_commands_on_the_base_install_say_what_to_install(command: str, tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-c", BLOCKER, command], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "LOAXA_DATA_DIR": str(tmp_path)})
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert f"Lệnh «loaxa {command}» cần bản cài cho máy chủ" in run.stderr
    assert "pip install 'loaxa[server]'" in run.stderr


def test_demo_script_help_prints_without_installing_anything(tmp_path: Path) -> None:
    # A copy of the repository's scripts with no .venv next to them: --help must not create one.
    (tmp_path / "scripts").mkdir()
    for name in ("demo.sh", "bootstrap.sh"):
        target = tmp_path / "scripts" / name
        target.write_text((ROOT / "scripts" / name).read_text(encoding="utf-8"), encoding="utf-8")
        target.chmod(0o755)
    run = subprocess.run([str(tmp_path / "scripts" / "demo.sh"), "--help"], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "LOAXA_PYTHON": "/nonexistent/python3"})
    assert run.returncode == 0, run.stderr
    assert not (tmp_path / ".venv").exists()
    assert "Cách dùng: ./scripts/demo.sh" in run.stdout
    # Every option of `loaxa demo` is in the script's own help.
    demo = main.get_command(click.Context(main), "demo")
    assert demo is not None
    for param in demo.params:
        if isinstance(param, click.Option):
            assert param.opts[-1] in run.stdout, param.opts
