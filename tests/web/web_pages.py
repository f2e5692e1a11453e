"""Helpers for the admin page tests: accounts, seeded bulletins and audio, HTML text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.models import AudioAsset, Bulletin, User
from scheduler.db.session import transaction
from scheduler.domain import BulletinStatus

PASSWORD = "mat-khau-2026"
# username -> (role, commune name or None)
ACCOUNTS: dict[str, tuple[str, str | None]] = {
    "quantri": ("admin", None),
    "bientap": ("editor", None),
    "bientap2": ("editor", None),
    "duyet": ("approver", None),
    "duyet2": ("approver", None),
    "vanhanh": ("operator", "Xã Ia Dêr"),
    "vanhanh_cp": ("operator", "Xã Chư Pưh"),
    "xem": ("viewer", None),
}
STATIONS = {
    "IADER-01": ("Cụm loa thôn Plei Ia Dêr", "Xã Ia Dêr"),
    "IADER-02": ("Cụm loa làng Bông", "Xã Ia Dêr"),
    "CHUPUH-01": ("Cụm loa trung tâm Chư Pưh", "Xã Chư Pưh"),
}
# Seed 001: a real CCHC sentence.
SEED_TEXT = (
    "UBND tỉnh Gia Lai ban hành Kế hoạch số 1722/KH-UBND ngày 28/9/2021 về tuyên truyền CCHC "
    "giai đoạn 2021 - 2030; tỷ lệ hồ sơ giải quyết đúng hạn đạt 98,5%."
)


@dataclass
class World:
    """Ids of what was seeded."""

    users: dict[str, int]
    stations: dict[str, int]
    communes: dict[str, int]


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> None:
    response = client.post("/dang-nhap", data={"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def make_bulletin(
    sessions: sessionmaker[Session],
    now: datetime,
    author: str = "bientap",
    status: BulletinStatus = BulletinStatus.DRAFT,
    code: str = "BT-001",
    title: str = "Tuyên truyền cải cách hành chính",
    targets: tuple[str, ...] = ("*",),
    priority: str = "thuong",
    audio: AudioAsset | None = None,
    valid_from: date | None = None,
    plays_per_week: int = 3,
) -> int:
    """Store a bulletin directly (the workflow itself is tested through the pages)."""
    today = now.date()
    with transaction(sessions) as s:
        author_id = s.scalar(select(User.id).where(User.username == author))
        bulletin = Bulletin(
            code=code,
            title=title,
            text=SEED_TEXT,
            topic="tthc",
            language="vi",
            priority=priority,
            valid_from=valid_from or today,
            valid_to=(valid_from or today) + timedelta(days=30),
            plays_per_week=plays_per_week,
            targets=list(targets),
            status=status.value,
            author_id=author_id,
            created_at=now,
            updated_at=now,
            review_comment="",
        )
        if audio is not None:
            s.add(audio)
            s.flush()
            bulletin.audio_asset_id = audio.id
        s.add(bulletin)
        s.flush()
        return bulletin.id


def make_asset(media_dir: Path, now: datetime, sha: str = "a" * 64, duration_ms: int = 60_000) -> AudioAsset:
    """An audio asset row with a real (tiny) WAV file behind it."""
    name = f"audio/{sha}.wav"
    path = media_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(wav_bytes())
    return AudioAsset(
        sha256=sha, file_name=name, duration_ms=duration_ms, engine="espeak", voice="vi", warnings=[],
        created_at=now,
    )  # fmt: skip


def give_audio(sessions: sessionmaker[Session], bulletin_id: int, media_dir: Path, now: datetime,
               sha: str = "b" * 64) -> None:
    """Attach a (tiny, real) rendered sound to a bulletin, as the background render would: approvers
    may approve only what they can hear."""
    with transaction(sessions) as s:
        asset = make_asset(media_dir, now, sha=sha)
        s.add(asset)
        s.flush()
        bulletin = s.get(Bulletin, bulletin_id)
        assert bulletin is not None
        bulletin.audio_asset_id = asset.id


def wav_bytes(seconds: float = 0.2, rate: int = 8000) -> bytes:
    """A valid silent PCM WAV file."""
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * int(seconds * rate))
    return buffer.getvalue()


def text_of(html: str) -> str:
    """Visible text, tags dropped, whitespace collapsed (for asserting on messages)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()

