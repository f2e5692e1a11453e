"""Shared set-up for the service tests: stations from CSV, bulletins with audio rows (no real audio)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

from sqlalchemy.orm import Session

from scheduler.db.models import AudioAsset, Bulletin

STATIONS = """code,name,commune,area,province,languages,windows,lat,lon,speakers
IAGRAI-01,Cụm loa thôn Plei Ơi,Ia Grai,,Gia Lai,vi,T2-CN 05:30-06:00; T2-CN 17:00-17:30,,,4
IAGRAI-02,Cụm loa làng Bàu,Ia Grai,,Gia Lai,vi,T2-CN 05:30-06:00; T2-CN 17:00-17:30,,,3
CHUPAH-01,Cụm loa trung tâm,Chư Păh,,Gia Lai,vi,T2-CN 05:30-06:00,,,2
"""


def add_bulletin(
    session: Session, code: str, title: str, now: datetime, *, status: str = "da_duyet", audio: bool = True,
    valid_to: date = date(2026, 12, 31), targets: tuple[str, ...] = ("*",), plays: int = 3,
) -> Bulletin:
    asset = None
    if audio:
        sha = hashlib.sha256(code.encode()).hexdigest()
        asset = AudioAsset(sha256=sha, file_name=f"audio/{sha}.mp3", duration_ms=120_000, engine="test",
                           created_at=now)
    bulletin = Bulletin(
        code=code, title=title, text=title, topic="tthc", status=status, valid_from=date(2026, 11, 1),
        valid_to=valid_to, plays_per_week=plays, targets=list(targets), audio=asset, created_at=now,
        updated_at=now,
    )
    session.add(bulletin)
    session.flush()
    return bulletin


