"""The style card's gates: ruff and strict mypy are clean, and the imports follow the arrows.

The arrows are read from each module's syntax tree (every `import` and `from … import`, also inside
functions): web → scheduler → audio, never back; the pure planner imports no database code; the
station agent imports no server package. One home per rule is checked where a rule can be seen in
the code: contact stamps are written in scheduler/liveness.py only, and no module reaches into
another's private names.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("audio", "scheduler", "web")
# Installed only on the server (pyproject's `server` extra) or part of the server itself: a receiver box
# has none of them (tests/ops/test_agent_footprint.py checks the same at import time).
SERVER_ONLY = {
    "flask", "werkzeug", "jinja2", "flask_wtf", "wtforms", "sqlalchemy", "alembic", "psycopg", "apscheduler",
    "pydub", "gtts", "espeakng_loader", "imageio_ffmpeg", "openpyxl", "prometheus_client", "matplotlib", "fpdf",
    "tqdm", "holidays", "lunardate", "web", "audio",
}  # fmt: skip


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: it is in the test extra (pip install -e '.[server,test]')")
    return found


def test_ruff_finds_nothing() -> None:
    result = subprocess.run([_tool("ruff"), "check", "--no-cache", "--quiet", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_strict_mypy_finds_nothing_in_the_packages_and_the_tests() -> None:
    """pyproject's [tool.mypy]: strict, over audio, scheduler, web and tests."""
    result = subprocess.run([_tool("mypy")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout and "source files" in result.stdout


def test_the_type_gate_is_strict_and_covers_the_tests() -> None:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert config["strict"] is True and set(config["files"]) == {"audio", "scheduler", "web", "tests"}


def _modules(*folders: str) -> Iterator[tuple[Path, ast.Module]]:
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _imports(tree: ast.Module) -> Iterator[tuple[int, str, list[str]]]:
    """(line, module, names) for every absolute import in the tree, nested ones included."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module, [alias.name for alias in node.names]


def _offenders(folder: str, allowed: object) -> list[str]:
    found = []
    for path, tree in _modules(folder):
        for line, module, names in _imports(tree):
            full = [module] + [f"{module}.{n}" for n in names]
            if not any(allowed(name) for name in full):  # type: ignore[operator]
                found.append(f"{path.relative_to(ROOT)}:{line}: {module}")
    return found


def _under(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_audio_imports_neither_scheduler_nor_web() -> None:
    assert _offenders("audio", lambda name: not _under(name, "scheduler", "web")) == []


def test_scheduler_never_imports_web() -> None:
    assert _offenders("scheduler", lambda name: not _under(name, "web")) == []


def test_the_planner_imports_no_database_code() -> None:
    """scheduler/planning is pure: plain data in, a plan out (the standard library and the domain types)."""

    def allowed(name: str) -> bool:
        top = name.split(".")[0]
        if top == "scheduler":
            return _under(name, "scheduler.planning", "scheduler.domain")
        return top in sys.stdlib_module_names

    assert _offenders("scheduler/planning", allowed) == []


def test_the_station_agent_imports_no_server_package() -> None:
    """scheduler/agent runs on the receiver box: its own modules, the wire contract, the plain domain types, and its few
    libraries."""

    def allowed(name: str) -> bool:
        top = name.split(".")[0]
        if top == "scheduler":
            return _under(name, "scheduler.agent", "scheduler.domain", "scheduler.wire")
        return top not in SERVER_ONLY

    assert _offenders("scheduler/agent", allowed) == []
    assert [o for o in _offenders("scheduler/agent", lambda n: n.split(".")[0] not in SERVER_ONLY)] == []


def test_the_arrow_checks_see_nested_imports() -> None:
    tree = ast.parse("def f():\n    from web.app import create_app\n    import sqlalchemy.orm\n")
    assert [(module, names) for _line, module, names in _imports(tree)] == [
        ("web.app", ["create_app"]), ("sqlalchemy.orm", [])]


CONTACT_COLUMNS = {"last_manifest_at", "last_status_at", "last_log_at"}


def test_contact_stamps_are_written_only_by_the_liveness_module() -> None:
    writers = []
    for path, tree in _modules(*PACKAGES):
        for node in ast.walk(tree):
            if not isinstance(node, ast.stmt | ast.expr):
                continue
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr in CONTACT_COLUMNS:
                    writers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            # A column named in a string is about to be set by name (setattr), as a second writer did.
            if isinstance(node, ast.Constant) and node.value in CONTACT_COLUMNS:
                writers.append(f"{path.relative_to(ROOT)}:{node.lineno} «{node.value}»")
    home = ("scheduler/liveness.py", "scheduler/db/models.py")
    assert [w for w in writers if not w.startswith(home)] == []


def test_no_module_imports_another_modules_private_names() -> None:
    found = []
    for path, tree in _modules(*PACKAGES):
        for line, module, names in _imports(tree):
            if module.split(".")[0] in PACKAGES and any(n.startswith("_") and not n.startswith("__") for n in names):
                found.append(f"{path.relative_to(ROOT)}:{line}: from {module} import {', '.join(names)}")
    assert found == []


def _docstrings(tree: ast.Module) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def test_station_api_paths_come_from_the_wire_module_only() -> None:
    """The manifest, audio, ack, play-log, status and MQTT paths are spelt once, in scheduler/wire.py."""
    found = []
    for path, tree in _modules(*PACKAGES, "scripts"):
        if path.relative_to(ROOT).as_posix() == "scheduler/wire.py":
            continue
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip \
                    and "/api/v" in node.value:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert found == []


MANIFEST_MODELS = {"Station": "station", "Programme": "programme", "Commune": "commune", "Province": "province"}


def _bare_connection_writes(tree: ast.Module) -> list[int]:
    """Lines of INSERT/UPDATE/DELETE statements that may change a manifest answer, run in a function that
    works on a Connection (a parameter annotated Connection, or engine.begin()/connect()) and does not call
    record_change. Through a Session the hooks of scheduler.db.changes record them."""
    from scheduler.db.changes import touches

    found = []
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        calls = [n for n in ast.walk(func) if isinstance(n, ast.Call)]
        aliases: dict[str, str] = {}  # programme = cast(Table, Programme.__table__): a local name for a table
        for node in ast.walk(func):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    pairs = (zip(target.elts, node.value.elts, strict=False)
                             if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple)
                             else [(target, node.value)])
                    for name, value in pairs:
                        if isinstance(name, ast.Name):
                            aliases.update((name.id, t) for m, t in MANIFEST_MODELS.items() if m in ast.unparse(value))
        names = {c.func.attr if isinstance(c.func, ast.Attribute) else getattr(c.func, "id", "") for c in calls}
        on_connection = bool({"begin", "connect"} & names) or any(
            isinstance(a.annotation, ast.Name | ast.Constant) and "Connection" in ast.unparse(a.annotation)
            for a in func.args.args if a.annotation is not None)
        if not on_connection or "record_change" in names:
            continue
        for call in calls:
            kind = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
            if kind not in ("insert", "update", "delete"):
                continue
            if isinstance(call.func, ast.Attribute):  # table.insert(): a table known only when it runs
                if call.args or call.keywords:  # hashlib's update(data), dict.update(...)
                    continue
                table = MANIFEST_MODELS.get(ast.unparse(call.func.value).split(".")[0], "?")
            elif call.args:
                written = ast.unparse(call.args[0])
                table = aliases.get(written) or next((t for m, t in MANIFEST_MODELS.items() if m in written), "")
            else:
                continue
            if table == "?":
                found.append(call.lineno)
                continue
            columns = None
            for outer in calls:  # update(X)....values(a=..., b=...): the columns it writes
                if (isinstance(outer.func, ast.Attribute) and outer.func.attr == "values" and outer.keywords
                        and any(n is call for n in ast.walk(outer.func.value))):
                    columns = [k.arg for k in outer.keywords if k.arg]
            if touches(table, kind, columns):  # type: ignore[arg-type]
                found.append(call.lineno)
    return found


def test_writes_on_a_bare_connection_record_manifest_changes() -> None:
    offenders = [f"{path.relative_to(ROOT)}:{line}" for path, tree in _modules(*PACKAGES)
                 for line in _bare_connection_writes(tree)]
    assert offenders == [], "call scheduler.db.changes.record_change(conn) in the same transaction"


def test_the_bare_connection_check_sees_a_write_that_bypasses_the_record() -> None:
    bypass = ast.parse(
        "def rotate(engine):\n"
        "    with engine.begin() as conn:\n"
        "        conn.execute(update(Station).values(token_hash=None))\n"
        "def stamp(conn: Connection):\n"
        "    conn.execute(update(Station).values(last_manifest_at=now))\n"
        "def restore(engine):\n"
        "    with engine.begin() as conn:\n"
        "        for table in tables:\n"
        "            conn.execute(table.delete())\n"
        "def aliased(conn: Connection):\n"
        "    programme, other = cast(Table, Programme.__table__), None\n"
        "    conn.execute(update(programme).values(content_hash=''))\n"
        "def recorded(conn: Connection):\n"
        "    conn.execute(update(Programme).values(version=2))\n"
        "    record_change(conn)\n")
    assert _bare_connection_writes(bypass) == [3, 9, 12]
