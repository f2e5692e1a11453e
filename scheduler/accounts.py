"""User accounts and station tokens: hashing, roles, creation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.db.models import Commune, Station, User

ROLES: dict[str, str] = {
    "admin": "Quản trị",
    "editor": "Biên tập viên",
    "approver": "Người duyệt",
    "operator": "Vận hành xã",
    "viewer": "Xem báo cáo",
}

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def check_password(stored: str, password: str) -> bool:
    try:
        scheme, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt_b64), dklen=32, **_SCRYPT)
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


def create_user(
    session: Session, username: str, role: str, password: str, now: datetime, commune: str | None = None
) -> User:
    """Create an account; raise ValueError (Vietnamese) for an unknown role, commune or a taken name."""
    if role not in ROLES:
        raise ValueError(f"Vai trò «{role}» không tồn tại. Chọn một trong: {', '.join(ROLES)}.")
    if len(password) < 8:
        raise ValueError("Mật khẩu phải có ít nhất 8 ký tự.")
    if session.scalar(select(User).where(User.username == username)):
        raise ValueError(f"Tên đăng nhập «{username}» đã có người dùng.")
    commune_row = None
    if commune:
        commune_row = session.scalar(select(Commune).where(Commune.name == commune))
        if commune_row is None:
            raise ValueError(f"Không tìm thấy xã «{commune}». Nhập đúng tên xã như trong danh sách đài.")
    if role == "operator" and commune_row is None:
        raise ValueError("Tài khoản vận hành xã phải gắn với một xã (--commune).")
    user = User(
        username=username,
        role=role,
        password_hash=hash_password(password),
        commune=commune_row,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def hash_token(token: str) -> str:
    """Station tokens are long random strings, so a plain SHA-256 is enough to store them."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_station_token(station: Station, now: datetime) -> str:
    """Give the station a new token, revoking the old one; return the token (shown once)."""
    token = secrets.token_urlsafe(32)
    station.token_hash = hash_token(token)
    station.token_issued_at = now
    return token


def station_for_token(session: Session, token: str) -> Station | None:
    if not token:
        return None
    return session.scalar(select(Station).where(Station.token_hash == hash_token(token), Station.active))
