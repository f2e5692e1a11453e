"""A built week for the export tests: two stations (one with a VOV relay), bulletins, one emergency."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from scheduler.db.models import AudioAsset, Bulletin, Commune, Programme, Station
from scheduler.db.session import transaction
from scheduler.domain import IsoWeek
from scheduler.emergencies import RepeatRule, start_emergency
from scheduler.imports import import_stations
from scheduler.manifest import build_manifest
from scheduler.programmes import build_week
from scheduler.wire import Manifest

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WEEK = IsoWeek(2026, 48)
BASE_URL = "https://loaxa.gialai.example"
STATIONS = """code,name,commune,area,province,languages,windows,lat,lon,speakers
IAGRAI-01,Cụm loa thôn Plei Ơi,Ia Grai,,Gia Lai,vi,T2-CN 05:30-06:00; T2-CN 17:00-17:30,,,4
CHUPAH-01,Cụm loa trung tâm xã,Chư Păh,,Gia Lai,vi,"T2-CN 05:30-06:30; relay(T2-CN 06:00-06:30 http://vov.example/vov1 ten=""Thời sự VOV1"")",,,2
"""
# Titles with the characters iCalendar and M3U must escape or keep: commas, semicolons, a backslash.
BULLETINS = {
    "MC-01": ("thuong", "Cơ chế một cửa, một cửa liên thông; giải quyết thủ tục hành chính"),
    "DVC-01": ("uu_tien", "Dịch vụ công trực tuyến mức độ 3, 4 và bưu chính công ích"),
    "CHISO-01": ("thuong", "Chỉ số PAR INDEX, SIPAS năm 2023 của tỉnh Gia Lai \\ kết quả"),
    "KC-BAO9": ("khan_cap", "Cảnh báo bão số 9: khẩn trương chằng chống nhà cửa"),
}


def load_programme(session: Session, station: str) -> Programme:
    return session.scalars(
        select(Programme).join(Station)
        .options(selectinload(Programme.items),
                 selectinload(Programme.station).selectinload(Station.commune).selectinload(Commune.province))
        .where(Station.code == station, Programme.week == str(WEEK))
    ).one()


def manifest_of(sessions: sessionmaker[Session], station: str) -> Manifest:
    with sessions() as session:
        return build_manifest(load_programme(session, station), TZ, BASE_URL)


def build_world(sessions: sessionmaker[Session], now: datetime) -> sessionmaker[Session]:
    """Stations, approved bulletins with audio rows, the week built, and an hourly storm warning."""
    with transaction(sessions) as session:
        import_stations(session, STATIONS)
        for code, (priority, title) in BULLETINS.items():
            sha = hashlib.sha256(code.encode()).hexdigest()
            session.add(Bulletin(
                code=code, title=title, text=title, topic="mot_cua", priority=priority, status="da_duyet",
                valid_from=date(2026, 11, 1), valid_to=date(2026, 12, 31), plays_per_week=4, targets=["*"],
                audio=AudioAsset(sha256=sha, file_name=f"audio/{sha}.mp3", duration_ms=95_500, engine="test",
                                 created_at=now),
                created_at=now, updated_at=now,
            ))
    with transaction(sessions) as session:
        build_week(session, WEEK, now, TZ)
    with transaction(sessions) as session:
        storm = session.scalars(select(Bulletin).where(Bulletin.code == "KC-BAO9")).one()
        start_emergency(session, storm, ["*"], RepeatRule(every_minutes=60, until=datetime(2026, 11, 23, 9, 0,
                                                                                          tzinfo=TZ)), None, now)
    return sessions
