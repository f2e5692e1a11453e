"""Words (or a recording) into a khẩn cấp bulletin with broadcast-ready audio, rendered at once.

The offline engine (espeak-ng) always answers; an online engine configured before it is tried only
within ONLINE_BUDGET_S, so a slow network never holds a warning back. Each render uses exactly one
engine, so the confirmation step and the start step produce the same file (the second is a cache
hit): what the person heard is what airs.
"""

from __future__ import annotations

import concurrent.futures
import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audio.errors import AudioError
from audio.pipeline import RenderedAudio, ingest_recording, render_speech
from audio.settings import AudioSettings
from audio.synthesis import prepare_text
from scheduler import audit
from scheduler.bulletins import BulletinDraft, validate
from scheduler.db.models import Bulletin, User
from scheduler.domain import DEFAULT_TZ, BulletinStatus, Priority
from scheduler.rendering import store_asset

OFFLINE_ENGINE = "espeak"
ONLINE_BUDGET_S = 4.0
TITLE_WORDS = 12
_EXECUTOR = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="loaxa-emergency-tts")


@dataclass(frozen=True)
class Composed:
    """The sound that will air and, for typed words, how the engine reads them."""

    rendered: RenderedAudio
    spoken: str  # the normalizer's output ("" for a recording)


def default_title(text: str) -> str:
    """The first words of the warning, for a person who typed no title."""
    words = re.sub(r"\s+", " ", text).strip().split(" ")
    title = " ".join(words[:TITLE_WORDS])
    return (title + "…") if len(words) > TITLE_WORDS else title


def check_words(session: Session, title: str, text: str, today: date) -> None:
    """The bulletin rules for title and text (scheduler.bulletins.validate): BulletinInvalid per field."""
    validate(session, BulletinDraft(title=title, text=text, topic="khan_cap", language="vi",
                                    priority=Priority.EMERGENCY.value, valid_from=today, valid_to=today,
                                    plays_per_week=0, targets=["*"]))


def online_engines(settings: AudioSettings) -> list[str]:
    return [name for name in settings.engines if name != OFFLINE_ENGINE]


def render_words(text: str, title: str, media_dir: Path, settings: AudioSettings, lexicon: Any,
                 engine: str | None = None) -> Composed:
    """Speak `text` now. With `engine` given, use exactly that one (the start step repeats the
    confirmation's render); otherwise the first online engine if it finishes within the budget,
    else the offline one. AudioError (Vietnamese) if nothing can speak it."""
    spoken = prepare_text(text, "vi", settings, lexicon)
    if engine is not None:
        if engine not in (*settings.engines, OFFLINE_ENGINE):
            raise AudioError(f"Bộ đọc «{engine}» không có trong cấu hình.")
        return Composed(_render(text, title, media_dir, settings, lexicon, engine), spoken)
    for name in online_engines(settings)[:1]:
        future = _EXECUTOR.submit(_render, text, title, media_dir, settings, lexicon, name)
        try:
            return Composed(future.result(timeout=ONLINE_BUDGET_S), spoken)
        except (concurrent.futures.TimeoutError, AudioError):
            pass  # the offline engine below; a late online render only warms the cache
    return Composed(_render(text, title, media_dir, settings, lexicon, OFFLINE_ENGINE), spoken)


def _render(text: str, title: str, media_dir: Path, settings: AudioSettings, lexicon: Any,
            engine: str) -> RenderedAudio:
    one = replace(settings, engines=(engine,))
    if engine != OFFLINE_ENGINE:
        one = replace(one, http_timeout_s=min(settings.http_timeout_s, ONLINE_BUDGET_S))
    return render_speech(text, language="vi", title=title, media_dir=media_dir, settings=one, lexicon=lexicon)


def render_recording(recording: Path, title: str, media_dir: Path, settings: AudioSettings) -> Composed:
    """Master an uploaded recording (RecordingRejected says what is wrong with it)."""
    return Composed(ingest_recording(recording, title=title, media_dir=media_dir, settings=settings), "")


def next_code(session: Session, now: datetime) -> str:
    """KC-261123-004: the local date and a counter."""
    prefix = f"KC-{now.astimezone(ZoneInfo(DEFAULT_TZ)):%y%m%d}-"
    n = (session.scalar(select(func.count()).where(Bulletin.code.like(prefix + "%"))) or 0) + 1
    while session.scalar(select(Bulletin.id).where(Bulletin.code == f"{prefix}{n:03d}")) is not None:
        n += 1
    return f"{prefix}{n:03d}"


def emergency_bulletin(session: Session, title: str, text: str, composed: Composed, user: User | None,
                       now: datetime, *, approved: bool, recording_file: str | None = None) -> Bulletin:
    """Store the words as a khẩn cấp bulletin with its audio: approved by `user` when they start it,
    submitted when it waits for an approver. Emergency bulletins never enter the weekly planner."""
    today = now.astimezone(ZoneInfo(DEFAULT_TZ)).date()
    if not recording_file:
        check_words(session, title, text, today)
    bulletin = Bulletin(
        code=next_code(session, now), title=title.strip(), text=text.strip(), recording_file=recording_file,
        topic="khan_cap", language="vi", priority=Priority.EMERGENCY.value,
        valid_from=today, valid_to=today, plays_per_week=0, targets=["*"],
        status=BulletinStatus.APPROVED.value if approved else BulletinStatus.SUBMITTED.value,
        author_id=user.id if user else None, approver_id=user.id if user and approved else None,
        approved_at=now if approved else None, review_comment="", created_at=now, updated_at=now,
        audio=store_asset(session, composed.rendered, now),
    )
    session.add(bulletin)
    session.flush()
    audit.record(session, now, user, "bulletin.create", "bulletin", bulletin.id, None,
                 {"code": bulletin.code, "title": bulletin.title, "text": bulletin.text, "priority": bulletin.priority,
                  "status": bulletin.status, "engine": composed.rendered.engine, "for": "emergency"})
    return bulletin
