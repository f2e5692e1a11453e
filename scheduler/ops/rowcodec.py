"""Database values <-> portable JSON values, by column kind, the same on SQLite and PostgreSQL.

Every datetime column in loaxa holds a UTC instant (`UTCDateTime`); SQLite returns it naive,
so a naive value read here is taken as UTC.
"""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    Numeric,
    String,
)
from sqlalchemy.types import TypeEngine

KINDS = ("int", "float", "decimal", "bool", "str", "date", "datetime", "json", "bytes")


def column_kind(type_: TypeEngine[Any]) -> str:
    """The portable kind of a (possibly reflected) column type."""
    checks: tuple[tuple[type[TypeEngine[Any]], str], ...] = (
        (JSON, "json"),
        (Boolean, "bool"),
        (DateTime, "datetime"),
        (Date, "date"),
        (Integer, "int"),
        (Float, "float"),
        (Numeric, "decimal"),
        (LargeBinary, "bytes"),
        (String, "str"),
    )
    for cls, kind in checks:
        if isinstance(type_, cls):
            return kind
    impl = getattr(type_, "impl", None)  # TypeDecorator, e.g. UTCDateTime
    if isinstance(impl, TypeEngine):
        return column_kind(impl)
    return "str"


def encode(value: Any, kind: str) -> Any:
    """A JSON-serialisable form of a value read from the database."""
    if value is None:
        return None
    if kind == "datetime":
        instant = value if value.tzinfo else value.replace(tzinfo=UTC)
        return instant.astimezone(UTC).isoformat()
    if kind == "date":
        return value.isoformat()
    if kind == "decimal":
        return str(value)
    if kind == "bytes":
        return base64.b64encode(bytes(value)).decode("ascii")
    if kind == "bool":
        return bool(value)
    if kind == "float":
        return float(value)
    return value


def decode(value: Any, kind: str, naive_utc: bool = False) -> Any:
    """The Python value to insert for a JSON value written by `encode`.

    `naive_utc`: datetimes as naive UTC, as `UTCDateTime` stores them on SQLite.
    """
    if value is None:
        return None
    if kind == "datetime":
        instant = datetime.fromisoformat(value).astimezone(UTC)
        return instant.replace(tzinfo=None) if naive_utc else instant
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "decimal":
        return Decimal(value)
    if kind == "bytes":
        return base64.b64decode(value)
    return value
