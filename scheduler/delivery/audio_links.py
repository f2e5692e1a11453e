"""Signed download paths for an emergency's audio, handed out in its play-now command.

When an emergency starts, every target box downloads the same new file within seconds. A signed
path (`audio_path(sha)?until=…&sig=…`, HMAC-SHA256 with the server's secret key) lets the server
hand the file over without looking up the station and its programmes for each of them. The
signature names only the file and the moment the play expires; the file is a public warning
aired from loudspeakers, and the unsigned path with the station's token still works.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from scheduler.wire import audio_path, is_sha256


def _signature(secret: str, sha256: str, until: int) -> str:
    message = f"emergency-audio:{sha256}:{until}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def signed_audio_path(secret: str, sha256: str, until: datetime) -> str:
    """The file's download path, valid without a station token until `until`."""
    stamp = int(until.timestamp())
    return f"{audio_path(sha256)}?until={stamp}&sig={_signature(secret, sha256, stamp)}"


def signature_valid(secret: str, sha256: str, until: str, sig: str, now: datetime) -> bool:
    """True if `sig` is ours for this file and `until` has not passed."""
    if not (is_sha256(sha256) and until.isdigit() and len(until) <= 12 and sig):
        return False
    if datetime.fromtimestamp(int(until), UTC) <= now:
        return False
    return hmac.compare_digest(sig, _signature(secret, sha256, int(until)))
