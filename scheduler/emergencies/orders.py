"""One emergency order as a person gives it (page or command): the words, a recording or an approved
khẩn cấp bulletin; where; how often; how loud; how late a station may still air it.

`prepare` checks everything and renders the sound (nothing stored but the audio file); `launch`
stores it after the explicit confirmation: started at once by an approver or admin, or waiting
for one when an editor asks. The page and `loaxa emergency start` both go through here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from audio.errors import AudioError
from audio.settings import AudioSettings
from scheduler.bulletins import BulletinInvalid
from scheduler.db.models import Bulletin, Emergency, Station, User
from scheduler.domain import BulletinStatus, Priority
from scheduler.emergencies import compose
from scheduler.emergencies.lifecycle import (
    DEFAULT_EXPIRES_MINUTES,
    check_expiry,
    check_scope,
    may_start,
    request_emergency,
    start_emergency,
)
from scheduler.emergencies.rules import RepeatRule, plays_for
from scheduler.emergencies.targets import target_stations
from scheduler.rendering import load_lexicon

WORDS, RECORDING, BULLETIN = "loi", "ghi-am", "ban-tin"


class OrderInvalid(ValueError):
    """`errors` maps each field (text, title, recording, bulletin_id, targets, repeat, expires) to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(self.errors.values()))


@dataclass
class Order:
    source: str = WORDS
    text: str = ""
    title: str = ""
    recording_file: str | None = None  # media-relative, from scheduler.imports.store_upload
    bulletin_code: str | None = None
    targets: list[str] = field(default_factory=list)
    rule: RepeatRule = field(default_factory=RepeatRule)
    full_volume: bool = True
    expires_minutes: int = DEFAULT_EXPIRES_MINUTES
    engine: str | None = None  # the confirmation's engine: the start renders with the same one


@dataclass
class Prepared:
    order: Order
    title: str
    spoken: str
    sha256: str
    duration_ms: int
    engine: str
    stations: list[Station]
    plays: list[datetime]
    bulletin: Bulletin | None = None  # an existing bulletin is aired as it is
    composed: compose.Composed | None = None  # else the new sound, stored with a new bulletin on launch


def emergency_bulletins(session: Session, limit: int = 200) -> list[Bulletin]:
    """Approved khẩn cấp bulletins with audio, newest first (ordinary ones are never offered)."""
    return list(session.scalars(
        select(Bulletin).options(selectinload(Bulletin.audio))
        .where(Bulletin.status == BulletinStatus.APPROVED.value, Bulletin.audio_asset_id.is_not(None),
               Bulletin.priority == Priority.EMERGENCY.value)
        .order_by(Bulletin.updated_at.desc(), Bulletin.id.desc()).limit(limit)
    ))


def _bulletin(session: Session, code: str | None) -> Bulletin:
    bulletin = session.scalar(select(Bulletin).options(selectinload(Bulletin.audio))
                              .where(Bulletin.code == (code or "")))
    if bulletin is None or bulletin.priority != Priority.EMERGENCY.value:
        named = f"«{code}» không phải bản tin mức Khẩn cấp. " if code else ""
        raise OrderInvalid({"bulletin_id": f"{named}Hãy chọn một bản tin mức Khẩn cấp đã duyệt, đã có âm thanh."})
    if bulletin.status != BulletinStatus.APPROVED.value or bulletin.audio is None:
        raise OrderInvalid({"bulletin_id": f"Bản tin «{bulletin.code}» chưa được duyệt hoặc chưa có âm thanh."})
    return bulletin


def prepare(session: Session, order: Order, media_dir: Path, audio: AudioSettings, now: datetime,
            user: User | None = None) -> Prepared:
    """Check the order (targets inside `user`'s scope) and make its sound now; OrderInvalid lists every bad field."""
    errors: dict[str, str] = {}
    stations: list[Station] = []
    plays: list[datetime] = []
    try:
        stations = target_stations(session, order.targets)
        check_scope(user, stations)
    except ValueError as exc:
        errors["targets"] = str(exc)
    try:
        plays = plays_for(now, order.rule)
    except ValueError as exc:
        errors["repeat"] = str(exc)
    try:
        check_expiry(order.expires_minutes)
    except ValueError as exc:
        errors["expires"] = str(exc)
    title = order.title.strip()
    if order.source == WORDS:
        title = title or compose.default_title(order.text)
        try:
            compose.check_words(session, title, order.text, now.date())
        except BulletinInvalid as exc:
            errors.update({k: v for k, v in exc.errors.items() if k in ("title", "text")})
    elif order.source == RECORDING:
        title = title or "Thông báo khẩn cấp"
        if not order.recording_file:
            errors["recording"] = "Chưa có tệp ghi âm. Hãy chọn tệp rồi gửi lại."
    if errors:
        raise OrderInvalid(errors)
    bulletin = None
    try:
        if order.source == BULLETIN:
            bulletin = _bulletin(session, order.bulletin_code)
            assert bulletin.audio is not None
            return Prepared(order, bulletin.title, "", bulletin.audio.sha256, bulletin.audio.duration_ms,
                            bulletin.audio.engine, stations, plays, bulletin)
        if order.source == RECORDING:
            assert order.recording_file is not None
            composed = compose.render_recording(media_dir / order.recording_file, title, media_dir, audio)
        else:
            composed = compose.render_words(order.text, title, media_dir, audio, load_lexicon(session), order.engine)
    except AudioError as exc:
        raise OrderInvalid({"recording" if order.source == RECORDING else "text": str(exc)}) from None
    rendered = composed.rendered
    if order.rule.every_minutes is not None and order.rule.every_minutes * 60_000 < rendered.duration_ms:
        raise OrderInvalid({"repeat": f"Khoảng lặp {order.rule.every_minutes} phút ngắn hơn thời lượng bản tin "
                                      f"({rendered.duration_ms // 1000} giây): chọn khoảng lặp dài hơn."})
    return Prepared(order, title, composed.spoken, rendered.sha256, rendered.duration_ms, rendered.engine,
                    stations, plays, composed=composed)


def launch(session: Session, prepared: Prepared, user: User | None, now: datetime, origin: str = "web") -> Emergency:
    """Store the confirmed order: started now by an approver or admin, else waiting for one."""
    order = prepared.order
    starting = may_start(user)
    bulletin = prepared.bulletin
    if bulletin is None:
        assert prepared.composed is not None
        bulletin = compose.emergency_bulletin(session, prepared.title, order.text, prepared.composed, user, now,
                                              approved=starting, recording_file=order.recording_file)
    kwargs: dict[str, Any] = {"full_volume": order.full_volume, "expires_minutes": order.expires_minutes,
                              "origin": origin}
    if starting:
        return start_emergency(session, bulletin, order.targets, order.rule, user, now, **kwargs)
    return request_emergency(session, bulletin, order.targets, order.rule, user, now, **kwargs)
