"""Turn bulletins into broadcast-ready audio assets.

The background service renders every submitted or approved bulletin (`render_pending`). A person
may not wait for it: `render_for_broadcast` does the same for one bulletin at once, and
`listen_preview` lets an editor hear a draft through the offline engine (a few seconds, no network)
without making that sound the one that airs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audio.errors import AudioError
from audio.pipeline import RenderedAudio, ingest_recording, render_speech
from audio.settings import AudioSettings
from scheduler import access
from scheduler.db.models import (
    AudioAsset,
    Bulletin,
    Emergency,
    LexiconEntry,
    Programme,
    ProgrammeItem,
    Station,
    User,
)
from scheduler.db.session import transaction
from scheduler.domain import BulletinStatus

RENDERABLE = (BulletinStatus.APPROVED.value, BulletinStatus.SUBMITTED.value)
OFFLINE_ENGINES = ("espeak",)  # always installed (espeakng-loader), needs no network


@dataclass
class RenderSummary:
    rendered: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, list[str]] = field(default_factory=dict)


def load_lexicon(session: Session) -> Any:
    """The built-in lexicon with the editors' entries laid over it."""
    from audio.text import Lexicon

    extra = {e.abbreviation: e.expansion for e in session.scalars(select(LexiconEntry))}
    return Lexicon.default().with_entries(extra)


def render_one(bulletin: Bulletin, media_dir: Path, settings: AudioSettings, lexicon: Any) -> RenderedAudio:
    if bulletin.recording_file:
        return ingest_recording(media_dir / bulletin.recording_file, title=bulletin.title, media_dir=media_dir,
                                settings=settings)
    return render_speech(bulletin.text, language=bulletin.language, title=bulletin.title, media_dir=media_dir,
                         settings=settings, lexicon=lexicon)


def store_asset(session: Session, rendered: RenderedAudio, now: datetime) -> AudioAsset:
    asset = session.scalar(select(AudioAsset).where(AudioAsset.sha256 == rendered.sha256))
    if asset is None:
        asset = AudioAsset(
            sha256=rendered.sha256,
            cache_key=rendered.cache_key,
            file_name=rendered.file_name,
            duration_ms=rendered.duration_ms,
            loudness_lufs=rendered.loudness_lufs,
            true_peak_dbtp=rendered.true_peak_dbtp,
            engine=rendered.engine,
            voice=rendered.voice,
            warnings=list(rendered.warnings),
            created_at=now,
        )
        session.add(asset)
        session.flush()
    return asset


def render_pending(
    sessions: sessionmaker[Session],
    media_dir: Path,
    settings: AudioSettings,
    clock: Callable[[], datetime],
    show: Callable[[Iterable[int], int], Iterator[int]] | None = None,
) -> RenderSummary:
    """Render every approved or submitted bulletin that has no audio yet; failures are recorded, not raised."""
    with sessions() as session:
        ids = list(session.scalars(
            select(Bulletin.id).where(Bulletin.status.in_(RENDERABLE), Bulletin.audio_asset_id.is_(None))
            .order_by(Bulletin.id)
        ))
        lexicon = load_lexicon(session)
    summary = RenderSummary()
    for bulletin_id in (show(ids, len(ids)) if show else ids):
        with sessions() as session:
            bulletin = session.get(Bulletin, bulletin_id)
            assert bulletin is not None
            code = bulletin.code
            try:
                rendered = render_one(bulletin, media_dir, settings, lexicon)
                error = None
            except AudioError as exc:
                rendered, error = None, str(exc)
        with transaction(sessions) as session:
            bulletin = session.get(Bulletin, bulletin_id)
            if bulletin is None:
                continue
            if rendered is None:
                bulletin.render_error = error
                summary.failed[code] = error or ""
                continue
            bulletin.audio = store_asset(session, rendered, clock())
            bulletin.render_error = None
            summary.rendered.append(code)
            if rendered.warnings:
                summary.warnings[code] = list(rendered.warnings)
    return summary


def render_for_broadcast(session: Session, bulletin: Bulletin, media_dir: Path, settings: AudioSettings,
                         now: datetime) -> AudioAsset:
    """What `render_pending` does for one submitted or approved bulletin, now, in the caller's transaction.
    Raises AudioError (a Vietnamese message) and records it on the bulletin as the service would."""
    if bulletin.audio is not None:
        return bulletin.audio
    try:
        rendered = render_one(bulletin, media_dir, settings, load_lexicon(session))
    except AudioError as exc:
        bulletin.render_error = str(exc)
        raise
    bulletin.audio = store_asset(session, rendered, now)
    bulletin.render_error = None
    return bulletin.audio


def listen_preview(session: Session, text: str, language: str, title: str, recording_file: str | None,
                   media_dir: Path, settings: AudioSettings, now: datetime) -> AudioAsset:
    """Sound for a person to hear before submitting: the recording, or the text through the offline engine.

    The asset is stored (content-addressed, so asking again is instant) but attached to no bulletin: the
    sound that airs is rendered with the configured engines once the bulletin is submitted."""
    if recording_file:
        rendered = ingest_recording(media_dir / recording_file, title=title, media_dir=media_dir, settings=settings)
    else:
        rendered = render_speech(text, language=language, title=title, media_dir=media_dir,
                                 settings=replace(settings, engines=OFFLINE_ENGINES), lexicon=load_lexicon(session))
    return store_asset(session, rendered, now)


def audio_in_scope(session: Session, user: User | None, sha256: str) -> bool:
    """May `user` hear this asset at /am-thanh? A scoped account (an operator, a commune editor) hears
    only audio used by something inside its scope (scheduler.access): a programme item of one of its
    stations, a bulletin it may see, an emergency aimed inside it — or audio nothing uses yet (a preview
    it just rendered, known only by its hash). Elsewhere the answer is no, so pages say 404."""
    from scheduler.emergencies.tracking import aimed_within  # emergencies import this module

    if access.scope_of(user).everywhere:
        return True
    asset_id = session.scalar(select(AudioAsset.id).where(AudioAsset.sha256 == sha256))
    items = (select(ProgrammeItem.id).join(Programme, ProgrammeItem.programme_id == Programme.id)
             .join(Station, Programme.station_id == Station.id).where(ProgrammeItem.audio_sha256 == sha256))
    if session.scalar(items.where(access.station_clause(user)).limit(1)) is not None:
        return True
    bulletins = list(session.scalars(select(Bulletin).where(Bulletin.audio_asset_id == asset_id))) if asset_id else []
    if any(access.in_scope(user, b) for b in bulletins):
        return True
    emergencies = select(Emergency.id).where(Emergency.bulletin_id.in_([b.id for b in bulletins]))
    if bulletins and session.scalar(emergencies.where(aimed_within(user)).limit(1)) is not None:
        return True
    return not bulletins and session.scalar(items.limit(1)) is None
