"""Is this station online? The one answer, for pages, service jobs, metrics and alerts.

A station is online when its latest contact of any kind — a manifest fetch, a status report or a
play-log upload — is at most `Settings.silent_minutes` old (LOAXA_SILENT_MINUTES); one that never
made contact is offline. Contact times are written here and nowhere else: `record_contact` on a loaded
station, `ContactStamps` for manifest fetches (batched, written behind the requests).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from datetime import datetime, timedelta, tzinfo
from typing import Any, Literal

from sqlalchemy import and_, bindparam, or_, update
from sqlalchemy.engine import Engine

from scheduler.db.models import Station
from scheduler.settings import DEFAULT_SILENT_MINUTES

ContactKind = Literal["manifest", "status", "log"]
CONTACT_COLUMNS: dict[str, str] = {"manifest": "last_manifest_at", "status": "last_status_at", "log": "last_log_at"}
# Stamps are rewritten at most this often: a station polling every few seconds must not cost a write each time.
CONTACT_RESOLUTION = timedelta(seconds=60)
log = logging.getLogger("loaxa.liveness")
__all__ = [
    "ContactStamps", "DEFAULT_SILENT_MINUTES", "box_warnings", "is_online", "last_contact", "never_seen_clause",
    "online_clause", "record_contact", "stamp_due", "storage_full",
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


class ContactStamps:
    """Manifest contact stamps (polls and fetches) written behind the requests: kept in memory and written
    by a background thread every `every` seconds, one batched UPDATE for all stations stamped since, so
    no manifest request waits for a write. A crash loses at most `every` seconds of stamps (far below
    CONTACT_RESOLUTION and the minutes of silence that make a station offline)."""

    def __init__(self, engine: Engine, every: float = 2.0) -> None:
        self.engine = engine
        self.every = every
        self._pending: dict[int, datetime] = {}
        self._noted: dict[int, datetime] = {}  # the last stamp noted per station (one entry per station)
        self._lock = threading.Lock()
        self._writer: threading.Thread | None = None

    def note(self, station_id: int, stamped: datetime | None, now: datetime) -> bool:
        """A manifest contact of the station whose stored stamp is `stamped` (as read, maybe a while ago: polls
        answered from memory); True if a stamp is now due."""
        noted = self._noted.get(station_id)
        if noted is not None and (stamped is None or stamped < noted <= now):
            stamped = noted  # noted by this process since `stamped` was read
        if not stamp_due(stamped, now):
            return False
        with self._lock:
            self._noted[station_id] = now
            self._pending[station_id] = max(now, self._pending.get(station_id, now))
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_behind, name="loaxa-contact-stamps", daemon=True)
                self._writer.start()
        return True

    def pending(self) -> dict[int, datetime]:
        with self._lock:
            return dict(self._pending)

    def flush(self) -> int:
        """Write the stamps noted so far (never moving a stamp back); how many stations were stamped."""
        with self._lock:
            batch, self._pending = self._pending, {}
        if not batch:
            return 0
        at = bindparam("at", type_=Station.last_manifest_at.type)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    update(Station)
                    .where(Station.id == bindparam("sid"), or_(Station.last_manifest_at.is_(None),
                                                               Station.last_manifest_at < at))
                    .values(last_manifest_at=at),
                    # In station order: two nodes' batches naming the same stations lock them in the same
                    # order, so they wait for each other instead of deadlocking.
                    [{"sid": sid, "at": when} for sid, when in sorted(batch.items())],
                )
        except Exception:
            with self._lock:  # kept for the next attempt
                for sid, when in batch.items():
                    self._pending[sid] = max(when, self._pending.get(sid, when))
            raise
        return len(batch)

    def _write_behind(self) -> None:
        while True:
            time.sleep(self.every)
            try:
                self.flush()
            except Exception as exc:  # the database is away: the stamps wait for the next round
                log.warning("Chưa ghi được thời điểm liên lạc của %d đài: %s", len(self.pending()), exc)
            with self._lock:
                if not self._pending:
                    self._writer = None  # idle: started again by the next stamp
                    return


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
