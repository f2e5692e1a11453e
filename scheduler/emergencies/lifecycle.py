"""The life of an emergency: requested (cho_duyet) → running (dang_chay) ⇄ held (tam_dung) → cancelled
(da_huy) or over. Every step works in the caller's transaction, checks before it changes anything
(ValueError in Vietnamese), and is audited.

Who may start or release one is `may_start` (approvers and admins); editors may only request.
The plays go into the programmes (scheduler.emergencies.placing); the per-station board rows are
kept by scheduler.emergencies.tracking; telling the stations happens after the commit (dispatch).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler import access, audit
from scheduler.db.models import Bulletin, Emergency, Station, User
from scheduler.domain import BulletinStatus
from scheduler.emergencies import tracking
from scheduler.emergencies.placing import place_plays, remove_future_plays
from scheduler.emergencies.rules import MAX_SPAN, RepeatRule, plays_for
from scheduler.emergencies.targets import clean_targets, target_stations

PENDING, RUNNING, HELD, CANCELLED = "cho_duyet", "dang_chay", "tam_dung", "da_huy"
STATE_LABELS = {PENDING: "Chờ duyệt", RUNNING: "Đang chạy", HELD: "Tạm dừng", CANCELLED: "Đã hủy"}
STARTERS = frozenset({"admin", "approver"})
REQUESTERS = frozenset({"admin", "approver", "editor"})
DEFAULT_EXPIRES_MINUTES = 15
MAX_EXPIRES_MINUTES = 24 * 60


def may_start(user: User | None) -> bool:
    """Approvers and admins start and release emergencies; None is the command line (a trusted shell)."""
    return user is None or (user.active and user.role in STARTERS)


def check_scope(user: User | None, stations: Sequence[Station]) -> None:
    """Every station must lie inside the user's scope (scheduler.access); ValueError (Vietnamese) names the others."""
    away = [s.code for s in stations if not access.in_scope(user, s)]
    if away:
        more = f" và {len(away) - 10} đài khác" if len(away) > 10 else ""
        raise ValueError(f"Nơi phát có đài ngoài phạm vi của bạn ({access.describe(user)}): "
                         f"{', '.join(away[:10])}{more}. Chọn nơi phát trong phạm vi, hoặc nhờ người duyệt cấp tỉnh.")


def emergency_plays(emergency: Emergency) -> list[datetime]:
    """Every play instant of a stored emergency (planned ones while it waits for approval)."""
    if emergency.airings:
        return [datetime.fromisoformat(a) for a in emergency.airings]
    rule = RepeatRule(
        every_minutes=emergency.repeat_every_minutes,
        first_at=emergency.starts_at,
        until=emergency.repeat_until,
        times=emergency.repeat_count,
    )
    start = emergency.started_at or emergency.created_at
    if rule.every_minutes is None:
        return [start]
    try:
        return plays_for(start, rule)
    except ValueError:  # a pending request whose repeat end has passed meanwhile
        return [start]


def emergency_ends_at(emergency: Emergency) -> datetime:
    """When the last play is due to finish."""
    audio = emergency.bulletin.audio
    return emergency_plays(emergency)[-1] + timedelta(milliseconds=audio.duration_ms if audio else 0)


def _check_bulletin(session: Session, bulletin: Bulletin, now: datetime, statuses: Sequence[str]) -> None:
    if bulletin.status not in statuses:
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


def _check_rule(bulletin: Bulletin, rule: RepeatRule, now: datetime) -> list[datetime]:
    plays = plays_for(now, rule)
    assert bulletin.audio is not None
    if rule.every_minutes is not None and timedelta(minutes=rule.every_minutes) < timedelta(
            milliseconds=bulletin.audio.duration_ms):
        raise ValueError(
            f"Khoảng lặp {rule.every_minutes} phút ngắn hơn thời lượng bản tin "
            f"({bulletin.audio.duration_ms // 1000} giây): chọn khoảng lặp dài hơn."
        )
    return plays


def check_expiry(minutes: int) -> int:
    if not 1 <= minutes <= MAX_EXPIRES_MINUTES:
        raise ValueError(
            f"Thời hạn nhận lệnh {minutes} phút không hợp lệ: chọn từ 1 đến {MAX_EXPIRES_MINUTES} phút."
        )
    return minutes


def _new(bulletin: Bulletin, targets: Sequence[str], rule: RepeatRule, user: User | None, now: datetime,
         *, full_volume: bool, expires_minutes: int, origin: str, state: str, plays: int) -> Emergency:
    return Emergency(
        bulletin=bulletin,
        targets=clean_targets(targets),
        starts_at=(rule.first_at or now).astimezone(UTC),
        repeat_every_minutes=rule.every_minutes,
        repeat_until=rule.until.astimezone(UTC) if rule.until else None,
        repeat_count=plays,
        volume=100 if full_volume else 0,
        full_volume=full_volume,
        expires_minutes=check_expiry(expires_minutes),
        created_by_id=user.id if user else None,
        created_at=now,
        state=state,
        origin=origin,
        airings=[],
    )


def _go(session: Session, emergency: Emergency, stations: Sequence[Station], plays: Sequence[datetime],
        now: datetime) -> list[dict[str, object]]:
    emergency.state = RUNNING
    emergency.started_at = now
    emergency.airings = [p.astimezone(UTC).isoformat() for p in plays]
    emergency.repeat_count = len(plays)
    session.flush()
    displaced = place_plays(session, emergency, emergency.bulletin, stations, plays, now)
    tracking.ensure_rows(session, emergency, stations, now)
    return displaced


def start_emergency(
    session: Session,
    bulletin: Bulletin,
    targets: Sequence[str],
    rule: RepeatRule,
    user: User | None,
    now: datetime,
    *,
    full_volume: bool = True,
    expires_minutes: int = DEFAULT_EXPIRES_MINUTES,
    origin: str = "web",
) -> Emergency:
    """Air `bulletin` now on `targets` and repeat it by `rule`; ValueError (Vietnamese) if it cannot."""
    if not may_start(user):
        assert user is not None
        raise ValueError(f"Tài khoản «{user.username}» chỉ gửi được yêu cầu phát khẩn cấp; người duyệt sẽ cho phát.")
    _check_bulletin(session, bulletin, now, (BulletinStatus.APPROVED.value,))
    stations = target_stations(session, targets)
    check_scope(user, stations)
    plays = _check_rule(bulletin, rule, now)
    emergency = _new(bulletin, targets, rule, user, now, full_volume=full_volume, expires_minutes=expires_minutes,
                     origin=origin, state=RUNNING, plays=len(plays))
    session.add(emergency)
    displaced = _go(session, emergency, stations, plays, now)
    emergency.released_by_id = user.id if user else None
    audit.record(
        session, now, user, "emergency.start", "emergency", emergency.id,
        after={
            "bulletin": bulletin.code,
            "targets": emergency.targets,
            "stations": [s.code for s in stations],
            "plays": [p.isoformat() for p in plays],
            "full_volume": full_volume,
            "expires_minutes": emergency.expires_minutes,
            "displaced": displaced,
        },
    )
    return emergency


def request_emergency(
    session: Session,
    bulletin: Bulletin,
    targets: Sequence[str],
    rule: RepeatRule,
    user: User | None,
    now: datetime,
    *,
    full_volume: bool = True,
    expires_minutes: int = DEFAULT_EXPIRES_MINUTES,
    origin: str = "web",
) -> Emergency:
    """Store an emergency that waits for an approver's release (an editor's request, a CAP alert)."""
    if user is not None and (not user.active or user.role not in REQUESTERS):
        raise ValueError(f"Tài khoản «{user.username}» không có quyền yêu cầu phát khẩn cấp.")
    _check_bulletin(session, bulletin, now, (BulletinStatus.APPROVED.value, BulletinStatus.SUBMITTED.value))
    stations = target_stations(session, targets)
    check_scope(user, stations)
    plays = _check_rule(bulletin, rule, now)
    emergency = _new(bulletin, targets, rule, user, now, full_volume=full_volume, expires_minutes=expires_minutes,
                     origin=origin, state=PENDING, plays=len(plays))
    session.add(emergency)
    session.flush()
    tracking.ensure_rows(session, emergency, stations, now)
    audit.record(
        session, now, user, "emergency.request", "emergency", emergency.id,
        after={"bulletin": bulletin.code, "targets": emergency.targets, "stations": [s.code for s in stations],
               "origin": origin},
    )
    return emergency


def release_refusal(emergency: Emergency, user: User | None) -> str | None:
    """Why `user` may not release `emergency` (Vietnamese), or None if they may: pages offer the button on None."""
    if emergency.state != PENDING:
        return (f"Lệnh khẩn cấp số {emergency.id} đang «{STATE_LABELS.get(emergency.state, emergency.state)}»,"
                " không chờ duyệt.")
    if not may_start(user):
        assert user is not None
        return f"Tài khoản «{user.username}» không có quyền cho phát khẩn cấp."
    if user is not None and emergency.created_by_id == user.id:
        return "Bạn là người gửi yêu cầu này, không thể tự cho phát. Hãy nhờ người duyệt khác."
    return None


def release_emergency(session: Session, emergency: Emergency, user: User | None, now: datetime) -> Emergency:
    """An approver lets a pending emergency air now (one click); the requester may not release their own."""
    refusal = release_refusal(emergency, user)
    if refusal is not None:
        raise ValueError(refusal)
    bulletin = emergency.bulletin
    if bulletin.status == BulletinStatus.SUBMITTED.value:
        before = bulletin.status
        bulletin.status = BulletinStatus.APPROVED.value
        bulletin.approver_id = user.id if user else None
        bulletin.approved_at = now
        bulletin.updated_at = now
        audit.record(session, now, user, "bulletin.approve", "bulletin", bulletin.id, {"status": before},
                     {"status": bulletin.status, "emergency": emergency.id})
    _check_bulletin(session, bulletin, now, (BulletinStatus.APPROVED.value,))
    stations = target_stations(session, emergency.targets)
    check_scope(user, stations)
    every = emergency.repeat_every_minutes
    until = emergency.repeat_until if emergency.repeat_until is not None and emergency.repeat_until > now else None
    rule = RepeatRule()
    if every is not None and (until is not None or emergency.repeat_count > 1):
        rule = RepeatRule(every_minutes=every, until=until, times=None if until else emergency.repeat_count)
    plays = _check_rule(bulletin, rule, now)
    displaced = _go(session, emergency, stations, plays, now)
    emergency.released_by_id = user.id if user else None
    audit.record(
        session, now, user, "emergency.release", "emergency", emergency.id,
        before={"state": PENDING},
        after={"state": RUNNING, "stations": [s.code for s in stations], "plays": [p.isoformat() for p in plays],
               "displaced": displaced},
    )
    return emergency


def hold_emergency(session: Session, emergency: Emergency, user: User | None, now: datetime) -> list[str]:
    """Pause: plays not yet started leave the programmes and stations stop airing it; return the stations."""
    if emergency.state != RUNNING:
        raise ValueError(f"Lệnh khẩn cấp số {emergency.id} đang «{STATE_LABELS.get(emergency.state, emergency.state)}»;"
                         " chỉ tạm dừng được lệnh đang chạy.")
    check_scope(user, tracking.board_stations(session, emergency))
    removed, stations = remove_future_plays(session, emergency, now)
    emergency.state = HELD
    emergency.held_at = now
    audit.record(session, now, user, "emergency.hold", "emergency", emergency.id, before={"state": RUNNING},
                 after={"state": HELD, "removed_plays": removed, "stations": stations})
    session.flush()
    return stations


def resume_emergency(session: Session, emergency: Emergency, user: User | None, now: datetime) -> list[str]:
    """Go on after a hold: the stations that have not played it yet air it now; the remaining repeats
    come back into the programmes. Returns the stations that air it now."""
    if emergency.state != HELD:
        raise ValueError(f"Lệnh khẩn cấp số {emergency.id} không ở trạng thái tạm dừng.")
    if not may_start(user):
        assert user is not None
        raise ValueError(f"Tài khoản «{user.username}» không có quyền tiếp tục lệnh khẩn cấp.")
    stations = target_stations(session, emergency.targets)
    check_scope(user, stations)
    unplayed = tracking.unplayed_codes(session, emergency)
    later = [p for p in emergency_plays(emergency) if p > now]
    airings = [*emergency_plays(emergency), now]
    emergency.airings = sorted(a.astimezone(UTC).isoformat() for a in airings)
    now_targets = [s for s in stations if s.code in unplayed]
    place_plays(session, emergency, emergency.bulletin, now_targets, [now], now)
    place_plays(session, emergency, emergency.bulletin, stations, later, now)
    emergency.state = RUNNING
    emergency.held_at = None
    tracking.ensure_rows(session, emergency, stations, now)
    audit.record(session, now, user, "emergency.resume", "emergency", emergency.id, before={"state": HELD},
                 after={"state": RUNNING, "now": [s.code for s in now_targets], "later_plays": len(later)})
    session.flush()
    return [s.code for s in now_targets]


def cancel_emergency(session: Session, emergency: Emergency, user: User | None, now: datetime) -> list[str]:
    """Stop an emergency: its plays not yet started leave the programmes; return the stations touched."""
    if emergency.state == CANCELLED or emergency.cancelled_at is not None:
        assert emergency.cancelled_at is not None
        raise ValueError(
            f"Lệnh khẩn cấp số {emergency.id} đã được hủy lúc {emergency.cancelled_at.isoformat()}."
        )
    before = emergency.state
    check_scope(user, tracking.board_stations(session, emergency))
    removed, stations = remove_future_plays(session, emergency, now)
    emergency.cancelled_at = now
    emergency.state = CANCELLED
    audit.record(
        session, now, user, "emergency.cancel", "emergency", emergency.id,
        before={"bulletin": emergency.bulletin.code, "state": before, "cancelled_at": None},
        after={"state": CANCELLED, "cancelled_at": now.isoformat(), "removed_plays": removed, "stations": stations},
    )
    session.flush()
    return stations


def _recent(session: Session, now: datetime, states: Sequence[str]) -> list[Emergency]:
    return list(session.scalars(
        select(Emergency)
        .options(selectinload(Emergency.bulletin).selectinload(Bulletin.audio))
        .where(Emergency.state.in_(list(states)), Emergency.created_at >= now - MAX_SPAN - timedelta(days=1))
        .order_by(Emergency.created_at, Emergency.id)
    ))


def list_active(session: Session, now: datetime) -> list[Emergency]:
    """Running or held emergencies whose last play has not finished, oldest first."""
    return [e for e in _recent(session, now, (RUNNING, HELD)) if emergency_ends_at(e) > now]


def list_pending(session: Session, now: datetime) -> list[Emergency]:
    """Emergencies waiting for an approver (requests and CAP alerts), oldest first."""
    return _recent(session, now, (PENDING,))


def is_over(emergency: Emergency, now: datetime) -> bool:
    return emergency.state in (RUNNING, HELD) and emergency_ends_at(emergency) <= now


def state_label(emergency: Emergency, now: datetime) -> str:
    return "Đã xong" if is_over(emergency, now) else STATE_LABELS.get(emergency.state, emergency.state)
