"""Tin tuyến trên pages: a commune approver answers Nhận phát / Không phát; admins set the policy.

Xã Ia Dêr chooses (chon); Xã Chư Pưh airs everything as it comes. BT-TREN is a thông thường
bulletin from the province for everyone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from web_pages import PASSWORD, World, make_asset, make_bulletin, text_of

from scheduler.accounts import create_user
from scheduler.db.models import AuditLog, Bulletin, Commune, CommuneDecision
from scheduler.db.session import transaction
from scheduler.domain import BulletinStatus
from scheduler.settings import Settings
from tests.fake_clock import FakeClock
from web.app import create_app


@pytest.fixture
def tren(world: World, sessions: sessionmaker[Session], clock: FakeClock) -> int:
    with transaction(sessions) as s:
        s.execute(update(Commune).where(Commune.name == "Xã Ia Dêr").values(upstream_mode="chon",
                                                                            upstream_deadline_hours=24))
        create_user(s, "duyet_xa", "approver", PASSWORD, clock(), commune="Xã Ia Dêr")
        create_user(s, "duyet_cp", "approver", PASSWORD, clock(), commune="Xã Chư Pưh")
    bulletin_id = make_bulletin(sessions, clock(), status=BulletinStatus.APPROVED, code="BT-TREN",
                                title="Lịch tiếp công dân của tỉnh")
    with transaction(sessions) as s:
        s.execute(update(Bulletin).where(Bulletin.id == bulletin_id).values(approved_at=clock()))
    return int(bulletin_id)


def _decisions(sessions: sessionmaker[Session]) -> list[tuple[str, str, bool]]:
    with sessions() as s:
        return [(d.bulletin_code, d.decision, d.by_default) for d in s.scalars(select(CommuneDecision))]


def test_the_commune_approver_sees_what_waits_with_its_deadline(
    as_user: Callable[[str], FlaskClient], tren: int
) -> None:
    page = text_of(as_user("duyet_xa").get("/tin-tuyen-tren/").get_data(as_text=True))
    assert "Chờ quyết định (1)" in page
    assert "Lịch tiếp công dân của tỉnh" in page and "Xã Ia Dêr" in page
    assert "Hạn quyết định: 05:00 24/11/2026" in page  # approved 05:00 23/11 local, 24 hours
    assert "Nhận phát" in page and "Không phát" in page
    other = text_of(as_user("duyet_cp").get("/tin-tuyen-tren/").get_data(as_text=True))
    assert "Chờ quyết định (0)" in other and "tự động phát" in other


def test_one_tap_declines_and_the_answer_is_audited_and_can_be_changed(
    as_user: Callable[[str], FlaskClient], tren: int, world: World, sessions: sessionmaker[Session]
) -> None:
    client = as_user("duyet_xa")
    url = f"/tin-tuyen-tren/{tren}/xa/{world.communes['Xã Ia Dêr']}"
    response = client.post(url, data={"answer": "khong"})
    assert response.status_code == 303
    assert _decisions(sessions) == [("BT-TREN", "khong", False)]
    page = text_of(client.get("/tin-tuyen-tren/").get_data(as_text=True))
    assert "Chờ quyết định (0)" in page and "Xã không phát" in page and "Đổi thành Nhận phát" in page
    client.post(url, data={"answer": "nhan"})
    assert _decisions(sessions) == [("BT-TREN", "nhan", False)]
    with sessions() as s:
        rows = s.scalars(select(AuditLog).where(AuditLog.action == "bulletin.commune_choice")
                         .order_by(AuditLog.id)).all()
        assert [(r.username, (r.after or {})["decision"]) for r in rows] == [("duyet_xa", "khong"),
                                                                             ("duyet_xa", "nhan")]


@pytest.mark.parametrize(
    ("username", "commune", "status"),
    [
        ("duyet_cp", "Xã Ia Dêr", 404),  # another commune's approver: outside the scope
        ("bientap", "Xã Ia Dêr", 403),  # editors do not answer
        ("vanhanh", "Xã Ia Dêr", 403),
        ("xem", "Xã Ia Dêr", 403),
    ],
)
def test_only_approvers_in_scope_may_answer(
    as_user: Callable[[str], FlaskClient], tren: int, world: World, sessions: sessionmaker[Session],
    username: str, commune: str, status: int,
) -> None:
    response = as_user(username).post(f"/tin-tuyen-tren/{tren}/xa/{world.communes[commune]}", data={"answer": "khong"})
    assert response.status_code == status
    assert _decisions(sessions) == []


def test_a_bulletin_not_held_gets_a_vietnamese_refusal_and_nothing_is_stored(
    as_user: Callable[[str], FlaskClient], tren: int, world: World, sessions: sessionmaker[Session]
) -> None:
    client = as_user("duyet")
    response = client.post(f"/tin-tuyen-tren/{tren}/xa/{world.communes['Xã Chư Pưh']}", data={"answer": "khong"},
                           follow_redirects=True)
    assert "không chờ xã «Xã Chư Pưh» quyết định" in text_of(response.get_data(as_text=True))
    bad = client.post(f"/tin-tuyen-tren/{tren}/xa/{world.communes['Xã Ia Dêr']}", data={"answer": "co-le"},
                      follow_redirects=True)
    assert "Quyết định «co-le» không hợp lệ" in text_of(bad.get_data(as_text=True))
    assert _decisions(sessions) == []


def test_answering_needs_the_csrf_token(
    settings: Settings, clock: FakeClock, tren: int, world: World, sessions: sessionmaker[Session]
) -> None:
    client = create_app(settings, clock=clock, testing=True).test_client()
    page = client.get("/dang-nhap").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/dang-nhap", data={"username": "duyet_xa", "password": PASSWORD, "csrf_token": token})
    url = f"/tin-tuyen-tren/{tren}/xa/{world.communes['Xã Ia Dêr']}"
    assert client.post(url, data={"answer": "khong"}).status_code == 400
    assert _decisions(sessions) == []
    page = client.get("/tin-tuyen-tren/").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post(url, data={"answer": "khong", "csrf_token": token}).status_code == 303
    assert _decisions(sessions) == [("BT-TREN", "khong", False)]


def test_admins_set_a_communes_policy_on_the_page(
    as_user: Callable[[str], FlaskClient], world: World, sessions: sessionmaker[Session]
) -> None:
    commune_id = world.communes["Xã Chư Pưh"]
    form = {"commune_id": str(commune_id), "mode": "chon", "deadline_hours": "48", "default": "khong",
            "priority_order": "xa-truoc"}
    assert as_user("duyet").post("/tin-tuyen-tren/chinh-sach", data=form).status_code == 403
    bad = as_user("quantri").post("/tin-tuyen-tren/chinh-sach", data={**form, "deadline_hours": "hai ngày"})
    assert bad.status_code == 400 and "«hai ngày» không phải số giờ" in text_of(bad.get_data(as_text=True))
    too_long = as_user("quantri").post("/tin-tuyen-tren/chinh-sach", data={**form, "deadline_hours": "1000"})
    assert too_long.status_code == 400 and "từ 1 đến 336 giờ" in text_of(too_long.get_data(as_text=True))
    with sessions() as s:
        assert s.get_one(Commune, commune_id).upstream_mode == "tu-dong"
    assert as_user("quantri").post("/tin-tuyen-tren/chinh-sach", data=form).status_code == 303
    with sessions() as s:
        row = s.get_one(Commune, commune_id)
        assert (row.upstream_mode, row.upstream_deadline_hours, row.upstream_default, row.priority_order) == (
            "chon", 48, "khong", "xa-truoc")
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "commune.policy")).one()
        assert audit.username == "quantri"
    page = text_of(as_user("quantri").get("/tin-tuyen-tren/chinh-sach").get_data(as_text=True))
    assert "hạn 48 giờ; quá hạn thì «Không phát»" in page


def test_the_station_week_page_says_why_a_bulletin_from_above_is_not_in_the_grid(
    as_user: Callable[[str], FlaskClient], tren: int, world: World, sessions: sessionmaker[Session],
    clock: FakeClock, media_dir: Path,
) -> None:
    with transaction(sessions) as s:
        asset = make_asset(media_dir, clock())
        s.add(asset)
        s.flush()
        s.execute(update(Bulletin).where(Bulletin.id == tren).values(audio_asset_id=asset.id))
    page = text_of(as_user("vanhanh").get("/lich-phat/?dai=IADER-01").get_data(as_text=True))
    assert "Đang chờ xã chọn «Nhận phát» hay «Không phát»" in page
    as_user("duyet_xa").post(f"/tin-tuyen-tren/{tren}/xa/{world.communes['Xã Ia Dêr']}", data={"answer": "khong"})
    page = text_of(as_user("vanhanh").get("/lich-phat/?dai=IADER-01").get_data(as_text=True))
    assert "Xã đã chọn «Không phát» tin này của tuyến trên" in page
    other = text_of(as_user("quantri").get("/lich-phat/?dai=CHUPUH-01").get_data(as_text=True))
    assert "Không phát" not in other


def test_the_report_page_shows_planned_declined_and_aired(
    as_user: Callable[[str], FlaskClient], tren: int, world: World
) -> None:
    as_user("duyet_xa").post(f"/tin-tuyen-tren/{tren}/xa/{world.communes['Xã Ia Dêr']}", data={"answer": "khong"})
    page = text_of(as_user("quantri").get("/bao-cao/?period=thang&year=2026&index=11").get_data(as_text=True))
    assert "lượt theo kế hoạch" in page and "lượt đã phát" in page
    assert "2 đài × bản tin tuyến trên xã không phát" in page
    assert "Xã Ia Dêr BT-TREN — Lịch tiếp công dân của tỉnh" in page and "duyet_xa quyết định" in page
    other = text_of(as_user("vanhanh_cp").get("/bao-cao/?period=thang&year=2026&index=11").get_data(as_text=True))
    assert "BT-TREN" not in other and "0 đài × bản tin" in other  # Chư Pưh's operator sees only Chư Pưh


def test_the_dashboard_tells_a_commune_approver_what_waits(
    as_user: Callable[[str], FlaskClient], tren: int, world: World
) -> None:
    page = text_of(as_user("duyet_xa").get("/").get_data(as_text=True))
    assert "1 tin tuyến trên chờ xã chọn" in page
    as_user("duyet_xa").post(f"/tin-tuyen-tren/{tren}/xa/{world.communes['Xã Ia Dêr']}", data={"answer": "nhan"})
    assert "0 tin tuyến trên chờ xã chọn" in text_of(as_user("duyet_xa").get("/").get_data(as_text=True))
    assert "tin tuyến trên chờ xã chọn" not in text_of(as_user("duyet_cp").get("/").get_data(as_text=True))
    assert "tin tuyến trên chờ xã chọn" not in text_of(as_user("bientap").get("/").get_data(as_text=True))


def test_a_bulletin_outside_the_scope_does_not_exist_for_the_commune_approver(
    as_user: Callable[[str], FlaskClient], tren: int, world: World, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    elsewhere = make_bulletin(sessions, clock(), status=BulletinStatus.APPROVED, code="BT-CP", targets=("CHUPUH-01",))
    response = as_user("duyet_xa").post(f"/tin-tuyen-tren/{elsewhere}/xa/{world.communes['Xã Ia Dêr']}",
                                        data={"answer": "khong"})
    assert response.status_code == 404
    assert _decisions(sessions) == []
