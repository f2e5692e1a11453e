"""Emergencies (khẩn cấp): played at once on their targets, repeated by a rule, pre-empting the programme.

Each play becomes a locked `emergency` item in the target station's programme for the ISO week
of that instant, and the programme's version grows so stations re-sync. What the slot displaces
(docs/scheduler-service.md#emergencies):
- an item already on air when the emergency starts is cut at the emergency's start;
- a relay (a stream) that has not started is split around the emergency slot;
- any other item (bulletin, jingle, pinned item) overlapping the slot is removed; the next
  rebuild of the week may place the bulletin again in a free slot;
- a play that would overlap another emergency is moved to start just after it.
Cancelling removes the plays that have not started; what was displaced comes back with the next rebuild.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler import audit
from scheduler.db.models import Bulletin, Emergency, Programme, ProgrammeItem, Station, User
from scheduler.delivery import announce_emergency
from scheduler.domain import DEFAULT_TZ, BulletinStatus, IsoWeek, Priority
from scheduler.programmes import store
from scheduler.programmes.inputs import load_stations, target_codes

log = logging.getLogger(__name__)

MIN_EVERY_MINUTES = 5
MAX_PLAYS = 200
MAX_SPAN = timedelta(days=7)
GAP = timedelta(seconds=2)  # silence between back-to-back emergencies


@dataclass(frozen=True)
class RepeatRule:
    """How an emergency repeats after its immediate play.

    Repeats fall on a grid `first_at + k * every_minutes` (first_at defaults to now), up to `until`
    and/or until `times` plays in all (the immediate play counts). A repeat that would start
    within half an interval after the immediate play is dropped: it would air the same warning again
    minutes later.
    """

    every_minutes: int | None = None
    first_at: datetime | None = None
    until: datetime | None = None
    times: int | None = None


def plays_for(now: datetime, rule: RepeatRule) -> list[datetime]:
    """The instants of every play: `now` first, then the repeats; ValueError (Vietnamese) for a bad rule."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    if rule.times is not None and not 1 <= rule.times <= MAX_PLAYS:
        raise ValueError(f"Số lần phát {rule.times} không hợp lệ: chọn từ 1 đến {MAX_PLAYS} lần.")
    if rule.every_minutes is None:
        if rule.until is not None or (rule.times or 1) > 1:
            raise ValueError("Muốn phát lặp lại thì phải cho khoảng lặp (--every SỐ_PHÚT), ví dụ --every 60.")
        return [now]
    if rule.every_minutes < MIN_EVERY_MINUTES:
        raise ValueError(
            f"Khoảng lặp {rule.every_minutes} phút quá ngắn: phải từ {MIN_EVERY_MINUTES} phút trở lên."
        )
    if rule.until is None and rule.times is None:
        raise ValueError("Phát lặp lại cần giờ kết thúc (--until HH:MM) hoặc số lần phát (--times N).")
    if rule.until is not None:
        if rule.until <= now:
            raise ValueError(
                f"Giờ kết thúc {rule.until.isoformat()} đã qua: chọn một thời điểm sau bây giờ."
            )
        if rule.until - now > MAX_SPAN:
            raise ValueError("Một lệnh khẩn cấp chỉ lặp lại trong tối đa 7 ngày; chọn giờ kết thúc sớm hơn.")
    every = timedelta(minutes=rule.every_minutes)
    anchor = rule.first_at or now
    limit = rule.times or MAX_PLAYS
    until = rule.until or now + MAX_SPAN
    # The first grid point past the "too soon after the immediate play" margin.
    earliest = now + every / 2
    k = max(0, -(-(earliest - anchor) // every)) if anchor < earliest else 0
    plays = [now]
    point = anchor + k * every
    while len(plays) < limit and point <= until:
        if point > earliest:
            plays.append(point)
        point += every
    return plays


def emergency_plays(emergency: Emergency) -> list[datetime]:
    """The play instants of a stored emergency, recomputed from its rule."""
    rule = RepeatRule(
        every_minutes=emergency.repeat_every_minutes,
        first_at=emergency.starts_at,
        until=emergency.repeat_until,
        times=emergency.repeat_count,
    )
    if rule.every_minutes is None:
        return [emergency.created_at]
    return plays_for(emergency.created_at, rule)


def emergency_ends_at(emergency: Emergency) -> datetime:
    """When the last play is due to finish."""
    duration = timedelta(milliseconds=emergency.bulletin.audio.duration_ms if emergency.bulletin.audio else 0)
    return emergency_plays(emergency)[-1] + duration


def _check_bulletin(session: Session, bulletin: Bulletin, now: datetime) -> None:
    if bulletin.status != BulletinStatus.APPROVED.value:
        raise ValueError(
            f"Bản tin «{bulletin.code}» đang ở trạng thái «{BulletinStatus(bulletin.status).label}»: "
            "chỉ phát khẩn cấp bản tin đã duyệt. Trình duyệt bản tin trước."
        )
    if bulletin.audio is None:
        raise ValueError(
            f"Bản tin «{bulletin.code}» chưa có âm thanh: chạy «loaxa render» hoặc tải bản ghi âm lên trước."
        )
    for other in list_active(session, now):
        if other.bulletin_id == bulletin.id:
            raise ValueError(
                f"Bản tin «{bulletin.code}» đang phát khẩn cấp theo lệnh số {other.id}. "
                f"Hủy lệnh đó trước (loaxa emergency cancel {other.id}) rồi ra lệnh mới."
            )


def target_stations(session: Session, targets: Sequence[str]) -> list[Station]:
    """Active stations named by `targets` (codes, commune names, "*"); ValueError (Vietnamese) if none or unknown."""
    clean = [t.strip() for t in targets if t.strip()]
    if not clean:
        raise ValueError("Chưa chọn nơi phát: ghi mã đài, tên xã, hoặc * cho tất cả các đài.")
    stations = load_stations(session)
    codes = target_codes(clean, stations)
    known = {s.code for s in stations} | {s.commune.name for s in stations}
    unknown = [t for t in clean if t != "*" and t not in known]
    if unknown:
        raise ValueError(
            f"Nơi phát «{', '.join(unknown)}» không phải mã đài hay tên xã có đài đang hoạt động."
        )
    chosen = [s for s in stations if s.code in codes]
    if not chosen:
        raise ValueError(f"Không có đài nào đang hoạt động thuộc nơi phát «{', '.join(clean)}».")
    return chosen


def station_zone(station: Station) -> ZoneInfo:
    """The zone of the station's province: its programme weeks start Monday 00:00 there."""
    return ZoneInfo(station.commune.province.timezone or DEFAULT_TZ)


def _describe(item: ProgrammeItem) -> dict[str, Any]:
    return {"start": item.start.isoformat(), "kind": item.kind, "bulletin": item.bulletin_code}


def _clear_slot(programme: Programme, start: datetime, end: datetime, now: datetime) -> list[dict[str, Any]]:
    """Make [start, end) free of non-emergency items; return what was cut or removed."""
    touched: list[dict[str, Any]] = []
    for item in list(programme.items):
        if item.kind == "emergency" or item.start >= end or item.end <= start:
            continue
        touched.append(_describe(item))
        original_end = item.end
        if item.start < start and (item.start <= now or item.kind == "relay"):
            item.end = start  # on air already, or a stream: keep the part before the emergency
            if item.kind == "relay":
                item.duration_ms = int((item.end - item.start).total_seconds() * 1000)
        elif item.kind == "relay" and original_end > end:
            item.start = end
            item.duration_ms = int((item.end - item.start).total_seconds() * 1000)
            continue
        else:
            programme.items.remove(item)
            continue
        if item.kind == "relay" and original_end > end:
            programme.items.append(
                ProgrammeItem(
                    start=end, end=original_end, kind="relay", bulletin_id=None, bulletin_code=None,
                    title=item.title, topic=item.topic, language=item.language, priority=item.priority,
                    audio_sha256=None, duration_ms=int((original_end - end).total_seconds() * 1000),
                    stream_url=item.stream_url, locked=item.locked,
                )
            )
    return touched


def _free_start(programme: Programme, start: datetime, duration: timedelta) -> datetime:
    """The first instant from `start` on where the play does not overlap another emergency."""
    moved = True
    while moved:
        moved = False
        for item in programme.items:
            if item.kind == "emergency" and item.start < start + duration and item.end > start:
                start = item.end + GAP
                moved = True
    return start


def _bump(programmes: Iterable[Programme], now: datetime) -> None:
    """New versions for the touched programmes, and a rebuild soon to place displaced bulletins again."""
    for programme in programmes:
        store.bump(programme, now)
        store.mark_stale(programme)


def start_emergency(
    session: Session,
    bulletin: Bulletin,
    targets: Sequence[str],
    rule: RepeatRule,
    user: User | None,
    now: datetime,
) -> Emergency:
    """Air `bulletin` now on `targets` and repeat it by `rule`; ValueError (Vietnamese) if it cannot."""
    _check_bulletin(session, bulletin, now)
    stations = target_stations(session, targets)
    plays = plays_for(now, rule)
    assert bulletin.audio is not None
    duration = timedelta(milliseconds=bulletin.audio.duration_ms)
    if rule.every_minutes is not None and timedelta(minutes=rule.every_minutes) < duration:
        raise ValueError(
            f"Khoảng lặp {rule.every_minutes} phút ngắn hơn thời lượng bản tin "
            f"({bulletin.audio.duration_ms // 1000} giây): chọn khoảng lặp dài hơn."
        )
    emergency = Emergency(
        bulletin=bulletin,
        targets=[t.strip() for t in targets if t.strip()],
        starts_at=(rule.first_at or now).astimezone(UTC),
        repeat_every_minutes=rule.every_minutes,
        repeat_until=rule.until.astimezone(UTC) if rule.until else None,
        repeat_count=len(plays),
        volume=100,
        created_by_id=user.id if user else None,
        created_at=now,
    )
    session.add(emergency)
    cache: dict[tuple[int, str], Programme | None] = {}
    displaced: list[dict[str, Any]] = []
    for station in stations:
        tz = station_zone(station)
        for play in plays:
            week = IsoWeek.of(play.astimezone(tz).date())
            programme = store.programme_for_write(session, station, week, now, cache)
            start = _free_start(programme, play.astimezone(UTC), duration)
            for gone in _clear_slot(programme, start, start + duration, now):
                displaced.append({"station": station.code, **gone})
            # A play late on Sunday may run into next week, whose programme must make room too.
            end_week = IsoWeek.of((start + duration - timedelta(milliseconds=1)).astimezone(tz).date())
            if end_week != week:
                spill = store.programme_for_write(session, station, end_week, now, cache, create=False)
                if spill is not None:
                    for gone in _clear_slot(spill, start, start + duration, now):
                        displaced.append({"station": station.code, **gone})
            programme.items.append(
                ProgrammeItem(
                    start=start,
                    end=start + duration,
                    kind="emergency",
                    bulletin_id=bulletin.id,
                    bulletin_code=bulletin.code,
                    title=bulletin.title,
                    topic=bulletin.topic,
                    language=bulletin.language,
                    priority=Priority.EMERGENCY.value,
                    audio_sha256=bulletin.audio.sha256,
                    duration_ms=bulletin.audio.duration_ms,
                    stream_url=None,
                    locked=True,
                )
            )
    _bump([p for p in cache.values() if p is not None], now)
    session.flush()
    audit.record(
        session, now, user, "emergency.start", "emergency", emergency.id,
        after={
            "bulletin": bulletin.code,
            "targets": emergency.targets,
            "stations": [s.code for s in stations],
            "plays": [p.isoformat() for p in plays],
            "displaced": displaced,
        },
    )
    return emergency


def cancel_emergency(session: Session, emergency: Emergency, user: User | None, now: datetime) -> list[str]:
    """Stop an emergency: its plays not yet started leave the programmes; return the stations touched."""
    if emergency.cancelled_at is not None:
        raise ValueError(
            f"Lệnh khẩn cấp số {emergency.id} đã được hủy lúc {emergency.cancelled_at.isoformat()}."
        )
    future = (ProgrammeItem.kind == "emergency") & (ProgrammeItem.bulletin_code == emergency.bulletin.code) \
        & (ProgrammeItem.start > now)
    programmes = {
        p.id: p
        for p in session.scalars(
            select(Programme)
            .options(selectinload(Programme.items), selectinload(Programme.station))
            .where(Programme.id.in_(select(ProgrammeItem.programme_id).where(future)))
            .with_for_update()
        )
    }
    items = [
        item for p in programmes.values() for item in p.items
        if item.kind == "emergency" and item.bulletin_code == emergency.bulletin.code and item.start > now
    ]
    for item in items:
        programmes[item.programme_id].items.remove(item)
    _bump(programmes.values(), now)
    emergency.cancelled_at = now
    stations = sorted({p.station.code for p in programmes.values()})
    audit.record(
        session, now, user, "emergency.cancel", "emergency", emergency.id,
        before={"bulletin": emergency.bulletin.code, "cancelled_at": None},
        after={"cancelled_at": now.isoformat(), "removed_plays": len(items), "stations": stations},
    )
    session.flush()
    return stations


def list_active(session: Session, now: datetime) -> list[Emergency]:
    """Emergencies not cancelled whose last play has not finished, oldest first."""
    rows = session.scalars(
        select(Emergency)
        .options(selectinload(Emergency.bulletin).selectinload(Bulletin.audio))
        .where(Emergency.cancelled_at.is_(None), Emergency.created_at >= now - MAX_SPAN - timedelta(days=1))
        .order_by(Emergency.created_at, Emergency.id)
    )
    return [e for e in rows if emergency_ends_at(e) > now]


def announce(settings: Any, emergency: Emergency, stations: Sequence[str], now: datetime) -> bool:
    """Tell stations over MQTT to play the emergency now; True if the broker took it for any station.

    Call after the commit, with `emergency` still attached to a session. Never raises: the emergency is
    already in the programmes, so a station the command misses airs it after its next HTTP sync.
    """
    if not getattr(settings, "mqtt_url", None):
        return False
    try:
        confirmed = announce_emergency(settings, emergency, list(stations), now)
    except Exception:  # a broker outage must not undo an emergency already in the programmes
        log.exception("không gửi được lệnh phát ngay cho lệnh khẩn cấp %s qua MQTT", emergency.id)
        return False
    return any(dict(confirmed or {}).values())
