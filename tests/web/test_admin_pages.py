"""Nhật ký, Người dùng and Tổng quan pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from web_pages import PASSWORD, World, login, make_bulletin, text_of

from scheduler import audit
from scheduler.db.models import AuditLog, Programme, ProgrammeItem, Station, User
from scheduler.domain import BulletinStatus
from tests.fake_clock import FakeClock


def _log(sessions: sessionmaker[Session], clock: FakeClock, action: str, entity: str, entity_id: str, **kw: object) -> None:
    with sessions.begin() as s:
        user = s.scalars(select(User).where(User.username == kw.pop("user", "bientap"))).one()
        audit.record(s, clock(), user, action, entity, entity_id, kw.get("before"), kw.get("after"))  # type: ignore[arg-type]


def test_audit_log_shows_who_did_what_when_with_before_and_after(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], clock: FakeClock) -> None:
    _log(
        sessions,
        clock,
        "bulletin.update",
        "bulletin",
        "7",
        before={"title": "Tiêu đề cũ", "plays_per_week": 3},
        after={"title": "Tiêu đề mới", "plays_per_week": 3},
    )
    html = text_of(as_user("quantri").get("/nhat-ky/").get_data(as_text=True))
    assert "05:00 23/11/2026" in html and "bientap" in html and "Sửa bản tin" in html
    assert "Tiêu đề cũ" in html and "Tiêu đề mới" in html
    assert "1 trường" in html  # plays_per_week did not change, so it is not listed


def test_audit_log_filters_by_user_entity_action_and_dates(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], clock: FakeClock) -> None:
    _log(sessions, clock, "bulletin.create", "bulletin", "1", user="bientap")
    clock.advance(days=2)
    _log(sessions, clock, "station.update", "station", "IADER-01", user="quantri")
    client = as_user("duyet")

    def shown(query: str) -> set[str]:
        html = text_of(client.get("/nhat-ky/?" + query).get_data(as_text=True))
        table = html.split("Thay đổi (trước → sau)", 1)[-1] if "Thay đổi (trước → sau)" in html else ""
        return {label for label in ("Tạo bản tin", "Sửa đài") if label in table}

    assert shown("") == {"Tạo bản tin", "Sửa đài"}
    assert shown("nguoi=quantri") == {"Sửa đài"}
    assert shown("doi_tuong=bulletin") == {"Tạo bản tin"}
    assert shown("hanh_dong=station.update") == {"Sửa đài"}
    assert shown("ma=IADER-01") == {"Sửa đài"}
    assert shown("tu=2026-11-24") == {"Sửa đài"}
    assert shown("den=2026-11-23") == {"Tạo bản tin"}


def test_audit_log_refuses_dates_in_the_wrong_order(as_user: Callable[[str], FlaskClient]) -> None:
    response = as_user("quantri").get("/nhat-ky/?tu=2026-11-30&den=2026-11-01")
    assert response.status_code == 400
    assert "Ngày đến 01/11/2026 trước ngày từ 30/11/2026" in response.get_data(as_text=True)


def test_audit_log_escapes_what_people_typed(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], clock: FakeClock) -> None:
    _log(
        sessions, clock, "bulletin.update", "bulletin", "1", before={"title": "a"}, after={"title": "<b onmouseover=x>"}
    )
    html = as_user("quantri").get("/nhat-ky/").get_data(as_text=True)
    assert "<b onmouseover=x>" not in html and "&lt;b onmouseover=x&gt;" in html


def test_admin_creates_an_operator_bound_to_a_commune(app: Flask, as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session]) -> None:
    response = as_user("quantri").post(
        "/nguoi-dung/moi",
        data={
            "username": "vanhanh_moi",
            "full_name": "Rơ Châm H'Lan",
            "role": "operator",
            "commune": "Xã Ia Dêr",
            "password": "mat-khau-moi-2026",
            "active": "y",
        },
    )
    assert response.status_code == 303
    with sessions() as s:
        user = s.scalars(select(User).where(User.username == "vanhanh_moi")).one()
        assert user.role == "operator" and user.commune is not None and user.commune.name == "Xã Ia Dêr"
        assert user.password_hash.startswith("scrypt$")
        log = s.scalars(select(AuditLog).where(AuditLog.action == "user.create")).one()
        assert "mat-khau-moi-2026" not in str(log.after) and "scrypt" not in str(log.after)
    client = app.test_client()
    login(client, "vanhanh_moi", "mat-khau-moi-2026")
    assert client.get("/dai/IADER-01").status_code == 200


def test_user_creation_errors_are_vietnamese_and_store_nothing(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session]) -> None:
    client = as_user("quantri")
    cases = [
        ({"username": "bientap", "role": "editor", "password": "12345678"}, "đã có người dùng"),
        ({"username": "moi", "role": "operator", "password": "12345678"}, "phải gắn với một xã"),
        ({"username": "moi", "role": "editor", "password": "ngan"}, "ít nhất 8 ký tự"),
        ({"username": "moi", "role": "editor", "password": ""}, "Hãy đặt mật khẩu"),
        ({"username": "moi", "role": "thu_kho", "password": "12345678"}, "không có trong danh sách"),
        (
            {"username": "moi", "role": "operator", "commune": "Xã Không Có", "password": "12345678"},
            "Không tìm thấy xã «Xã Không Có»",
        ),
    ]
    for data, message in cases:
        response = client.post("/nguoi-dung/moi", data=data)
        assert response.status_code == 400, data
        assert message in text_of(response.get_data(as_text=True)), data
    with sessions() as s:
        assert s.scalars(select(User).where(User.username == "moi")).first() is None


def test_changing_a_role_is_audited_and_a_new_password_works(app: Flask, as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], world: World) -> None:
    user_id = world.users["xem"]
    response = as_user("quantri").post(
        f"/nguoi-dung/{user_id}",
        data={"full_name": "Người xem", "role": "approver", "commune": "", "password": "doi-mat-khau-1", "active": "y"},
    )
    assert response.status_code == 303
    with sessions() as s:
        log = s.scalars(select(AuditLog).where(AuditLog.action == "user.update")).one()
        assert log.before is not None and log.before["role"] == "viewer"
        assert log.after is not None and log.after["role"] == "approver" and log.after["password_changed"] is True
    client = app.test_client()
    assert client.post("/dang-nhap", data={"username": "xem", "password": PASSWORD}).status_code == 401
    login(client, "xem", "doi-mat-khau-1")
    assert client.get("/nhat-ky/").status_code == 200


def test_admin_cannot_lock_themselves_out(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], world: World) -> None:
    response = as_user("quantri").post(f"/nguoi-dung/{world.users['quantri']}", data={"role": "viewer", "active": "y"})
    assert response.status_code == 400
    assert "Không thể tự bỏ quyền quản trị" in response.get_data(as_text=True)
    with sessions() as s:
        assert s.get(User, world.users["quantri"]).role == "admin"  # type: ignore[union-attr]


def test_dashboard_counts_and_lists(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], clock: FakeClock) -> None:
    now = clock()
    make_bulletin(sessions, now, code="BT-CHO", title="Bản tin đang chờ duyệt", status=BulletinStatus.SUBMITTED)
    with sessions.begin() as s:
        station = s.scalars(select(Station).where(Station.code == "IADER-01")).one()
        station.last_status_at = now - timedelta(minutes=3)
        programme = Programme(station=station, week="2026-W48", version=1, built_at=now)
        s.add(programme)
        programme.items.append(
            ProgrammeItem(
                start=now + timedelta(minutes=30),
                end=now + timedelta(minutes=32),
                kind="bulletin",
                title="Tin một cửa sáng nay",
                bulletin_code="BT-X",
            )
        )
        programme.items.append(
            ProgrammeItem(
                start=now + timedelta(hours=20),
                end=now + timedelta(hours=20, minutes=2),
                kind="bulletin",
                title="Tin ngày mai",
            )
        )
    html = text_of(as_user("duyet").get("/").get_data(as_text=True))
    assert "1 mục phát hôm nay" in html
    assert "05:30 IADER-01 Bản tin: Tin một cửa sáng nay" in html and "Tin ngày mai" not in html
    assert "1 đài trực tuyến" in html and "2 đài mất kết nối" in html
    assert "1 bản tin chờ duyệt" in html and "Bản tin đang chờ duyệt" in html
    assert "chưa có lịch phát tuần 48 (23/11 – 29/11/2026)" in html  # two stations have no programme
    assert "2026-W48" not in html
    assert "chưa nhận phiên bản lịch mới nhất" in html


def test_operator_dashboard_counts_only_their_commune(as_user: Callable[[str], FlaskClient]) -> None:
    html = text_of(as_user("vanhanh_cp").get("/").get_data(as_text=True))
    assert "0 đài trực tuyến" in html and "1 đài mất kết nối" in html
    assert "IADER-01" not in html and "bản tin chờ duyệt" not in html


def test_dashboard_says_how_many_items_are_left_today_and_shows_them_all_on_request(
    as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    now = clock()
    with sessions.begin() as s:
        station = s.scalars(select(Station).where(Station.code == "IADER-01")).one()
        programme = Programme(station=station, week="2026-W48", version=1, built_at=now)
        s.add(programme)
        for n in range(15):
            start = now + timedelta(minutes=10 + 3 * n)
            programme.items.append(ProgrammeItem(start=start, end=start + timedelta(minutes=2), kind="bulletin",
                                                 title=f"Mục số {n + 1:02d}"))
    client = as_user("quantri")
    first = text_of(client.get("/").get_data(as_text=True))
    assert "Đang hiện 12 trong 15 mục còn lại hôm nay." in first and "Xem tất cả 15 mục" in first
    assert "Mục số 12" in first and "Mục số 13" not in first
    every = text_of(client.get("/?sap_phat=tat_ca").get_data(as_text=True))
    assert all(f"Mục số {n:02d}" in every for n in range(1, 16)) and "Đang hiện" not in every
