"""Tools for a commune operator who plays the programme by hand from a PC (no agent).

Today's or the week's playlist as M3U, a ZIP with the audio, one ready-to-play MP3 per session
(items stitched in order with the scheduled gaps), and "đã phát" confirmations that land in the
play log with source "manual". The admin pages call these; signatures in docs/station-api.md.
"""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from audio.ffmpeg import decode_to_pcm, pcm_input_args, run_ffmpeg
from scheduler import audit
from scheduler.access import describe, in_scope
from scheduler.db.models import AudioAsset, Commune, Programme, ProgrammeItem, Station, User
from scheduler.delivery.mqtt_topics import slugify
from scheduler.domain import DEFAULT_TZ
from scheduler.playlog import IngestResult, ingest
from scheduler.settings import Settings

SESSION_BREAK = timedelta(minutes=10)  # items further apart than this belong to different sessions
MAX_GAP = timedelta(seconds=10)  # silence kept between two items in a stitched session
SAMPLE_RATE = 24000


def _station(session: Session, code: str) -> Station:
    station = session.scalar(
        select(Station).options(selectinload(Station.commune).selectinload(Commune.province))
        .where(Station.code == code)
    )
    if station is None:
        raise LookupError(f"Không có đài mã «{code}».")
    return station


def _tz(station: Station, settings: Settings) -> ZoneInfo:
    return ZoneInfo(station.commune.province.timezone or settings.timezone)


def day_items(session: Session, station_code: str, day: date, settings: Settings) -> list[ProgrammeItem]:
    """The station's items starting on local `day`, in order."""
    station = _station(session, station_code)
    tz = _tz(station, settings)
    start = datetime.combine(day, time(0), tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(UTC)
    return list(session.scalars(
        select(ProgrammeItem).join(Programme)
        .where(Programme.station_id == station.id, ProgrammeItem.start >= start, ProgrammeItem.start < end)
        .order_by(ProgrammeItem.start, ProgrammeItem.id)
    ))


def sessions_of(items: Sequence[ProgrammeItem]) -> list[list[ProgrammeItem]]:
    """Split a day's items into broadcast sessions (morning, afternoon…) at gaps over SESSION_BREAK."""
    groups: list[list[ProgrammeItem]] = []
    for item in items:
        if groups and item.start - groups[-1][-1].end <= SESSION_BREAK:
            groups[-1].append(item)
        else:
            groups.append([item])
    return groups


def _assets(session: Session, items: Sequence[ProgrammeItem]) -> dict[str, AudioAsset]:
    shas = {i.audio_sha256 for i in items if i.audio_sha256}
    if not shas:
        return {}
    return {a.sha256: a for a in session.scalars(select(AudioAsset).where(AudioAsset.sha256.in_(shas)))}


def audio_name(item: ProgrammeItem) -> str:
    """A readable, stable file name for an item's audio, e.g. `tuyen-truyen-cchc-3f9a1c2b.mp3`."""
    assert item.audio_sha256 is not None
    return f"{slugify(item.title or item.kind)[:60]}-{item.audio_sha256[:8]}.mp3"


def m3u_for_day(session: Session, station_code: str, day: date, settings: Settings,
                prefix: str = "audio/", link: Callable[[ProgrammeItem], str] | None = None) -> str:
    """An extended M3U playlist of the day; audio entries are `link(item)` (default `prefix + audio_name`),
    relays their stream URL."""
    station = _station(session, station_code)
    tz = _tz(station, settings)
    lines = ["#EXTM3U", f"#PLAYLIST:{station.name} — {day.strftime('%d/%m/%Y')}"]
    for n, group in enumerate(sessions_of(day_items(session, station_code, day, settings)), 1):
        lines.append(f"# Buổi {n}: {group[0].start.astimezone(tz):%H:%M} – {group[-1].end.astimezone(tz):%H:%M}")
        for item in group:
            seconds = (item.duration_ms or int((item.end - item.start).total_seconds() * 1000)) // 1000
            label = f"{item.start.astimezone(tz):%H:%M} {item.title or item.kind}"
            if item.audio_sha256:
                lines += [f"#EXTINF:{seconds},{label}", link(item) if link else prefix + audio_name(item)]
            elif item.stream_url:
                lines += [f"#EXTINF:-1,{label} (tiếp sóng)", item.stream_url]
    return "\n".join(lines) + "\n"


def audio_zip(session: Session, station_code: str, days: Sequence[date], settings: Settings,
              out: BinaryIO) -> int:
    """Write a ZIP with one M3U per day and each audio file once under audio/; return the file count."""
    written: set[str] = set()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for day in days:
            items = day_items(session, station_code, day, settings)
            archive.writestr(f"{day.isoformat()}.m3u", m3u_for_day(session, station_code, day, settings))
            assets = _assets(session, items)
            for item in items:
                if not item.audio_sha256 or audio_name(item) in written:
                    continue
                asset = assets.get(item.audio_sha256)
                path = settings.media_dir / asset.file_name if asset else None
                if path is None or not path.is_file():
                    raise FileNotFoundError(
                        f"Thiếu tệp âm thanh của «{item.title}» (sha256 {item.audio_sha256[:12]}…) trên máy chủ. "
                        "Báo quản trị viên tạo lại âm thanh rồi tải lại."
                    )
                archive.write(path, f"audio/{audio_name(item)}")
                written.add(audio_name(item))
    return len(written)


@dataclass(frozen=True)
class SessionAudio:
    path: Path
    duration_ms: int
    items: int
    relays: list[str]  # relays left out (played live from their stream): "HH:MM title"


def session_mp3(session: Session, station_code: str, day: date, index: int, settings: Settings,
                out_path: Path) -> SessionAudio:
    """Stitch session `index` (1 = first of the day) into one MP3: items in order, scheduled gaps up to 10 s."""
    station = _station(session, station_code)
    tz = _tz(station, settings)
    groups = sessions_of(day_items(session, station_code, day, settings))
    if not 1 <= index <= len(groups):
        raise LookupError(f"Ngày {day.strftime('%d/%m/%Y')} đài {station_code} có {len(groups)} buổi phát; "
                          f"không có buổi thứ {index}.")
    group = groups[index - 1]
    assets = _assets(session, group)
    relays = [f"{i.start.astimezone(tz):%H:%M} {i.title}" for i in group if not i.audio_sha256]
    playable = [i for i in group if i.audio_sha256]
    if not playable:
        raise LookupError("Buổi phát này chỉ có tiếp sóng, không có tệp âm thanh để ghép.")
    bytes_per_ms = SAMPLE_RATE * 2 // 1000
    total_ms = 0
    with tempfile.TemporaryDirectory(prefix="loaxa-session-") as tmp:
        raw = Path(tmp) / "session.raw"
        with open(raw, "wb") as fh:
            previous_end: datetime | None = None
            for item in playable:
                if previous_end is not None:
                    gap = min(max(item.start - previous_end, timedelta(0)), MAX_GAP)
                    gap_ms = int(gap.total_seconds() * 1000)
                    fh.write(b"\0" * gap_ms * bytes_per_ms)
                    total_ms += gap_ms
                assert item.audio_sha256 is not None
                asset = assets.get(item.audio_sha256)
                if asset is None or not (settings.media_dir / asset.file_name).is_file():
                    raise FileNotFoundError(f"Thiếu tệp âm thanh của «{item.title}» trên máy chủ.")
                pcm = decode_to_pcm(settings.media_dir / asset.file_name, sample_rate=SAMPLE_RATE)
                fh.write(pcm)
                total_ms += len(pcm) // bytes_per_ms
                previous_end = item.start + timedelta(milliseconds=item.duration_ms or len(pcm) // bytes_per_ms)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        partial = out_path.with_name(out_path.name + ".part")
        run_ffmpeg(["-v", "error", "-y", *pcm_input_args(SAMPLE_RATE)[:-2], "-i", str(raw),
                    "-c:a", "libmp3lame", "-b:a", settings.audio.bitrate, "-f", "mp3", str(partial)])
        partial.replace(out_path)
    return SessionAudio(out_path, total_ms, len(playable), relays)


def manual_play_id(station: Station, item: ProgrammeItem) -> str:
    """Stable per station and scheduled item, so confirming twice stores one row.

    "Đã phát" and "không phát được" share it: the operator's first answer about an item is the one kept.
    """
    basis = f"{station.code}|{item.start.isoformat()}|{item.audio_sha256 or item.stream_url or item.kind}"
    return "manual-" + hashlib.sha256(basis.encode()).hexdigest()[:32]


# Why an item could not be played by hand: the short list the page offers (key -> label).
MISSED_REASONS: dict[str, str] = {
    "mat-dien": "Mất điện",
    "hong-thiet-bi": "Hỏng thiết bị",
    "mat-mang": "Mất mạng",
    "khac": "Khác",
}
REASON_MAX = 300


def missed_reason(choice: str, detail: str = "") -> str:
    """The reason to store: a listed cause (by key or label), or «Khác: …» with the operator's own words.

    Words that name no listed cause count as «khác» with those words; «khác» alone is refused.
    """
    picked, detail = choice.strip(), " ".join(detail.split())
    key = next((k for k, label in MISSED_REASONS.items() if picked.casefold() in (k, label.casefold())), None)
    if key is None and picked:
        key, detail = "khac", " ".join(f"{picked} {detail}".split())
    if key is None:
        raise ValueError("Hãy chọn lý do không phát được: " + ", ".join(MISSED_REASONS.values()).lower() + ".")
    if key == "khac":
        if not detail:
            raise ValueError("Lý do «khác»: hãy ghi rõ vì sao không phát được.")
        return f"Khác: {detail}"[:REASON_MAX]
    label = MISSED_REASONS[key]
    return (f"{label}: {detail}" if detail else label)[:REASON_MAX]


def _manual_item(session: Session, station: Station, item_id: int, user: User | None, now: datetime,
                 verb: str) -> ProgrammeItem:
    """The item an operator answers for, after the scope check (scheduler.access) and the clock check."""
    if user is not None and not in_scope(user, station):
        raise PermissionError(f"Tài khoản «{user.username}» không được {verb} cho đài {station.code}: "
                              f"đài này nằm ngoài phạm vi {describe(user)}.")
    item = session.get(ProgrammeItem, item_id)
    if item is None or item.programme.station_id != station.id:
        raise LookupError(f"Mục số {item_id} không có trong lịch phát của đài {station.code}.")
    if now < item.start:
        tz = ZoneInfo(station.commune.province.timezone or DEFAULT_TZ)
        begins = item.start.astimezone(tz)
        raise ValueError(f"Mục «{item.title or item.kind}» bắt đầu lúc {begins:%H:%M ngày %d/%m/%Y}: "
                         f"chưa đến giờ phát nên chưa {verb} được.")
    return item


def confirm_played(session: Session, station_code: str, item_id: int, user: User | None, now: datetime,
                   result: str = "played", note: str = "") -> IngestResult:
    """The operator confirms an item "đã phát": a play-log row with source manual (idempotent).

    Only for stations inside the user's scope (PermissionError otherwise) and items already begun.
    """
    station = _station(session, station_code)
    verb = "xác nhận đã phát" if result == "played" else "báo không phát được"
    item = _manual_item(session, station, item_id, user, now, verb)
    who = user.username if user else "vận hành xã"
    row = {
        "play_id": manual_play_id(station, item),
        "item_id": item.id,
        "result": result,
        "actual_start": item.start.isoformat(),
        "actual_end": item.end.isoformat(),
        "played_ms": item.duration_ms if result == "played" else 0,
        "reason": note or f"Xác nhận đã phát bởi {who}.",
    }
    outcome = ingest(session, station, [row], now, source="manual")
    if outcome.stored:
        action = "playlog.confirm" if result == "played" else "playlog.missed"
        audit.record(session, now, user, action, "programme_item", item.id,
                     after={"station": station_code, "result": result, "title": item.title, "reason": row["reason"]})
    return outcome


def mark_missed(session: Session, station_code: str, item_id: int, user: User | None, now: datetime,
                reason: str) -> IngestResult:
    """The operator reports "không phát được" with a reason (see missed_reason): reports count it as missed."""
    return confirm_played(session, station_code, item_id, user, now, result="skipped", note=reason)
