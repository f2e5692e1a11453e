"""Engines, sessions and schema upgrades."""

from __future__ import annotations

import select
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, configure_mappers, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str, *, threads: int | None = None, **kwargs: Any) -> Engine:
    """An engine with SQLite made safe for a web server, a scheduler and an importer at once.
    `threads`: how many threads share it (the web server's); on PostgreSQL each keeps its own pooled
    connection instead of opening and closing one per request when the default pool of 5 runs out."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if threads is not None:
        kwargs.setdefault("pool_size", max(5, threads))
        kwargs.setdefault("max_overflow", max(10, threads))
    # No pre-ping (a round trip before every use of a pooled connection): a connection the server has
    # closed is found by looking at its socket instead (below), connections older than RECYCLE_SECONDS
    # are replaced (idle timeouts of firewalls and poolers), and read-only answers retry once (`read`).
    kwargs.setdefault("pool_recycle", RECYCLE_SECONDS)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "checkout", _refuse_if_closed_by_server)
    event.listen(engine, "connect", _session_in_utc)
    return engine


def _session_in_utc(dbapi_conn: Any, _record: Any) -> None:
    """Instants come back already in UTC (psycopg then tags them with datetime.UTC itself, which
    UTCDateTime passes through untouched): a manifest reads some two hundred of them. Nothing depends on
    it for correctness: behind a pooler that drops the setting, UTCDateTime converts them as before."""
    autocommit = dbapi_conn.autocommit
    dbapi_conn.autocommit = True
    try:
        dbapi_conn.execute("SET TIME ZONE 'UTC'")
    finally:
        dbapi_conn.autocommit = autocommit


RECYCLE_SECONDS = 1800


def closed_by_server(dbapi_conn: Any) -> bool:
    """True when an idle connection's socket is readable: the server has nothing to say to an idle client
    unless it is closing the connection (restart, pg_terminate_backend, idle timeout). No round trip."""
    try:
        poller = select.poll()  # not select.select(): descriptors above 1024 (many stations connected)
        poller.register(dbapi_conn.fileno(), select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return True


def _refuse_if_closed_by_server(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    if closed_by_server(dbapi_conn):
        raise DisconnectionError("the server closed this pooled connection")  # the pool opens a new one


def autocommit(engine: Engine) -> Engine:
    """The same engine and pool, for read-only work: no BEGIN before and no ROLLBACK after a statement."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


T = TypeVar("T")


def read(engine: Engine, work: Callable[[Connection], T]) -> T:
    """Run read-only `work` on a pooled connection of `engine` (see `autocommit`); once more on a new
    connection if the first one turned out dead (nothing was written, so repeating it is safe)."""
    try:
        with engine.connect() as conn:
            return work(conn)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
    with engine.connect() as conn:
        return work(conn)


# PostgreSQL's "deadlock detected" and "could not serialize access": the statement was rolled back as a
# whole and may simply be run again (e.g. an ack group meeting push_pending's notified_version UPDATE).
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})


def transient(exc: BaseException) -> bool:
    """A database error after which running the same statement again is the remedy."""
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) in TRANSIENT_SQLSTATES


ATTEMPTS = 3


def again_if_transient(work: Callable[[], T], *, dead_connection: bool = False, attempts: int = ATTEMPTS) -> T:
    """`work()`, run again (up to `attempts` times in all) after PostgreSQL rolled its statement back for a
    deadlock or a serialization failure and, with `dead_connection`, after its pooled connection turned out
    dead. Only for work whose failed attempt stored nothing (one statement, or a savepoint)."""
    attempt = 1
    while True:
        try:
            return work()
        except DBAPIError as exc:
            if attempt >= attempts or not (transient(exc) or (dead_connection and exc.connection_invalidated)):
                raise
        attempt += 1


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # The mappers' relationships are resolved now, not inside the first request each web worker answers
    # (a tenth of a second of CPU per worker, in the middle of a programme change).
    configure_mappers()
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back everything on any error."""
    with factory() as session, session.begin():
        yield session


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade_schema(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema to `revision` with Alembic."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def schema_state(engine: Engine) -> str:
    """"empty" (never initialised), "old" (behind the newest migration) or "current"."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import inspect

    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return "empty"
        current = set(MigrationContext.configure(conn).get_current_heads())
    heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
    return "current" if current == heads else "old"
