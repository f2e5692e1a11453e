"""Upstream systems allowed to push content into loaxa (CAP alerts, bulletins), each with its own API key.

A key is shown once when made (`loaxa source add NAME`) and stored only as its SHA-256. Every
intake endpoint resolves a key with `source_for_key`; one home for the rule, whichever content
comes in.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import audit
from scheduler.accounts import hash_token
from scheduler.db.models import Source, User

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
KEY_PREFIX = "lsk_"
USED_RESOLUTION = timedelta(minutes=1)  # last use is written at most this often


def add_source(session: Session, name: str, now: datetime, user: User | None = None) -> tuple[Source, str]:
    """A new source and its key (shown once); ValueError (Vietnamese) for a bad or taken name."""
    name = name.strip()
    if not NAME_RE.match(name):
        raise ValueError(f"Tên nguồn «{name[:80]}» không hợp lệ: dùng chữ không dấu, số, dấu chấm, gạch ngang, "
                         "gạch dưới; tối đa 80 ký tự.")
    if session.scalar(select(Source.id).where(Source.name == name)) is not None:
        raise ValueError(f"Đã có nguồn tên «{name}». Cấp khóa mới bằng «loaxa source key {name}».")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    source = Source(name=name, key_hash=hash_token(key), active=True, created_at=now)
    session.add(source)
    session.flush()
    audit.record(session, now, user, "source.add", "source", source.id, None, {"name": name})
    return source, key


def new_key(session: Session, name: str, now: datetime, user: User | None = None) -> str:
    """Replace a source's key (the old one stops working at once); the new key is shown once."""
    source = session.scalar(select(Source).where(Source.name == name))
    if source is None:
        raise ValueError(f"Không có nguồn tên «{name}». Xem danh sách: loaxa source list.")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    source.key_hash = hash_token(key)
    source.active = True
    audit.record(session, now, user, "source.key", "source", source.id, None, {"name": name})
    return key


def source_for_key(session: Session, key: str, now: datetime) -> Source | None:
    """The active source holding `key`, its last use stamped; None for an unknown or revoked key."""
    if not key or not key.startswith(KEY_PREFIX):
        return None
    source = session.scalar(select(Source).where(Source.key_hash == hash_token(key), Source.active))
    if source is not None and (source.last_used_at is None or now - source.last_used_at >= USED_RESOLUTION):
        source.last_used_at = now
    return source


def list_sources(session: Session) -> list[Source]:
    return list(session.scalars(select(Source).order_by(Source.name)))
