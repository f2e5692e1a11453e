"""Consumers of the open read API (the province's dashboards, an upstream source system), each with its
own API key and the scopes it may read.

Keys are made, stored and looked up by scheduler.keys (as the sources' keys): shown once, kept as
SHA-256. `loaxa apikey add NAME --scope read:stations,read:airtime` makes one; the read API asks
`consumer_for_key` who is calling and `allows` whether the call is inside the consumer's scopes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import audit, keys
from scheduler.db.models import ApiConsumer, User

KEY_PREFIX = "lak_"
SCOPES: dict[str, str] = {
    "read:stations": "Đài và cụm loa: tọa độ, xã, khu vực, trạng thái",
    "read:programmes": "Lịch phát từng đài theo tuần, với trạng thái từng mục",
    "read:airtime": "Thống kê thời lượng phát sóng theo ngày",
    "read:bulletins": "Bản tin đã duyệt",
}
WHAT = "bên dùng API"


def parse_scopes(text: str | Iterable[str]) -> list[str]:
    """Scopes from "read:stations,read:airtime" (or a list); ValueError (Vietnamese) for an unknown or none."""
    items = text.split(",") if isinstance(text, str) else list(text)
    scopes = sorted({s.strip() for s in items if s and s.strip()})
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise ValueError(f"Phạm vi không có: {', '.join(unknown)}. Chọn trong: {', '.join(SCOPES)}.")
    if not scopes:
        raise ValueError(f"Cần ít nhất một phạm vi, ví dụ --scope read:stations,read:airtime. Có: {', '.join(SCOPES)}.")
    return scopes


def _named(session: Session, name: str) -> ApiConsumer:
    consumer = session.scalar(select(ApiConsumer).where(ApiConsumer.name == name.strip()))
    if consumer is None:
        raise ValueError(f"Không có bên dùng API tên «{name}». Xem danh sách: loaxa apikey list.")
    return consumer


def add_consumer(session: Session, name: str, scopes: str | Iterable[str], now: datetime,
                 user: User | None = None) -> tuple[ApiConsumer, str]:
    """A new consumer and its key (shown once); ValueError (Vietnamese) for a bad or taken name or scope."""
    name = keys.check_name(name, WHAT)
    chosen = parse_scopes(scopes)
    if session.scalar(select(ApiConsumer.id).where(ApiConsumer.name == name)) is not None:
        raise ValueError(f"Đã có bên dùng API tên «{name}». Cấp khóa mới bằng «loaxa apikey key {name}».")
    key, digest = keys.issue(KEY_PREFIX)
    consumer = ApiConsumer(name=name, key_hash=digest, scopes=chosen, active=True, created_at=now)
    session.add(consumer)
    session.flush()
    audit.record(session, now, user, "apikey.add", "api_consumer", consumer.id, None,
                 {"name": name, "scopes": chosen})
    return consumer, key


def new_key(session: Session, name: str, now: datetime, user: User | None = None) -> str:
    """Replace a consumer's key (the old one stops working at once); the new key is shown once."""
    consumer = _named(session, name)
    key, consumer.key_hash = keys.issue(KEY_PREFIX)
    consumer.active = True
    audit.record(session, now, user, "apikey.key", "api_consumer", consumer.id, None, {"name": consumer.name})
    return key


def set_scopes(session: Session, name: str, scopes: str | Iterable[str], now: datetime,
               user: User | None = None) -> ApiConsumer:
    consumer = _named(session, name)
    before = list(consumer.scopes or [])
    consumer.scopes = parse_scopes(scopes)
    audit.record(session, now, user, "apikey.scope", "api_consumer", consumer.id, {"scopes": before},
                 {"scopes": consumer.scopes})
    return consumer


def revoke(session: Session, name: str, now: datetime, user: User | None = None) -> ApiConsumer:
    """The consumer's key stops working at once (a new key with «loaxa apikey key» brings it back)."""
    consumer = _named(session, name)
    consumer.active = False
    audit.record(session, now, user, "apikey.revoke", "api_consumer", consumer.id, None, {"name": consumer.name})
    return consumer


def consumer_for_key(session: Session, key: str, now: datetime) -> ApiConsumer | None:
    """The active consumer holding `key`, its last use stamped; None for an unknown or revoked key."""
    return keys.holder_for_key(session, ApiConsumer, KEY_PREFIX, key, now)


def allows(consumer: ApiConsumer, scope: str) -> bool:
    return scope in (consumer.scopes or [])


def list_consumers(session: Session) -> list[ApiConsumer]:
    return list(session.scalars(select(ApiConsumer).order_by(ApiConsumer.name)))
