"""Is this station online? The one answer, for pages, service jobs, metrics and alerts.

A station is online when its latest contact of any kind — a manifest fetch, a status report or a
play-log upload — is at most `Settings.silent_minutes` old (LOAXA_SILENT_MINUTES); one that never
made contact is offline. Contact times are written here and nowhere else (`record_contact`).
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta, tzinfo
from typing import Any, Literal

from sqlalchemy import and_, or_

from scheduler.db.models import Station
from scheduler.settings import DEFAULT_SILENT_MINUTES

ContactKind = Literal["manifest", "status", "log"]
CONTACT_COLUMNS: dict[str, str] = {"manifest": "last_manifest_at", "status": "last_status_at", "log": "last_log_at"}
# Stamps are rewritten at most this often: a station polling every few seconds must not cost a write each time.
CONTACT_RESOLUTION = timedelta(seconds=60)
__all__ = [
    "DEFAULT_SILENT_MINUTES", "box_warnings", "is_online", "last_contact", "never_seen_clause", "online_clause",
    "record_contact", "storage_full",
]


def record_contact(
    station: Station, kind: ContactKind, now: datetime, *, every: timedelta = CONTACT_RESOLUTION
) -> bool:
    """Stamp the station's last contact of `kind`; True if the row changed (at most once per `every`)."""
    attr = CONTACT_COLUMNS[kind]
    if not stamp_due(getattr(station, attr), now, every):
        return False
    setattr(station, attr, now)
    return True


def stamp_due(last: datetime | None, now: datetime, every: timedelta = CONTACT_RESOLUTION) -> bool:
    """True if a contact stamp last written at `last` must be written again at `now`."""
    return last is None or not timedelta(0) <= now - last < every


def last_contact(station: Station) -> datetime | None:
    """The latest of the station's manifest fetch, status report and play-log upload."""
    seen = [t for t in (station.last_manifest_at, station.last_status_at, station.last_log_at) if t is not None]
    return max(seen) if seen else None


def is_online(station: Station, now: datetime, silent_minutes: int) -> bool:
    contact = last_contact(station)
    return contact is not None and now - contact <= timedelta(minutes=silent_minutes)


def online_clause(now: datetime, silent_minutes: int) -> Any:
    """SQL for `is_online`; never NULL, so its negation means offline."""
    cutoff = now - timedelta(minutes=silent_minutes)
    return or_(
        *(
            and_(column.is_not(None), column >= cutoff)
            for column in (Station.last_status_at, Station.last_manifest_at, Station.last_log_at)
        )
    )


def never_seen_clause() -> Any:
    """SQL: the station has never contacted the server."""
    return and_(Station.last_manifest_at.is_(None), Station.last_status_at.is_(None), Station.last_log_at.is_(None))


def box_warnings(station: Station, tz: tzinfo) -> list[str]:
    """What the box says is wrong with it, from its latest status report (Vietnamese, for people)."""
    status = station.status or {}
    warnings = []
    set_aside = status.get("plays_set_aside")
    if isinstance(set_aside, int) and not isinstance(set_aside, bool) and set_aside > 0:
        warnings.append(
            f"Đầu thu đang giữ riêng {set_aside} bản ghi nhật ký phát mà máy chủ từ chối vì sai dữ liệu "
            "(xem nhật ký của đầu thu); các bản ghi khác vẫn được gửi bình thường."
        )
    if storage_full(station):
        since = ""
        with contextlib.suppress(KeyError, TypeError, ValueError):
            since = f" từ {datetime.fromisoformat(status['storage']['since']).astimezone(tz):%H:%M ngày %d/%m/%Y}"
        warnings.append(
            f"Đầu thu đầy bộ nhớ{since}: vẫn phát âm thanh đang có, đã xóa tệp tải dở và âm thanh không còn cần, "
            "nhưng không tải được âm thanh mới. Giải phóng bộ nhớ hoặc thay thẻ nhớ lớn hơn; đầu thu tự tải lại "
            "khi có chỗ trống."
        )
    return warnings


def storage_full(station: Station) -> bool:
    """The box said, in its latest status, that its disk is full ("đầy bộ nhớ")."""
    storage = (station.status or {}).get("storage")
    return isinstance(storage, dict) and storage.get("state") == "full"
