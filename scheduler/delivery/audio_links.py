"""Short-lived signed links to one audio file, so a downloaded M3U plays in VLC or mpv with no login.

A link names the audio's sha256 and an expiry instant, signed with HMAC-SHA256 under the server's
secret key: it opens that one file until it expires and nothing else. The clock is passed in.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta

LIFETIME = timedelta(hours=24)  # a day's M3U, downloaded in the morning, still plays in the evening
_TOKEN = re.compile(r"^([0-9a-f]{64})\.([0-9]{1,12})\.([0-9a-f]{32})$")


class LinkError(ValueError):
    """The link was altered or has expired (the message is Vietnamese, for the person holding it)."""


def _signature(secret: str, sha256: str, expires: int) -> str:
    message = f"audio|{sha256}|{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def sign(secret: str, sha256: str, now: datetime, lifetime: timedelta = LIFETIME) -> str:
    """A token for `sha256` valid from `now` for `lifetime`."""
    expires = int((now + lifetime).timestamp())
    return f"{sha256}.{expires}.{_signature(secret, sha256, expires)}"


def verify(secret: str, token: str, now: datetime) -> str:
    """The sha256 the token opens; LinkError if it was altered or has expired."""
    found = _TOKEN.match(token)
    if found is None or not hmac.compare_digest(found[3], _signature(secret, found[1], int(found[2]))):
        raise LinkError("Đường dẫn âm thanh không hợp lệ. Hãy tải lại danh sách phát (M3U) từ trang Hôm nay.")
    expires = datetime.fromtimestamp(int(found[2]), UTC)
    if now >= expires:
        raise LinkError("Đường dẫn âm thanh đã hết hạn. Hãy tải lại danh sách phát (M3U) từ trang Hôm nay.")
    return found[1]


def path(token: str, name: str) -> str:
    """The server path a signed link opens (web/views/today.py serves it)."""
    return f"/nghe/{token}/{name}"


def url(base: str, secret: str, sha256: str, name: str, now: datetime) -> str:
    """A full signed link under the server's public address `base`."""
    return base.rstrip("/") + path(sign(secret, sha256, now), name)
