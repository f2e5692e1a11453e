"""Phát khẩn cấp pages: nothing airs before the explicit confirmation; start, show, cancel; bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from web_pages import make_asset, make_bulletin, text_of

from scheduler.db.models import AuditLog, Emergency, ProgrammeItem
from scheduler.domain import BulletinStatus
from tests.fake_clock import FakeClock


@pytest.fixture
def storm(sessions: sessionmaker[Session], clock: FakeClock, media_dir: Path) -> int:
    bulletin_id: int = make_bulletin(
        sessions, clock(), code="KC-BAO9", title="Cảnh báo bão số 9", priority="khan_cap",
        status=BulletinStatus.APPROVED, audio=make_asset(media_dir, clock(), sha="e" * 64, duration_ms=90_000),
    )  # fmt: skip
    return bulletin_id


def emergencies(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(Emergency)) or 0


def emergency_items(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(ProgrammeItem).where(ProgrammeItem.kind == "emergency")) or 0


def test_form_lists_approved_rendered_bulletins_emergency_first(as_user: Callable[[str], FlaskClient], storm: int, sessions: sessionmaker[Session], clock: FakeClock) -> None:
    make_bulletin(sessions, clock(), code="BT-NHAP", title="Bản nháp chưa duyệt")
    html = as_user("duyet").get("/khan-cap/").get_data(as_text=True)
    assert "[KHẨN] KC-BAO9 — Cảnh báo bão số 9" in html
    assert "BT-NHAP" not in html


def test_first_step_only_asks_for_confirmation(as_user: Callable[[str], FlaskClient], storm: int, sessions: sessionmaker[Session]) -> None:
    response = as_user("duyet").post(
        "/khan-cap/xac-nhan",
        data={
            "bulletin_id": str(storm),
            "targets": "Xã Ia Dêr",
            "repeat_every_minutes": "60",
            "repeat_until": "2026-11-23T09:00",
        },
    )
    html = text_of(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "Xác nhận phát khẩn cấp" in html and "KC-BAO9" in html
    assert "05:00 23/11, 06:00 23/11, 07:00 23/11, 08:00 23/11, 09:00 23/11" in html
    assert emergencies(sessions) == 0 and emergency_items(sessions) == 0


def test_confirmed_emergency_airs_and_can_be_cancelled(as_user: Callable[[str], FlaskClient], storm: int, sessions: sessionmaker[Session]) -> None:
    client = as_user("duyet")
    data = {
        "bulletin_id": str(storm),
        "targets": "Xã Ia Dêr",
        "repeat_every_minutes": "60",
        "repeat_until": "2026-11-23T09:00",
        "confirmed": "co",
    }
    response = client.post("/khan-cap/phat", data=data, follow_redirects=True)
    html = text_of(response.get_data(as_text=True))
    assert "Đã phát khẩn cấp bản tin KC-BAO9" in html
    assert "Lệnh đang chạy" in html and "Hủy lệnh" in html
    assert emergencies(sessions) == 1
    assert emergency_items(sessions) == 2 * 5  # two stations of Xã Ia Dêr, plays 05:00…09:00
    dashboard = text_of(client.get("/").get_data(as_text=True))
    assert "Đang phát khẩn cấp" in dashboard and "Cảnh báo bão số 9" in dashboard
    with sessions() as s:
        emergency_id = s.scalars(select(Emergency.id)).one()
    response = client.post(f"/khan-cap/{emergency_id}/huy", follow_redirects=True)
    assert f"Đã hủy lệnh khẩn cấp số {emergency_id}" in response.get_data(as_text=True)
    assert emergency_items(sessions) == 2  # the plays that already started stay in the record
    with sessions() as s:
        actions = set(s.scalars(select(AuditLog.action).where(AuditLog.entity == "emergency")))
        assert actions == {"emergency.start", "emergency.cancel"}
    assert "Không có lệnh khẩn cấp nào đang chạy" in text_of(client.get("/khan-cap/").get_data(as_text=True))


def test_posting_without_the_confirmation_airs_nothing(as_user: Callable[[str], FlaskClient], storm: int, sessions: sessionmaker[Session]) -> None:
    response = as_user("duyet").post(
        "/khan-cap/phat", data={"bulletin_id": str(storm), "targets": "*"}, follow_redirects=True
    )
    assert "Chưa xác nhận phát khẩn cấp" in response.get_data(as_text=True)
    assert emergencies(sessions) == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"targets": "Xã Không Tồn Tại"}, "«Xã Không Tồn Tại» không phải mã đài hay tên xã"),
        ({"targets": ""}, "Chưa chọn nơi phát"),
        ({"repeat_every_minutes": "60", "repeat_until": ""}, "cần giờ kết thúc"),
        ({"repeat_every_minutes": "", "repeat_until": "2026-11-23T09:00"}, "phải cho khoảng lặp"),
        ({"repeat_every_minutes": "2", "repeat_until": "2026-11-23T09:00"}, "quá ngắn"),
        ({"repeat_every_minutes": "60", "repeat_until": "2026-11-22T09:00"}, "đã qua"),
        ({"repeat_every_minutes": "sáu mươi"}, "không phải số nguyên"),
        ({"bulletin_id": "999999"}, "không có trong danh sách"),
    ],
)
def test_bad_emergency_input_is_explained_and_nothing_airs(
    as_user: Callable[[str], FlaskClient], storm: int, sessions: sessionmaker[Session], changes: dict[str, str], message: str
) -> None:
    data = {"bulletin_id": str(storm), "targets": "*", "confirmed": "co", **changes}
    for url in ("/khan-cap/xac-nhan", "/khan-cap/phat"):
        response = as_user("duyet").post(url, data=data)
        assert response.status_code == 400, url
        assert message in text_of(response.get_data(as_text=True)), url
    assert emergencies(sessions) == 0 and emergency_items(sessions) == 0


def test_a_draft_bulletin_cannot_be_broadcast(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], clock: FakeClock, media_dir: Path) -> None:
    draft = make_bulletin(
        sessions, clock(), code="KC-NHAP", priority="khan_cap", audio=make_asset(media_dir, clock(), sha="f" * 64)
    )
    response = as_user("duyet").post(
        "/khan-cap/phat", data={"bulletin_id": str(draft), "targets": "*", "confirmed": "co"}
    )
    assert response.status_code == 400
    assert emergencies(sessions) == 0
