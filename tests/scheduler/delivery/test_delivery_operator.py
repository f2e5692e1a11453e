"""Operator tools for communes without an agent: M3U, ZIP, one MP3 per session, "đã phát" confirmations."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from delivery_world import ItemSpec, add_asset, add_programme, add_station, make_mp3
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from audio.ffmpeg import probe
from scheduler.db.models import Commune, PlayLog, ProgrammeItem, User
from scheduler.db.session import transaction
from scheduler.delivery.operator import audio_zip, confirm_played, m3u_for_day, session_mp3
from scheduler.settings import Settings
from tests.fake_clock import FakeClock

DAY = date(2026, 11, 24)
MORNING = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)  # 05:30 local
EVENING = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # 17:00 local


@pytest.fixture
def programme(sessions: sessionmaker[Session], clock: FakeClock, media_dir: Path) -> dict[str, int]:
    now = clock()
    with transaction(sessions) as s:
        station, _ = add_station(s, "QT-DH-01", now, commune="Phường Đông Hà", province="Quảng Trị")
        jingle = add_asset(s, media_dir, make_mp3(1.0, 880), now, 1000)
        news = add_asset(s, media_dir, make_mp3(3.0, 440), now, 3000)
        add_programme(s, station, "2026-W48", [
            ItemSpec(MORNING, jingle, kind="jingle", title="Nhạc hiệu"),
            ItemSpec(MORNING + timedelta(seconds=3), news, title="Tuyên truyền cải cách hành chính"),
            ItemSpec(MORNING + timedelta(seconds=8), seconds=300, kind="relay", stream_url="http://vov.vn/vov1",
                     title="Tiếp sóng thời sự VOV1"),
            ItemSpec(EVENING, news, title="Tuyên truyền cải cách hành chính"),
        ], now)
        other = s.scalar(select(Commune).where(Commune.name == "Phường Đông Hà"))
        assert other is not None
        ids = {i.title + i.start.isoformat(): i.id for i in s.scalars(select(ProgrammeItem))}
        return {"news_morning": ids["Tuyên truyền cải cách hành chính" + MORNING.replace(second=3).isoformat()]}


def test_day_playlist_is_an_m3u_in_broadcast_order_with_sessions_and_relays(
        programme: dict[str, int], sessions: sessionmaker[Session], settings: Settings) -> None:
    with sessions() as s:
        text = m3u_for_day(s, "QT-DH-01", DAY, settings)
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U"
    assert "# Buổi 1: 05:30 – 05:35" in lines and any(line.startswith("# Buổi 2: 17:00") for line in lines)
    entries = [line for line in lines if not line.startswith("#")]
    assert entries[0].startswith("audio/nhac-hieu-") and entries[1].startswith("audio/tuyen-truyen-cai-cach")
    assert entries[2] == "http://vov.vn/vov1"
    assert "#EXTINF:3,05:30 Tuyên truyền cải cách hành chính" in lines


def test_zip_holds_each_audio_once_beside_the_playlists(programme: dict[str, int], sessions: sessionmaker[Session],
                                                        settings: Settings) -> None:
    buffer = io.BytesIO()
    with sessions() as s:
        count = audio_zip(s, "QT-DH-01", [DAY, DAY + timedelta(days=1)], settings, buffer)
    names = zipfile.ZipFile(buffer).namelist()
    assert count == 2
    assert sorted(n for n in names if n.endswith(".m3u")) == ["2026-11-24.m3u", "2026-11-25.m3u"]
    assert len([n for n in names if n.startswith("audio/")]) == 2


def test_session_mp3_stitches_the_items_in_order_with_the_scheduled_gap(
        programme: dict[str, int], sessions: sessionmaker[Session], settings: Settings, tmp_path: Path) -> None:
    with sessions() as s:
        result = session_mp3(s, "QT-DH-01", DAY, 1, settings, tmp_path / "buoi-sang.mp3")
    info = probe(result.path)
    assert info.readable and info.codec == "mp3"
    assert result.items == 2 and result.relays == ["05:30 Tiếp sóng thời sự VOV1"]
    # jingle 1 s, the 2 s scheduled gap, the 3 s bulletin (+ the MP3 decoders' few ms of padding)
    assert 6000 <= result.duration_ms < 6200
    assert info.duration_s is not None and abs(info.duration_s - 6.0) < 0.3
    with sessions() as s, pytest.raises(LookupError, match="có 2 buổi phát"):
        session_mp3(s, "QT-DH-01", DAY, 3, settings, tmp_path / "x.mp3")


def test_confirming_played_twice_stores_one_manual_row_and_other_communes_are_refused(
        programme: dict[str, int], sessions: sessionmaker[Session], clock: FakeClock) -> None:
    with transaction(sessions) as s:
        commune = s.scalar(select(Commune).where(Commune.name == "Phường Đông Hà"))
        assert commune is not None
        elsewhere = Commune(province_id=commune.province_id, name="Xã Hải Lệ", policy={})
        own = User(username="vanhanh", role="operator", password_hash="x", commune=commune, created_at=clock())
        stranger = User(username="xa-khac", role="operator", password_hash="x", commune=elsewhere, created_at=clock())
        s.add_all([own, stranger])
        s.flush()
        with pytest.raises(ValueError, match="chưa đến giờ phát"):
            confirm_played(s, "QT-DH-01", programme["news_morning"], own, clock())
        after = MORNING + timedelta(minutes=20)
        first = confirm_played(s, "QT-DH-01", programme["news_morning"], own, after)
        second = confirm_played(s, "QT-DH-01", programme["news_morning"], own, after)
        with pytest.raises(PermissionError, match="xa-khac"):
            confirm_played(s, "QT-DH-01", programme["news_morning"], stranger, after)
    assert (first.stored, second.stored, second.duplicates) == (1, 0, 1)
    with sessions() as s:
        row = s.scalar(select(PlayLog))
        assert row is not None
        assert (row.source, row.result, row.title) == ("manual", "played", "Tuyên truyền cải cách hành chính")
        assert s.scalar(select(func.count()).select_from(PlayLog)) == 1
