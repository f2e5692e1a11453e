"""The record that something a station's manifest answer depends on has changed (table manifest_change).

A poll's answer (scheduler.delivery.station_api.week_manifest) is decided by: the station's token hash,
activity, code and commune; its commune's province and that province's time zone; the station's
programmes (week, version, content hash). Every transaction that writes one of these adds a row to
manifest_change in the same transaction, so nodes answering polls from memory
(scheduler.delivery.poll_cache) learn of it from the database itself, with a bound they can prove.

This is the one home of that rule. It is applied to every Session (the unit of work's flushes and the
INSERT/UPDATE/DELETE statements run through `Session.execute`); a write on a bare Connection calls
`record_change` itself (tests/test_code_quality.py fails on one that does not).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import BigInteger, Text, cast, delete, event, func, insert, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction
from sqlalchemy.sql.dml import Delete, Insert, Update

from scheduler.db.models import ManifestChange

# table → the columns (and relationships setting them) a manifest answer reads.
DEPENDS: Mapping[str, frozenset[str]] = {
    "station": frozenset({"token_hash", "active", "code", "commune_id", "commune"}),
    "commune": frozenset({"province_id", "province"}),
    "province": frozenset({"timezone"}),
    "programme": frozenset({"station_id", "station", "week", "version", "content_hash"}),
}
# A new programme turns a "no programme this week" answer into one; a new station, commune or province
# answers no token anyone holds yet (unknown tokens are never answered from memory).
NEW_ROWS_MATTER = frozenset({"programme"})
KEEP = timedelta(days=1)
_RECORDED = "loaxa.manifest_change_recorded"

Kind = Literal["insert", "update", "delete"]


def touches(table: str, kind: Kind, columns: Iterable[str] | None = None) -> bool:
    """Does writing `columns` (None: unknown, assume any) of `table` change a manifest answer?"""
    if table not in DEPENDS:
        return False
    if kind == "delete":
        return True
    if kind == "insert":
        return table in NEW_ROWS_MATTER
    return columns is None or not DEPENDS[table].isdisjoint(columns)


def record_change(conn: Connection) -> None:
    """Add the change row, in the transaction `conn` is in (committed or rolled back with the change)."""
    values: dict[str, Any] = {"at": func.current_timestamp()}
    if conn.dialect.name == "postgresql":
        values["tx"] = cast(cast(func.pg_current_xact_id(), Text), BigInteger)
    conn.execute(insert(ManifestChange).values(**values))


def prune_changes(conn: Connection, now: datetime, keep: timedelta = KEEP) -> int:
    """Drop change rows older than `keep` (readers more than a minute behind start over; see poll_cache)."""
    return conn.execute(delete(ManifestChange).where(ManifestChange.at < now - keep)).rowcount or 0


def _record_once(session: Session) -> None:
    if not session.info.get(_RECORDED):
        record_change(session.connection())
        session.info[_RECORDED] = True


def _row_touches(obj: Any, kind: Kind) -> bool:
    table = getattr(type(obj), "__tablename__", None)
    if table is None or table not in DEPENDS:
        return False
    if kind != "update":
        return touches(table, kind)
    attrs = inspect(obj).attrs
    return any(name in attrs and attrs[name].history.has_changes() for name in DEPENDS[table])


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    if (any(_row_touches(o, "insert") for o in session.new) or any(_row_touches(o, "delete") for o in session.deleted)
            or any(_row_touches(o, "update") for o in session.dirty)):
        _record_once(session)


def _columns(statement: Update, parameters: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None) -> set[str]:
    names = {getattr(key, "key", None) or str(key) for key in (statement._values or {})}
    rows = [parameters] if isinstance(parameters, Mapping) else list(parameters or [])
    for row in rows:
        names.update(str(key) for key in row)
    return names


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    statement = state.statement
    if not isinstance(statement, Insert | Update | Delete):
        return
    table = getattr(statement.table, "name", "")
    if isinstance(statement, Update):
        if touches(table, "update", _columns(statement, state.parameters)):
            _record_once(state.session)
    elif touches(table, "delete" if isinstance(statement, Delete) else "insert"):
        _record_once(state.session)


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, _transaction: SessionTransaction) -> None:
    session.info.pop(_RECORDED, None)  # a savepoint rolled back may have taken the row with it
