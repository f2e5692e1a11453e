"""A live broadcast's life: start (scope-checked targets), feed, announce once on air, stop, sweep.

Stations are told through the emergencies' play-now path (scheduler.delivery.commands over MQTT, and
the HTTP status answer), with `Command.live` set: the agent pre-empts its programme as for an
emergency, but logs the play as kind `live`, priority `truc_tiep`, and an emergency still pre-empts it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler import access, audit
from scheduler.db.models import Commune, LiveBroadcast, Station, User
from scheduler.delivery.commands import send_commands
from scheduler.emergencies.targets import target_stations
from scheduler.live.feeder import FeederError, LiveFeeder, listen_url, mount_on_air
from scheduler.settings import Settings
from scheduler.wire import Command

log = logging.getLogger("loaxa.live")

ON_AIR, ENDED = "dang_phat", "da_ket_thuc"
STATE_LABELS = {ON_AIR: "Đang phát", ENDED: "Đã kết thúc"}
LIVE_MAX = timedelta(hours=2)  # the stations stop by themselves after this, whatever happens
QUIET_END = 30.0  # seconds without audio from the browser: the speaker has gone, end the broadcast
STOP_TOLD = timedelta(minutes=10)  # how long the HTTP status answer keeps telling a station to stop
MAX_CHUNK_BYTES = 1024 * 1024

# The ffmpeg of each broadcast this process started (docs/live.md: one process serves /truc-tiep).
_feeders: dict[int, LiveFeeder] = {}


class LiveError(ValueError):
    """A live broadcast cannot start or go on (Vietnamese message for the speaker)."""


@dataclass(frozen=True)
class Fed:
    on_air: bool  # the stations have been told (the mount is live)
    received: int


def _stations(session: Session, codes: list[str]) -> list[Station]:
    return list(session.scalars(select(Station).options(selectinload(Station.commune).selectinload(Commune.province))
                                .where(Station.code.in_(codes))))


def on_air(session: Session) -> list[LiveBroadcast]:
    return list(session.scalars(select(LiveBroadcast).where(LiveBroadcast.state == ON_AIR).order_by(LiveBroadcast.id)))


def start_live(session: Session, settings: Settings, user: User | None, targets: list[str], title: str,
               now: datetime) -> LiveBroadcast:
    """Check the targets against the user's scope, open the mount's ffmpeg, record who started it.
    The stations are told once the first audio is on air (feed). LiveError (Vietnamese) otherwise."""
    if not settings.icecast_url:
        raise LiveError("Máy chủ chưa cấu hình phát trực tiếp (biến LOAXA_ICECAST_URL, xem docs/live.md). "
                        "Hãy báo quản trị viên.")
    title = " ".join(title.split())[:300] or "Phát trực tiếp"
    try:
        stations = target_stations(session, targets)
    except ValueError as exc:
        raise LiveError(str(exc)) from None
    beyond = access.outside(session, user, targets)
    if beyond:
        raise LiveError(f"Bạn không được phát tới «{', '.join(beyond)}»: nằm ngoài phạm vi "
                        f"{access.describe(user)} của bạn.")
    codes = [s.code for s in stations]
    busy = sorted({c for b in on_air(session) for c in b.stations if c in codes})
    if busy:
        raise LiveError(f"Đài {', '.join(busy)} đang phát trực tiếp một buổi khác. Hãy đợi buổi đó kết thúc.")
    row = LiveBroadcast(title=title, targets=list(targets), stations=codes, mount="", stream_url="", state=ON_AIR,
                        started_by=user, started_at=now, end_reason="", received_bytes=0)
    session.add(row)
    session.flush()
    row.mount = f"/loaxa-truc-tiep-{row.id}.mp3"
    row.stream_url = listen_url(settings.icecast_url, settings.icecast_public_url, row.mount)
    row.recording_file = f"live/truc-tiep-{row.id}.mp3"
    try:
        _feeders[row.id] = LiveFeeder(settings.icecast_url, row.mount, settings.media_dir / row.recording_file, title)
    except FeederError as exc:
        raise LiveError(str(exc)) from None
    audit.record(session, now, user, "live.start", "live_broadcast", row.id,
                 after={"title": title, "stations": codes})
    return row


def play_command(row: LiveBroadcast) -> Command:
    """Play the mount now, at live priority, until stopped (or LIVE_MAX). One id whichever way it travels."""
    return Command(kind="play", id=f"live-{row.id}", sent_at=row.started_at.isoformat(),
                   expires_at=(row.started_at + LIVE_MAX).isoformat(), stream_url=row.stream_url,
                   duration_ms=int(LIVE_MAX.total_seconds() * 1000), title=row.title, live=row.id)


def stop_command(row: LiveBroadcast, now: datetime) -> Command:
    return Command.make("stop", now, STOP_TOLD, id=f"live-{row.id}-stop", live=row.id, title=row.title)


def feed(session: Session, settings: Settings, row: LiveBroadcast, seq: int, data: bytes, now: datetime) -> Fed:
    """One chunk of the browser's recording; once the mount is on air, tell the stations (MQTT) at once."""
    if row.state != ON_AIR:
        raise LiveError("Buổi phát trực tiếp này đã kết thúc.")
    if len(data) > MAX_CHUNK_BYTES:
        raise LiveError(f"Đoạn âm thanh quá lớn ({len(data) // 1024} KB); tối đa {MAX_CHUNK_BYTES // 1024} KB.")
    feeder = _feeders.get(row.id)
    if feeder is None or not feeder.alive():
        reason = "Máy chủ không còn nhận âm thanh của buổi này" + (f" ({feeder.error()})" if feeder else "")
        stop_live(session, settings, row, now, reason)
        raise LiveError(reason + ". Hãy bắt đầu lại.")
    try:
        feeder.write(seq, data)
    except FeederError as exc:
        stop_live(session, settings, row, now, str(exc))
        raise LiveError(str(exc)) from None
    row.received_bytes, row.last_chunk_at = feeder.received, now
    if row.announced_at is None and settings.icecast_url and mount_on_air(settings.icecast_url, row.mount):
        row.announced_at = now
        confirmed = send_commands(_stations(session, row.stations), play_command(row), settings)
        log.info("Phát trực tiếp %s: đã báo %d/%d đài qua MQTT.", row.id, sum(confirmed.values()), len(row.stations))
    return Fed(on_air=row.announced_at is not None, received=row.received_bytes)


def stop_live(session: Session, settings: Settings, row: LiveBroadcast, now: datetime, reason: str,
              user: User | None = None) -> None:
    """End it: stop the stations (MQTT now, HTTP on their next contact), close ffmpeg, keep the recording."""
    if row.state != ON_AIR:
        return
    row.state, row.ended_at, row.end_reason = ENDED, now, reason[:300]
    if row.announced_at is not None:
        send_commands(_stations(session, row.stations), stop_command(row, now), settings)
    feeder = _feeders.pop(row.id, None)
    if feeder is not None:
        feeder.close()
    recording = settings.media_dir / row.recording_file if row.recording_file else None
    if recording is None or not recording.is_file() or recording.stat().st_size == 0:
        row.recording_file = None
    audit.record(session, now, user, "live.stop", "live_broadcast", row.id, after={"reason": reason[:300]})


def sweep(session: Session, settings: Settings, now: datetime) -> int:
    """End broadcasts whose speaker went quiet (browser closed, server restarted), whose ffmpeg is gone,
    or that ran too long; close this process's ffmpeg of broadcasts ended elsewhere. Any process may call it."""
    ended = 0
    rows = on_air(session)
    for row in rows:
        feeder = _feeders.get(row.id)
        reason = ""
        if now - row.started_at >= LIVE_MAX:
            reason = f"Quá thời lượng tối đa {int(LIVE_MAX.total_seconds() // 3600)} giờ."
        elif now - (row.last_chunk_at or row.started_at) >= timedelta(seconds=QUIET_END):
            reason = f"Không nhận được âm thanh từ trình duyệt trong {int(QUIET_END)} giây (mất mạng hoặc đóng trang)."
        elif feeder is not None and not feeder.alive():
            reason = f"ffmpeg dừng: {feeder.error() or 'không rõ lý do'}."
        if reason:
            stop_live(session, settings, row, now, reason)
            ended += 1
    for orphan in set(_feeders) - {r.id for r in rows if r.state == ON_AIR}:
        _feeders.pop(orphan).close()
    return ended


def station_commands(session: Session, station: Station, now: datetime) -> list[Command]:
    """What a station learns on an HTTP contact: play the live broadcasts on air for it, stop recent ones."""
    rows = session.scalars(select(LiveBroadcast).where(
        (LiveBroadcast.state == ON_AIR) | (LiveBroadcast.ended_at >= now - STOP_TOLD))).all()
    commands = []
    for row in rows:
        if station.code not in row.stations or row.announced_at is None:
            continue
        commands.append(play_command(row) if row.state == ON_AIR else stop_command(row, row.ended_at or now))
    return commands


def visible(session: Session, user: User | None, limit: int = 20) -> list[LiveBroadcast]:
    """Recent broadcasts reaching into the user's scope, newest first."""
    rows = session.scalars(select(LiveBroadcast).order_by(LiveBroadcast.id.desc()).limit(200)).all()
    inside = access.places(session, user)
    return [r for r in rows if access.reaches(session, user, r.stations, inside)][:limit]


@dataclass(frozen=True)
class GridEntry:
    """A live broadcast as the programme grid shows it, beside the planned items (read-only: it is not
    one of them and the planner never moves it)."""

    start: datetime
    duration_ms: int
    title: str
    state: str
    kind: str = "live"
    priority: str = "truc_tiep"
    language: str = "vi"
    bulletin_code: str | None = None
    locked: bool = False
    id: None = None


def grid_entries(session: Session, codes: list[str], start: datetime, end: datetime,
                 now: datetime) -> dict[str, list[GridEntry]]:
    """Station code -> the live broadcasts it was sent that began in [start, end)."""
    rows = session.scalars(select(LiveBroadcast).where(LiveBroadcast.started_at >= start,
                                                       LiveBroadcast.started_at < end)
                           .order_by(LiveBroadcast.started_at)).all()
    found: dict[str, list[GridEntry]] = {}
    for row in rows:
        ms = int(((row.ended_at or now) - row.started_at).total_seconds() * 1000)
        entry = GridEntry(row.started_at, max(ms, 0), row.title, row.state)
        for code in row.stations:
            if code in codes:
                found.setdefault(code, []).append(entry)
    return found
