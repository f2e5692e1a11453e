"""Dump every table as JSON lines from one consistent read transaction, on SQLite or PostgreSQL.

The dump reflects the live schema (not the models), so it also works on a database that is
an older Alembic revision than the code; the revision goes into the backup manifest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import MetaData, Table, select, text
from sqlalchemy.engine import Connection, Engine

from scheduler.ops import OpsError
from scheduler.ops.rowcodec import column_kind, encode

VERSION_TABLE = "alembic_version"
# Tables that are not loaxa data: Alembic's bookkeeping, and APScheduler's job store, which the
# scheduler service rebuilds from its job list when it takes the lead.
# manifest_change: which answers nodes may keep in memory, not data (a restore records one change itself).
NOT_DATA = frozenset({VERSION_TABLE, "apscheduler_jobs", "manifest_change"})


@dataclass(frozen=True)
class TableDump:
    name: str
    rows: int
    sha256: str  # of the .jsonl file
    columns: tuple[tuple[str, str], ...]  # (name, kind) in table order

    @property
    def file_name(self) -> str:
        return f"db/{self.name}.jsonl"


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection whose every read sees the same committed state of the database."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            if conn.dialect.name == "sqlite":
                # pysqlite opens no transaction for SELECTs; an explicit one pins the WAL snapshot.
                conn.exec_driver_sql("BEGIN")
            yield conn


def data_tables(conn: Connection) -> list[Table]:
    """The live loaxa tables in foreign-key order."""
    meta = MetaData()
    meta.reflect(bind=conn, only=lambda name, _meta: name not in NOT_DATA)
    return list(meta.sorted_tables)


def current_revision(conn: Connection) -> str:
    meta = MetaData()
    meta.reflect(bind=conn, only=lambda name, _meta: name == VERSION_TABLE)
    if VERSION_TABLE not in meta.tables:
        raise OpsError("Cơ sở dữ liệu chưa được khởi tạo (không có bảng alembic_version). Chạy: loaxa init")
    revision = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    if revision is None:
        raise OpsError("Cơ sở dữ liệu chưa có phiên bản lược đồ. Chạy: loaxa init")
    return str(revision)


def dump_table(conn: Connection, table: Table, target: Path) -> TableDump:
    """Write one table's rows, ordered by primary key, one JSON object per line."""
    columns = tuple((c.name, column_kind(c.type)) for c in table.columns)
    order = list(table.primary_key.columns) or list(table.columns)
    digest = hashlib.sha256()
    count = 0
    result = conn.execution_options(stream_results=True, yield_per=1000).execute(select(table).order_by(*order))
    with target.open("w", encoding="utf-8", newline="\n") as fh:
        for row in result:
            record = {name: encode(value, kind) for (name, kind), value in zip(columns, row, strict=True)}
            # Python's JSON keeps -Infinity (the loudness of a silent file) and reads it back.
            line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
            fh.write(line)
            digest.update(line.encode("utf-8"))
            count += 1
    return TableDump(table.name, count, digest.hexdigest(), columns)


def dump_database(
    engine: Engine, out_dir: Path, after_table: Callable[[str], None] | None = None
) -> tuple[str, list[TableDump]]:
    """Dump all tables into `out_dir/db/`; return the schema revision and what was written.

    `after_table` is called with each table's name once it is written (progress, tests).
    """
    (out_dir / "db").mkdir(parents=True, exist_ok=True)
    dumps = []
    with snapshot(engine) as conn:
        revision = current_revision(conn)
        for table in data_tables(conn):
            dump = dump_table(conn, table, out_dir / f"db/{table.name}.jsonl")
            dumps.append(dump)
            if after_table is not None:
                after_table(table.name)
    return revision, dumps
