"""API keys of outside systems, the one home of how they are made, stored and looked up.

Upstream sources that push content (scheduler.sources) and consumers that read (scheduler.apikeys)
both hold such keys: a prefix naming the kind, then 32 random bytes; shown once when made, stored
only as SHA-256 (scheduler.accounts.hash_token, as station tokens), last use stamped at most once a
minute.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.accounts import hash_token
from scheduler.db.models import ApiConsumer, Source

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
USED_RESOLUTION = timedelta(minutes=1)  # last use is written at most this often

Holder = TypeVar("Holder", Source, ApiConsumer)


def check_name(name: str, what: str) -> str:
    """The stripped name, or ValueError (Vietnamese) naming `what` ("nguồn", "bên dùng API")."""
    name = name.strip()
    if not NAME_RE.match(name):
        raise ValueError(f"Tên {what} «{name[:80]}» không hợp lệ: dùng chữ không dấu, số, dấu chấm, gạch ngang, "
                         "gạch dưới; tối đa 80 ký tự.")
    return name


def issue(prefix: str) -> tuple[str, str]:
    """A new key and the hash to store."""
    key = prefix + secrets.token_urlsafe(32)
    return key, hash_token(key)


def holder_for_key(session: Session, model: type[Holder], prefix: str, key: str, now: datetime) -> Holder | None:
    """The active row of `model` holding `key`, its last use stamped; None for an unknown or revoked key."""
    if not key or not key.startswith(prefix):
        return None
    row = session.scalar(select(model).where(model.key_hash == hash_token(key), model.active.is_(True)))
    if row is not None and (row.last_used_at is None or now - row.last_used_at >= USED_RESOLUTION):
        row.last_used_at = now
    return row
