"""User accounts and station tokens: hashing, roles, creation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.db.models import Area, Commune, Station, User

ROLES: dict[str, str] = {
    "admin": "Quản trị",
    "editor": "Biên tập viên",
    "approver": "Người duyệt",
    "operator": "Vận hành xã",
    "viewer": "Xem báo cáo",
}

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
MIN_PASSWORD_CHARS = 8


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


def check_new_password(password: str) -> None:
    """ValueError (Vietnamese) if `password` is too short to be set."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"Mật khẩu phải có ít nhất {MIN_PASSWORD_CHARS} ký tự.")


def account_commune(session: Session, name: str | None, role: str, hint: str = "") -> Commune | None:
    """The commune named `name` for an account; ValueError (Vietnamese) if unknown or an operator has none."""
    commune = None
    if name:
        commune = session.scalar(select(Commune).where(Commune.name == name))
        if commune is None:
            raise ValueError(f"Không tìm thấy xã «{name}». Nhập đúng tên xã như trong danh sách đài.")
    if role == "operator" and commune is None:
        raise ValueError(f"Tài khoản vận hành xã phải gắn với một xã{hint}.")
    return commune


def account_area(session: Session, name: str | None, commune: Commune | None) -> Area | None:
    """The area named `name` for an account's scope; ValueError (Vietnamese) if unknown or given with a commune."""
    if not name:
        return None
    if commune is not None:
        raise ValueError("Một tài khoản chỉ gắn với một xã hoặc một khu vực, không cả hai. Bỏ bớt một trong hai.")
    area = session.scalar(select(Area).where(Area.name == name))
    if area is None:
        known = ", ".join(session.scalars(select(Area.name).order_by(Area.name).limit(10))) or "chưa có khu vực nào"
        raise ValueError(f"Không tìm thấy khu vực «{name}». Các khu vực đã có: {known}.")
    return area


def create_user(
    session: Session, username: str, role: str, password: str, now: datetime, commune: str | None = None,
    area: str | None = None,
) -> User:
    """Create an account; raise ValueError (Vietnamese) for an unknown role, commune, area or a taken name.

    The commune or area is the account's scope (scheduler.access); neither means the whole province.
    """
    if role not in ROLES:
        raise ValueError(f"Vai trò «{role}» không tồn tại. Chọn một trong: {', '.join(ROLES)}.")
    check_new_password(password)
    if session.scalar(select(User).where(User.username == username)):
        raise ValueError(f"Tên đăng nhập «{username}» đã có người dùng.")
    commune_row = account_commune(session, commune, role, hint=" (--commune)")
    area_row = account_area(session, area, commune_row)
    user = User(
        username=username,
        role=role,
        password_hash=hash_password(password),
        commune=commune_row,
        area=area_row,
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
