"""Fixtures for operations tests: brand-new databases (restore targets) on either backend."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from scheduler.db.session import make_engine

PG_ADMIN_URL = os.environ.get("LOAXA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def new_database(tmp_path: Path) -> Iterator[Callable[[str], Engine]]:
    """Call with "sqlite" or "postgresql" for an engine on an empty database, dropped after the test."""
    engines: list[Engine] = []
    pg_names: list[str] = []

    def make(backend: str) -> Engine:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path / f'target-{uuid.uuid4().hex[:8]}.sqlite3'}"
        else:
            name = f"loaxa_ops_{uuid.uuid4().hex[:10]}"
            admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            pg_names.append(name)
            url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        engine = make_engine(url)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.dispose()
    if pg_names:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in pg_names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
