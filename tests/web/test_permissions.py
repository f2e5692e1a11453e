"""Every page for every role: who may see it, who may act, and operators confined to their commune."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from web_pages import World, give_audio, make_asset, make_bulletin

from scheduler.db.models import Bulletin
from scheduler.db.session import transaction
from scheduler.domain import BulletinStatus
from scheduler.settings import Settings
from tests.fake_clock import FakeClock

ALL = {"quantri", "bientap", "duyet", "vanhanh", "xem"}
OFFICE = {"quantri", "bientap", "duyet"}

# url -> who gets 200 (the rest of ALL get 403, or 404 where noted in the test)
PAGES: dict[str, set[str]] = {
    "/": ALL,
    "/hom-nay/": ALL,
    "/hom-nay/?dai=IADER-01": ALL,
    "/ban-tin/": OFFICE,
    "/ban-tin/moi": {"quantri", "bientap"},
    "/ban-tin/{bulletin}": OFFICE,
    "/ban-tin/{bulletin}/sua": {"quantri", "bientap"},
    "/lich-phat/": {"quantri", "bientap", "duyet", "vanhanh"},
    "/lich-phat/?dai=IADER-01": {"quantri", "bientap", "duyet", "vanhanh"},
    "/lich-phat/?xa={commune}": {"quantri", "bientap", "duyet", "vanhanh"},
    "/dai/": {"quantri", "bientap", "duyet", "vanhanh"},
    "/dai/IADER-01": {"quantri", "bientap", "duyet", "vanhanh"},
    "/khan-cap/": {"quantri", "bientap", "duyet", "vanhanh"},
    "/canh-bao/": {"quantri", "duyet", "vanhanh"},
    "/nhat-ky/": {"quantri", "duyet"},
    "/nguoi-dung/": {"quantri"},
    "/nguoi-dung/{user}": {"quantri"},
    "/am-thanh/{sha}": ALL,
}


@pytest.fixture
def bulletin_id(sessions: sessionmaker[Session], clock: FakeClock, media_dir: Path) -> int:
    made: int = make_bulletin(sessions, clock(), status=BulletinStatus.SUBMITTED, audio=make_asset(media_dir, clock()))
    return made


@pytest.mark.parametrize("username", sorted(ALL))
def test_each_role_sees_exactly_its_pages(as_user: Callable[[str], FlaskClient], world: World, bulletin_id: int, username: str) -> None:
    client = as_user(username)
    values = {
        "bulletin": bulletin_id, "commune": world.communes["Xã Ia Dêr"], "user": world.users["bientap"],
        "sha": "a" * 64,
    }  # fmt: skip
    for template, allowed in PAGES.items():
        url = template.format(**values)
        status = client.get(url).status_code
        expected = 200 if username in allowed else 403
        assert status == expected, f"{username} {url}: {status} != {expected}"


def test_operator_cannot_see_another_communes_station_schedule_or_token(as_user: Callable[[str], FlaskClient], world: World) -> None:
    other = as_user("vanhanh_cp")  # operator of Xã Chư Pưh
    assert other.get("/dai/IADER-01").status_code == 404
    assert other.get("/lich-phat/?dai=IADER-01").status_code == 404
    assert other.get(f"/lich-phat/?xa={world.communes['Xã Ia Dêr']}").status_code == 404
    assert other.post("/dai/IADER-01/cap-ma").status_code == 404
    assert other.get("/dai/CHUPUH-01").status_code == 200


def test_operator_station_list_shows_only_their_commune(as_user: Callable[[str], FlaskClient]) -> None:
    page = as_user("vanhanh").get("/dai/").get_data(as_text=True)
    assert "IADER-01" in page and "IADER-02" in page
    assert "CHUPUH-01" not in page


def test_operator_schedule_page_opens_on_their_own_commune(as_user: Callable[[str], FlaskClient]) -> None:
    page = as_user("vanhanh").get("/lich-phat/").get_data(as_text=True)
    assert "Lịch phát · Xã Ia Dêr" in page
    assert "CHUPUH-01" not in page


def test_menu_lists_only_what_the_role_may_open(as_user: Callable[[str], FlaskClient]) -> None:
    viewer = as_user("xem").get("/").get_data(as_text=True)
    assert "Tổng quan" in viewer
    for hidden in ("Bản tin</a>", "Lịch phát</a>", "Nhật ký</a>", "Người dùng</a>"):
        assert hidden not in viewer
    admin = as_user("quantri").get("/").get_data(as_text=True)
    for shown in (
        "Bản tin</a>",
        "Lịch phát</a>",
        "Đài và cụm loa</a>",
        "Phát khẩn cấp</a>",
        "Nhật ký</a>",
        "Người dùng</a>",
    ):
        assert shown in admin


def test_editor_cannot_approve(as_user: Callable[[str], FlaskClient], bulletin_id: int, sessions: sessionmaker[Session]) -> None:
    response = as_user("bientap2").post(f"/ban-tin/{bulletin_id}/duyet", data={"comment": "ok"})
    assert response.status_code == 403
    with sessions() as s:
        assert s.get(Bulletin, bulletin_id).status == BulletinStatus.SUBMITTED.value  # type: ignore[union-attr]


def test_approver_cannot_approve_their_own_bulletin(
    as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], clock: FakeClock, world: World,
    settings: Settings,
) -> None:
    bulletin_id = make_bulletin(sessions, clock(), author="duyet", status=BulletinStatus.SUBMITTED, code="BT-OWN")
    give_audio(sessions, bulletin_id, settings.media_dir, clock())
    assert as_user("duyet").post(f"/ban-tin/{bulletin_id}/duyet").status_code == 403
    with sessions() as s:
        assert s.get(Bulletin, bulletin_id).status == BulletinStatus.SUBMITTED.value  # type: ignore[union-attr]
    assert as_user("duyet2").post(f"/ban-tin/{bulletin_id}/duyet").status_code == 303
    with sessions() as s:
        assert s.get(Bulletin, bulletin_id).status == BulletinStatus.APPROVED.value  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("/ban-tin/moi", {"quantri", "bientap"}),
        ("/ban-tin/{bulletin}/gui-duyet", {"quantri", "bientap"}),
        ("/ban-tin/{bulletin}/tra-lai", {"quantri", "duyet"}),
        ("/lich-phat/lap-lai", {"quantri", "bientap"}),
        ("/dai/IADER-01/sua", {"quantri"}),
        ("/dai/IADER-01/cap-ma", {"quantri", "vanhanh"}),
        # Editors may ask for an emergency (it waits for an approver); only approvers and admins act on one.
        ("/khan-cap/xac-nhan", {"quantri", "duyet", "bientap"}),
        ("/khan-cap/phat", {"quantri", "duyet", "bientap"}),
        ("/khan-cap/1/cho-phat", {"quantri", "duyet"}),
        ("/khan-cap/1/tam-dung", {"quantri", "duyet"}),
        ("/khan-cap/1/tiep-tuc", {"quantri", "duyet"}),
        ("/khan-cap/1/huy", {"quantri", "duyet"}),
        ("/nguoi-dung/moi", {"quantri"}),
    ],
)
def test_actions_are_refused_with_403_for_roles_without_the_right(
    as_user: Callable[[str], FlaskClient], bulletin_id: int, url: str, allowed: set[str]
) -> None:
    for username in sorted(ALL):
        status = as_user(username).post(url.format(bulletin=bulletin_id), data={}).status_code
        if username in allowed:
            assert status != 403, f"{username} {url}"
        else:
            assert status == 403, f"{username} {url}: {status}"


def test_viewer_cannot_archive_a_bulletin(as_user: Callable[[str], FlaskClient], bulletin_id: int, sessions: sessionmaker[Session]) -> None:
    assert as_user("xem").post(f"/ban-tin/{bulletin_id}/luu-tru").status_code == 403
    with transaction(sessions) as s:
        assert s.scalar(select(Bulletin.status).where(Bulletin.id == bulletin_id)) == BulletinStatus.SUBMITTED.value
