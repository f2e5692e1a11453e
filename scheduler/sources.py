"""Upstream systems allowed to push content into loaxa (CAP alerts, bulletins), each with its own API key.

A key is shown once when made (`loaxa source add NAME`) and stored only as its SHA-256
(scheduler.keys, shared with the read API's consumers). Every intake endpoint resolves a key with
`source_for_key`; one home for the rule, whichever content comes in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import audit, keys
from scheduler.db.models import Source, User

KEY_PREFIX = "lsk_"


def add_source(session: Session, name: str, now: datetime, user: User | None = None) -> tuple[Source, str]:
    """A new source and its key (shown once); ValueError (Vietnamese) for a bad or taken name."""
    name = keys.check_name(name, "nguồn")
    if session.scalar(select(Source.id).where(Source.name == name)) is not None:
        raise ValueError(f"Đã có nguồn tên «{name}». Cấp khóa mới bằng «loaxa source key {name}».")
    key, digest = keys.issue(KEY_PREFIX)
    source = Source(name=name, key_hash=digest, active=True, created_at=now)
    session.add(source)
    session.flush()
    audit.record(session, now, user, "source.add", "source", source.id, None, {"name": name})
    return source, key


def new_key(session: Session, name: str, now: datetime, user: User | None = None) -> str:
    """Replace a source's key (the old one stops working at once); the new key is shown once."""
    source = session.scalar(select(Source).where(Source.name == name))
    if source is None:
        raise ValueError(f"Không có nguồn tên «{name}». Xem danh sách: loaxa source list.")
    key, source.key_hash = keys.issue(KEY_PREFIX)
    source.active = True
    audit.record(session, now, user, "source.key", "source", source.id, None, {"name": name})
    return key


def source_for_key(session: Session, key: str, now: datetime) -> Source | None:
    """The active source holding `key`, its last use stamped; None for an unknown or revoked key."""
    return keys.holder_for_key(session, Source, KEY_PREFIX, key, now)


def list_sources(session: Session) -> list[Source]:
    return list(session.scalars(select(Source).order_by(Source.name)))
