"""Lịch phát pages: rebuild, the week grid, pin/move/remove surviving rebuilds, unplaced bulletins, downloads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker
from web_pages import World, make_asset, make_bulletin, text_of

from scheduler.db.models import AuditLog, Programme, ProgrammeItem, Station
from scheduler.domain import BulletinStatus
from tests.fake_clock import FakeClock

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WEEK = "2026-W48"  # Monday 23 Nov 2026; the clock stands at 05:00 that Monday


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)


@pytest.fixture
def planned(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], clock: FakeClock, media_dir: Path) -> int:
    """One approved, rendered bulletin for Xã Ia Dêr, planned into IADER-01's week by the page."""
    bulletin_id: int = make_bulletin(
        sessions, clock(), code="BT-MOTCUA", title="Một cửa liên thông", status=BulletinStatus.APPROVED,
        targets=("Xã Ia Dêr",), audio=make_asset(media_dir, clock(), duration_ms=120_000), plays_per_week=3,
    )  # fmt: skip
    response = as_user("bientap").post("/lich-phat/lap-lai", data={"tuan": WEEK, "dai": "IADER-01"})
    assert response.status_code == 303
    return bulletin_id


def items(sessions: sessionmaker[Session], code: str = "IADER-01") -> list[ProgrammeItem]:
    with sessions() as s:
        programme = s.scalar(
            select(Programme)
            .options(selectinload(Programme.items))
            .join(Station)
            .where(Station.code == code, Programme.week == WEEK)
        )
        return list(programme.items) if programme else []


def version(sessions: sessionmaker[Session], code: str = "IADER-01") -> int:
    with sessions() as s:
        return (
            s.scalar(select(Programme.version).join(Station).where(Station.code == code, Programme.week == WEEK)) or 0
        )


def bulletin_items(sessions: sessionmaker[Session]) -> list[ProgrammeItem]:
    return [i for i in items(sessions) if i.bulletin_code == "BT-MOTCUA"]


def test_rebuild_plans_the_bulletin_and_the_grid_shows_it(as_user: Callable[[str], FlaskClient], planned: int, sessions: sessionmaker[Session]) -> None:
    placed = bulletin_items(sessions)
    assert len(placed) == 3
    page = as_user("vanhanh").get(f"/lich-phat/?dai=IADER-01&tuan={WEEK}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count("Một cửa liên thông") >= 3
    first = min(placed, key=lambda i: i.start)
    assert f'{first.start.astimezone(TZ):%H:%M} <span class="item-len">· 2:00</span>' in html
    assert "Thứ Hai" in html and "Chủ nhật" in html
    with sessions() as s:
        rebuild = s.scalars(select(AuditLog).where(AuditLog.action == "programme.rebuild")).one()
        assert rebuild.username == "bientap" and rebuild.after is not None and rebuild.after["changed"] == ["IADER-01"]


def test_other_stations_are_not_rebuilt(planned: int, sessions: sessionmaker[Session]) -> None:
    assert items(sessions, "IADER-02") == []


def test_rebuilding_a_commune_plans_every_station_of_it(as_user: Callable[[str], FlaskClient], planned: int, sessions: sessionmaker[Session], world: World) -> None:
    commune_id = world.communes["Xã Ia Dêr"]
    response = as_user("bientap").post("/lich-phat/lap-lai", data={"tuan": WEEK, "xa": str(commune_id)})
    assert response.status_code == 303
    assert len([i for i in items(sessions, "IADER-02") if i.bulletin_code == "BT-MOTCUA"]) == 3
    assert items(sessions, "CHUPUH-01") == []
    html = as_user("bientap").get(f"/lich-phat/?xa={commune_id}&tuan={WEEK}").get_data(as_text=True)
    assert "IADER-01" in html and "IADER-02" in html and "CHUPUH-01" not in html


def test_pin_locks_the_item_bumps_the_version_and_is_audited(as_user: Callable[[str], FlaskClient], planned: int, sessions: sessionmaker[Session]) -> None:
    item = max(bulletin_items(sessions), key=lambda i: i.start)
    before = version(sessions)
    assert as_user("bientap").post(f"/lich-phat/muc/{item.id}/ghim").status_code == 303
    pinned = next(i for i in items(sessions) if i.id == item.id)
    assert pinned.locked
    assert version(sessions) == before + 1
    with sessions() as s:
        log = s.scalars(select(AuditLog).where(AuditLog.action == "programme.pin")).one()
        assert log.before is not None and log.before["locked"] is False
        assert log.after is not None and log.after["locked"] is True


def test_moved_item_is_pinned_and_survives_a_rebuild(as_user: Callable[[str], FlaskClient], planned: int, sessions: sessionmaker[Session]) -> None:
    item = max(bulletin_items(sessions), key=lambda i: i.start)
    target = local(28, 17, 40)  # Saturday evening session
    # Keep clear of whatever else is planned at that time.
    clash = [
        i
        for i in items(sessions)
        if i.id != item.id
        and i.start < target.astimezone(UTC) + (item.end - item.start)
        and target.astimezone(UTC) < i.end
    ]
    assert not clash
    editor = as_user("bientap")
    response = editor.post(f"/lich-phat/muc/{item.id}/doi", data={"start": "2026-11-28T17:40"}, follow_redirects=True)
    assert "Đã dời" in response.get_data(as_text=True)
    moved = next(i for i in items(sessions) if i.id == item.id)
    assert moved.start == target.astimezone(UTC) and moved.locked
    assert moved.end - moved.start == item.end - item.start
    editor.post("/lich-phat/lap-lai", data={"tuan": WEEK, "dai": "IADER-01"})
    kept = [i for i in bulletin_items(sessions) if i.start == target.astimezone(UTC)]
    assert len(kept) == 1 and kept[0].locked


def test_move_onto_another_item_is_refused_and_changes_nothing(as_user: Callable[[str], FlaskClient], planned: int, sessions: sessionmaker[Session]) -> None:
    first, second = sorted(bulletin_items(sessions), key=lambda i: i.start)[-2:]
    when = second.start.astimezone(TZ).strftime("%Y-%m-%dT%H:%M")
    before = version(sessions)
    response = as_user("bientap").post(f"/lich-phat/muc/{first.id}/doi", data={"start": when}, follow_redirects=True)
    assert "trùng với" in text_of(response.get_data(as_text=True))
    assert next(i for i in items(sessions) if i.id == first.id).start == first.start
    assert version(sessions) == before


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("2026-11-23T05:10", "đã qua hoặc nằm trong 30 phút tới"),
        ("2026-12-01T17:10", "nằm ngoài tuần 2026-W48"),
        ("hôm qua", "không hợp lệ"),
    ],
)
def test_move_to_a_bad_time_is_refused_in_vietnamese(as_user: Callable[[str], FlaskClient], planned: int, sessions: sessionmaker[Session], when: str, message: str) -> None:
    item = max(bulletin_items(sessions), key=lambda i: i.start)
    response = as_user("bientap").post(f"/lich-phat/muc/{item.id}/doi", data={"start": when}, follow_redirects=True)
    assert message in text_of(response.get_data(as_text=True))
    assert next(i for i in items(sessions) if i.id == item.id).start == item.start


def test_remove_takes_the_item_out_and_is_audited(as_user: Callable[[str], FlaskClient], planned: int, sessions: sessionmaker[Session]) -> None:
    item = max(bulletin_items(sessions), key=lambda i: i.start)
    assert as_user("bientap").post(f"/lich-phat/muc/{item.id}/bo").status_code == 303
    assert item.id not in {i.id for i in items(sessions)}
    with sessions() as s:
        log = s.scalars(select(AuditLog).where(AuditLog.action == "programme.remove")).one()
        assert log.before is not None and log.before["bulletin"] == "BT-MOTCUA"


def test_items_about_to_air_cannot_be_changed(as_user: Callable[[str], FlaskClient], planned: int, sessions: sessionmaker[Session], clock: FakeClock) -> None:
    item = min(bulletin_items(sessions), key=lambda i: i.start)
    clock.current = item.start - timedelta(minutes=10)
    response = as_user("bientap").post(f"/lich-phat/muc/{item.id}/bo", follow_redirects=True)
    assert "không thể thay đổi nữa" in text_of(response.get_data(as_text=True))
    assert item.id in {i.id for i in items(sessions)}


def test_unplaced_bulletins_are_listed_with_the_reason(as_user: Callable[[str], FlaskClient], planned: int, sessions: sessionmaker[Session], clock: FakeClock, media_dir: Path) -> None:
    make_bulletin(
        sessions, clock(), code="BT-NHIEU", title="Bản tin cần phát nhiều lần", status=BulletinStatus.APPROVED,
        targets=("IADER-01",), audio=make_asset(media_dir, clock(), sha="c" * 64, duration_ms=600_000),
        plays_per_week=60,
    )  # fmt: skip
    make_bulletin(
        sessions, clock(), code="BT-CHUA-AM", title="Bản tin chưa có âm thanh", status=BulletinStatus.APPROVED,
        targets=("IADER-01",),
    )  # fmt: skip
    html = text_of(as_user("bientap").get(f"/lich-phat/?dai=IADER-01&tuan={WEEK}").get_data(as_text=True))
    section = html.split("Bản tin chưa xếp đủ lượt và lý do", 1)[1]
    assert "BT-NHIEU" in section and "không có đủ buổi phát cho số lần yêu cầu" in section  # 60 plays, 14 sessions
    assert "BT-CHUA-AM" in section and "chưa có âm thanh" in section
    assert "BT-MOTCUA" not in section


def test_no_page_claims_all_placed_while_a_rebuild_is_pending(as_user: Callable[[str], FlaskClient], planned: int, sessions: sessionmaker[Session], clock: FakeClock,
                                                              media_dir: Path) -> None:
    page = f"/lich-phat/?dai=IADER-01&tuan={WEEK}"
    settled = text_of(as_user("bientap").get(page).get_data(as_text=True))
    assert "Mọi bản tin nhắm tới đài này đều đã được xếp đủ lượt" in settled and "chưa theo kịp" not in settled
    # Approved (and rendered) after the programme was built: the stored week does not have it yet.
    make_bulletin(
        sessions, clock(), code="BT-MOI", title="Bản tin vừa duyệt", status=BulletinStatus.APPROVED,
        targets=("IADER-01",), audio=make_asset(media_dir, clock(), sha="d" * 64, duration_ms=60_000),
        plays_per_week=2,
    )  # fmt: skip
    pending = text_of(as_user("bientap").get(page).get_data(as_text=True))
    assert "chưa theo kịp thay đổi mới nhất" in pending
    assert "đều đã được xếp đủ lượt" not in pending
    assert "BT-MOI" not in {i.bulletin_code for i in items(sessions)}
    as_user("bientap").post("/lich-phat/lap-lai", data={"tuan": WEEK, "dai": "IADER-01"})
    rebuilt = text_of(as_user("bientap").get(page).get_data(as_text=True))
    assert "chưa theo kịp" not in rebuilt and "đều đã được xếp đủ lượt" in rebuilt


def test_programme_downloads_as_m3u_and_pdf(as_user: Callable[[str], FlaskClient], planned: int, sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        programme_id = s.scalar(select(Programme.id).join(Station).where(Station.code == "IADER-01"))
    client = as_user("vanhanh")
    html = client.get(f"/lich-phat/?dai=IADER-01&tuan={WEEK}").get_data(as_text=True)
    assert f"/lich-phat/tai-ve/{programme_id}.m3u" in html and f"/lich-phat/tai-ve/{programme_id}.pdf" in html
    m3u = client.get(f"/lich-phat/tai-ve/{programme_id}.m3u")
    assert m3u.status_code == 200 and m3u.get_data(as_text=True).startswith("#EXTM3U")
    pdf = client.get(f"/lich-phat/tai-ve/{programme_id}.pdf")
    assert pdf.status_code == 200 and pdf.get_data().startswith(b"%PDF")
    assert as_user("vanhanh_cp").get(f"/lich-phat/tai-ve/{programme_id}.m3u").status_code == 404


def test_week_navigation_and_a_bad_week_fall_back_to_this_week(as_user: Callable[[str], FlaskClient], planned: int) -> None:
    client = as_user("bientap")
    html = client.get("/lich-phat/?dai=IADER-01&tuan=2026-W49").get_data(as_text=True)
    assert "Chưa có lịch cho tuần này" in html and "tuan=2026-W48" in html and "tuan=2026-W50" in html
    bad = client.get("/lich-phat/?dai=IADER-01&tuan=tuần-sau").get_data(as_text=True)
    assert "Tuần không hợp lệ" in bad and "Tuần 48 (23/11 – 29/11/2026)" in bad


def test_index_finds_communes_and_stations(as_user: Callable[[str], FlaskClient], world: World) -> None:
    html = as_user("bientap").get("/lich-phat/?q=Ia").get_data(as_text=True)
    assert "Xã Ia Dêr" in html and "IADER-01" in html
    assert "Xã Chư Pưh" not in html
