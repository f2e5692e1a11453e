"""Alembic upgrades keep the data already stored, and the migrations build exactly the models' schema.

Each revision is applied in turn to a database that holds rows in every table existing at that
point; after the last upgrade every one of those rows must still be there, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine

from scheduler.db.models import Base
from scheduler.db.session import alembic_config, make_engine, upgrade_schema

PG_ADMIN_URL = os.environ.get("LOAXA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOT_OURS = {"alembic_version", "apscheduler_jobs"}  # Alembic's own table; APScheduler's job store
NOW = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database with no schema at all, on each backend."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'migrations.sqlite3'}")
        yield engine
        engine.dispose()
        return
    name = f"loaxa_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def revisions_in_order(engine: Engine) -> list[str]:
    script = ScriptDirectory.from_config(alembic_config(engine))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def live_tables(conn: Connection) -> list[Table]:
    meta = MetaData()
    meta.reflect(bind=conn, only=lambda name, _meta: name not in NOT_OURS)
    return list(meta.sorted_tables)


def sample(column: Any, conn: Connection, n: int) -> Any:
    """A value for any column type loaxa uses; a foreign key points at an existing row (the two copies
    of a row, n and n + 10, at different rows: a unique pair of foreign keys stays unique)."""
    for fk in column.foreign_keys:
        return conn.execute(select(fk.column).order_by(fk.column).offset((n // 10) % 2).limit(1)).scalar_one()
    impl = getattr(column.type, "impl", column.type)
    if isinstance(impl, JSON):
        return {"ghi_chú": ["dữ liệu cũ", n]}
    if isinstance(impl, Boolean):
        return n % 2 == 0
    if isinstance(impl, DateTime):
        return NOW + timedelta(minutes=n)
    if isinstance(impl, Date):
        return date(2026, 11, 23) + timedelta(days=n)
    if isinstance(impl, Integer):
        return 700 + n
    if isinstance(impl, Float):
        return 13.5 + n
    if isinstance(impl, String):
        value = f"{n} Xã Ia Grai {column.name}"  # the number first: it survives truncation
        return value[: impl.length] if impl.length else value
    raise TypeError(f"no sample value for {column.table.name}.{column.name}: {column.type!r}")


def fill_new_tables(conn: Connection, done: set[str]) -> None:
    """Two rows in every table not filled yet, every column set (generated integer keys excepted)."""
    for table in live_tables(conn):
        if table.name in done:
            continue
        for copy in range(2):
            row = {}
            for n, column in enumerate(table.columns):
                if column.primary_key and isinstance(column.type, Integer) and not column.foreign_keys:
                    continue
                row[column.name] = sample(column, conn, n + 10 * copy)
            conn.execute(table.insert(), [row])
        done.add(table.name)


def snapshot(conn: Connection) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table as dicts, in primary-key order (reflected types, so any revision)."""
    out = {}
    for table in live_tables(conn):
        rows = conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()
        out[table.name] = [dict(r) for r in rows]
    return out


def test_every_upgrade_keeps_the_rows_stored_before_it(empty_engine: Engine) -> None:
    revisions = revisions_in_order(empty_engine)
    assert revisions[0] == "0001"
    filled: set[str] = set()
    before: dict[str, list[dict[str, Any]]] = {}
    for revision in revisions:
        upgrade_schema(empty_engine, revision)
        with empty_engine.begin() as conn:
            fill_new_tables(conn, filled)
            for name, rows in snapshot(conn).items():
                before.setdefault(name, rows)  # as first written, in the columns of that revision
    with empty_engine.connect() as conn:
        after = snapshot(conn)
        current = MigrationContext.configure(conn).get_current_revision()
    assert current == revisions[-1]
    for name, rows in before.items():
        assert name in after, f"table {name} disappeared"
        kept = [{k: r[k] for k in rows[0]} for r in after[name]]
        assert kept == rows, f"rows of {name} changed by the upgrade"


def test_rows_written_at_the_first_schema_survive_the_upgrade_to_head(empty_engine: Engine) -> None:
    upgrade_schema(empty_engine, "0001")
    with empty_engine.begin() as conn:
        fill_new_tables(conn, set())
        first = snapshot(conn)
    upgrade_schema(empty_engine)
    with empty_engine.connect() as conn:
        after = snapshot(conn)
    assert first, "revision 0001 creates no tables"
    for name, rows in first.items():
        assert [{k: r[k] for k in rows[0]} for r in after[name]] == rows


def test_models_and_migrations_describe_the_same_schema(empty_engine: Engine) -> None:
    upgrade_schema(empty_engine)

    def ours(name: str | None, type_: str, _parent: Any) -> bool:
        return not (type_ == "table" and name in NOT_OURS)

    with empty_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": ours})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], "models.py and the migrations differ; add a revision:\n" + "\n".join(
        map(repr, differences)
    )
