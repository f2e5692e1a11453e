"""Phát khẩn cấp pages: typed words rendered at once, heard and confirmed before anything airs; the
tracking board; editors' requests released by an approver; hold, resume, cancel; operators' scope."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from web_pages import World, make_asset, make_bulletin, text_of

from scheduler.db.models import AudioAsset, AuditLog, Bulletin, Emergency, EmergencyStation, ProgrammeItem
from scheduler.domain import BulletinStatus
from tests.fake_clock import FakeClock

STORM_TEXT = "Bão số 9 đổ bộ lúc 17h30 ngày 23/11/2026. Bà con không ra khơi, gọi 0269 3823 456 khi cần."


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


def words(**changes: str) -> dict[str, str]:
    return {"source": "loi", "text": STORM_TEXT, "targets": "Xã Ia Dêr", "full_volume": "y",
            "expires_minutes": "15", **changes}


def test_form_offers_typed_words_first_and_only_emergency_bulletins(as_user: Callable[[str], FlaskClient], storm: int, sessions: sessionmaker[Session], clock: FakeClock,
                                                                    media_dir: Path) -> None:
    make_bulletin(sessions, clock(), code="BT-THUONG", title="Bản tin thường đã duyệt", status=BulletinStatus.APPROVED,
                  audio=make_asset(media_dir, clock(), sha="d" * 64))
    html = as_user("duyet").get("/khan-cap/").get_data(as_text=True)
    assert '<option selected value="loi">' in html  # typed words are the default, not a bulletin
    assert "KC-BAO9 — Cảnh báo bão số 9" in html
    assert "BT-THUONG" not in html  # an ordinary bulletin is never offered


def test_typed_words_are_rendered_at_once_and_shown_spoken_with_a_player(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session]) -> None:
    response = as_user("duyet").post("/khan-cap/xac-nhan", data=words(repeat_every_minutes="60",
                                                                       repeat_until="2026-11-23T09:00"))
    html = response.get_data(as_text=True)
    page = text_of(html)
    assert response.status_code == 200, page
    assert "Xác nhận phát khẩn cấp" in page
    # The normalizer's output: the time, the date and the hotline read aloud.
    assert "mười bảy giờ ba mươi" in page and "hai mươi ba tháng mười một" in page
    assert "không hai sáu chín" in page
    assert "2 đài" in page and "05:00 23/11, 06:00 23/11, 07:00 23/11, 08:00 23/11, 09:00 23/11" in page
    with sessions() as s:
        asset = s.scalars(select(AudioAsset)).one()
    assert f"/am-thanh/{asset.sha256}" in html and asset.engine == "espeak" and asset.duration_ms > 1000
    assert emergencies(sessions) == 0 and emergency_items(sessions) == 0  # nothing airs before the confirmation


def test_confirmed_words_start_at_once_and_the_board_tracks_every_station(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session]) -> None:
    client = as_user("duyet")
    confirm = client.post("/khan-cap/xac-nhan", data=words()).get_data(as_text=True)
    engine = confirm.split('name="engine" value="')[1].split('"')[0]
    response = client.post("/khan-cap/phat", data=words(confirmed="co", engine=engine), follow_redirects=True)
    page = text_of(response.get_data(as_text=True))
    assert "Đã ra lệnh phát khẩn cấp số" in page and "Đã phát khẩn cấp" not in page  # nothing aired yet
    assert "0/2 đài đã phát" in page and "IADER-01" in page and "IADER-02" in page and "CHUPUH-01" not in page
    with sessions() as s:
        emergency = s.scalars(select(Emergency)).one()
        bulletin = s.get_one(Bulletin, emergency.bulletin_id)
        assert (bulletin.priority, bulletin.status, bulletin.text) == ("khan_cap", "da_duyet", STORM_TEXT)
        assert emergency.state == "dang_chay" and emergency.full_volume and emergency.expires_minutes == 15
        rows = s.scalars(select(EmergencyStation).order_by(EmergencyStation.station_code)).all()
        assert [(r.station_code, r.state) for r in rows] == [("IADER-01", "cho_gui"), ("IADER-02", "cho_gui")]
    assert emergency_items(sessions) == 2
    board = client.get(f"/khan-cap/{emergency.id}/bang.json").get_json()
    assert board["headline"] == "0/2 đài đã phát" and board["counts"]["cho_gui"] == 2
    assert [r["station"] for r in board["rows"]] == ["IADER-01", "IADER-02"]


def test_the_board_exports_as_csv_without_formulas(as_user: Callable[[str], FlaskClient], storm: int, sessions: sessionmaker[Session]) -> None:
    client = as_user("duyet")
    client.post("/khan-cap/phat", data={"source": "ban-tin", "bulletin_id": str(storm), "targets": "*",
                                        "confirmed": "co", "expires_minutes": "15"})
    with sessions() as s:
        emergency_id = s.scalars(select(Emergency.id)).one()
        row = s.scalars(select(EmergencyStation).where(EmergencyStation.station_code == "IADER-01")).one()
        row.reason = "=HYPERLINK(\"http://x\")"
        s.commit()
    response = client.get(f"/khan-cap/{emergency_id}/bang.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0][1] == "0/3 đài đã phát"
    assert rows[1][:4] == ["Mã đài", "Tên đài", "Xã", "Trạng thái"]
    assert sorted(r[0] for r in rows[2:]) == ["CHUPUH-01", "IADER-01", "IADER-02"]
    assert any(r[-1] == "'=HYPERLINK(\"http://x\")" for r in rows[2:])


def test_an_editors_order_waits_and_an_approver_releases_it_with_one_click(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session]) -> None:
    editor = as_user("bientap")
    confirm = editor.post("/khan-cap/xac-nhan", data=words())
    assert "Gửi yêu cầu phát" in confirm.get_data(as_text=True)
    engine = confirm.get_data(as_text=True).split('name="engine" value="')[1].split('"')[0]
    response = editor.post("/khan-cap/phat", data=words(confirmed="co", engine=engine), follow_redirects=True)
    assert "chờ người duyệt cho phát" in text_of(response.get_data(as_text=True))
    assert emergency_items(sessions) == 0  # nothing in any programme yet
    with sessions() as s:
        emergency = s.scalars(select(Emergency)).one()
        assert emergency.state == "cho_duyet"
        assert s.get_one(Bulletin, emergency.bulletin_id).status == "cho_duyet"
    assert editor.post(f"/khan-cap/{emergency.id}/cho-phat").status_code == 403  # editors cannot release
    approver = as_user("duyet")
    assert "Chờ duyệt cho phát" in text_of(approver.get("/khan-cap/").get_data(as_text=True))
    response = approver.post(f"/khan-cap/{emergency.id}/cho-phat", follow_redirects=True)
    assert f"Đã cho phát lệnh khẩn cấp số {emergency.id} tới 2 đài" in text_of(response.get_data(as_text=True))
    assert emergency_items(sessions) == 2
    with sessions() as s:
        released = s.get_one(Emergency, emergency.id)
        assert released.state == "dang_chay" and released.released_by_id is not None
        assert s.get_one(Bulletin, released.bulletin_id).status == "da_duyet"
        actions = list(s.scalars(select(AuditLog.action).where(AuditLog.entity == "emergency").order_by(AuditLog.id)))
        assert actions == ["emergency.request", "emergency.release"]


def test_hold_resume_and_cancel_from_the_board_are_audited(as_user: Callable[[str], FlaskClient], storm: int, sessions: sessionmaker[Session]) -> None:
    client = as_user("duyet")
    client.post("/khan-cap/phat", data={"source": "ban-tin", "bulletin_id": str(storm), "targets": "Xã Ia Dêr",
                                        "repeat_every_minutes": "60", "repeat_until": "2026-11-23T09:00",
                                        "confirmed": "co", "expires_minutes": "15"})
    with sessions() as s:
        emergency_id = s.scalars(select(Emergency.id)).one()
    assert emergency_items(sessions) == 2 * 5
    page = text_of(client.post(f"/khan-cap/{emergency_id}/tam-dung", follow_redirects=True).get_data(as_text=True))
    assert "Đã tạm dừng" in page and "Tạm dừng" in page and "Tiếp tục" in page
    assert emergency_items(sessions) == 2  # the repeats left the programmes; the first play stays on record
    page = text_of(client.post(f"/khan-cap/{emergency_id}/tiep-tuc", follow_redirects=True).get_data(as_text=True))
    assert "Đã tiếp tục" in page and "2 đài chưa phát sẽ phát ngay" in page
    assert emergency_items(sessions) == 2 + 2 + 2 * 4  # one play now on each, and the four repeats back
    page = text_of(client.post(f"/khan-cap/{emergency_id}/huy", follow_redirects=True).get_data(as_text=True))
    assert f"Đã hủy lệnh khẩn cấp số {emergency_id}" in page
    with sessions() as s:
        actions = list(s.scalars(select(AuditLog.action).where(AuditLog.entity == "emergency").order_by(AuditLog.id)))
        assert actions == ["emergency.start", "emergency.hold", "emergency.resume", "emergency.cancel"]
        assert s.get_one(Emergency, emergency_id).state == "da_huy"
    assert "Không có lệnh khẩn cấp nào đang chạy" in text_of(client.get("/khan-cap/").get_data(as_text=True))


def test_operators_see_only_emergencies_aimed_at_their_commune(as_user: Callable[[str], FlaskClient], storm: int, sessions: sessionmaker[Session]) -> None:
    as_user("duyet").post("/khan-cap/phat", data={"source": "ban-tin", "bulletin_id": str(storm),
                                                  "targets": "CHUPUH-01", "confirmed": "co", "expires_minutes": "15"})
    with sessions() as s:
        emergency_id = s.scalars(select(Emergency.id)).one()
    ia_der = as_user("vanhanh")
    assert "Cảnh báo bão số 9" not in text_of(ia_der.get("/khan-cap/").get_data(as_text=True))
    assert "Cảnh báo bão số 9" not in text_of(ia_der.get("/").get_data(as_text=True))
    assert ia_der.get(f"/khan-cap/{emergency_id}").status_code == 404
    assert ia_der.get(f"/khan-cap/{emergency_id}/bang.json").status_code == 404
    chu_puh = as_user("vanhanh_cp")
    assert "Cảnh báo bão số 9" in text_of(chu_puh.get("/khan-cap/").get_data(as_text=True))
    dashboard = text_of(chu_puh.get("/").get_data(as_text=True))
    assert "Lệnh khẩn cấp đang chạy" in dashboard and "0/1 đài đã phát" in dashboard
    assert chu_puh.post(f"/khan-cap/{emergency_id}/huy").status_code == 403


def test_an_operator_sees_only_their_communes_rows_of_a_board(as_user: Callable[[str], FlaskClient], storm: int, sessions: sessionmaker[Session]) -> None:
    as_user("duyet").post("/khan-cap/phat", data={"source": "ban-tin", "bulletin_id": str(storm), "targets": "*",
                                                  "confirmed": "co", "expires_minutes": "15"})
    with sessions() as s:
        emergency_id = s.scalars(select(Emergency.id)).one()
    board = as_user("vanhanh").get(f"/khan-cap/{emergency_id}/bang.json").get_json()
    assert [r["station"] for r in board["rows"]] == ["IADER-01", "IADER-02"] and board["total"] == 2


def test_posting_without_the_confirmation_airs_nothing(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session]) -> None:
    response = as_user("duyet").post("/khan-cap/phat", data=words(), follow_redirects=True)
    assert "Chưa xác nhận phát khẩn cấp" in response.get_data(as_text=True)
    assert emergencies(sessions) == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"targets": "Xã Không Tồn Tại"}, "«Xã Không Tồn Tại» không phải mã đài, tên xã"),
        ({"targets": ""}, "Chưa chọn nơi phát"),
        ({"text": ""}, "Chưa có nội dung"),
        ({"repeat_every_minutes": "60", "repeat_until": ""}, "cần giờ kết thúc"),
        ({"repeat_every_minutes": "", "repeat_until": "2026-11-23T09:00"}, "phải cho khoảng lặp"),
        ({"repeat_every_minutes": "2", "repeat_until": "2026-11-23T09:00"}, "quá ngắn"),
        ({"repeat_every_minutes": "60", "repeat_until": "2026-11-22T09:00"}, "đã qua"),
        ({"repeat_every_minutes": "sáu mươi"}, "không phải số nguyên"),
        ({"expires_minutes": "0"}, "Thời hạn nhận lệnh 0 phút không hợp lệ"),
        ({"source": "ban-tin", "bulletin_id": "999999"}, "không có trong danh sách"),
        ({"source": "ghi-am"}, "Chưa có tệp ghi âm"),
    ],
)
def test_bad_emergency_input_is_explained_and_nothing_airs(
    as_user: Callable[[str], FlaskClient], storm: int, sessions: sessionmaker[Session], changes: dict[str, str], message: str
) -> None:
    data = words(confirmed="co", **changes)
    for url in ("/khan-cap/xac-nhan", "/khan-cap/phat"):
        response = as_user("duyet").post(url, data=data)
        assert response.status_code == 400, url
        assert message in text_of(response.get_data(as_text=True)), url
    assert emergencies(sessions) == 0 and emergency_items(sessions) == 0


def test_an_ordinary_or_draft_bulletin_cannot_be_broadcast(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], clock: FakeClock, media_dir: Path) -> None:
    draft = make_bulletin(
        sessions, clock(), code="KC-NHAP", priority="khan_cap", audio=make_asset(media_dir, clock(), sha="f" * 64)
    )
    response = as_user("duyet").post(
        "/khan-cap/phat", data={"source": "ban-tin", "bulletin_id": str(draft), "targets": "*", "confirmed": "co"}
    )
    assert response.status_code == 400
    assert emergencies(sessions) == 0


def test_a_commune_approver_acts_only_inside_the_commune(as_user: Callable[[str], FlaskClient], storm: int, sessions: sessionmaker[Session], world: World, password_hash: str,
                                                        clock: FakeClock) -> None:
    from scheduler.db.models import User

    with sessions() as s:
        s.add(User(username="duyet_cp", full_name="Duyệt Chư Pưh", role="approver", password_hash=password_hash,
                   commune_id=world.communes["Xã Chư Pưh"], created_at=clock()))
        s.commit()
    commune_approver = as_user("duyet_cp")
    outside = commune_approver.post("/khan-cap/xac-nhan", data=words(targets="Xã Ia Dêr"))
    assert outside.status_code == 400
    assert "ngoài phạm vi của bạn (Xã Chư Pưh): IADER-01, IADER-02" in text_of(outside.get_data(as_text=True))
    assert commune_approver.post("/khan-cap/xac-nhan", data=words(targets="CHUPUH-01")).status_code == 200
    # A province-wide emergency: the commune approver sees it and its own station only, and cannot stop it.
    as_user("duyet").post("/khan-cap/phat", data={"source": "ban-tin", "bulletin_id": str(storm), "targets": "*",
                                                  "confirmed": "co", "expires_minutes": "15"})
    with sessions() as s:
        emergency_id = s.scalars(select(Emergency.id)).one()
    board = commune_approver.get(f"/khan-cap/{emergency_id}/bang.json").get_json()
    assert [r["station"] for r in board["rows"]] == ["CHUPUH-01"]
    refused = commune_approver.post(f"/khan-cap/{emergency_id}/huy", follow_redirects=True)
    assert "ngoài phạm vi" in text_of(refused.get_data(as_text=True))
    with sessions() as s:
        assert s.get_one(Emergency, emergency_id).state == "dang_chay"


def test_the_dashboard_lists_pending_emergencies_in_scope_and_offers_release_to_approvers(
        as_user: Callable[[str], FlaskClient], storm: int, sessions: sessionmaker[Session], clock: FakeClock) -> None:
    from scheduler.db.models import User
    from scheduler.emergencies import RepeatRule, request_emergency

    with sessions.begin() as s:
        bulletin = s.get_one(Bulletin, storm)
        editor, approver = (s.scalars(select(User).where(User.username == name)).one() for name in ("bientap", "duyet"))
        asked = request_emergency(s, bulletin, ["Xã Ia Dêr"], RepeatRule(), editor, clock())
        cap = request_emergency(s, bulletin, ["CHUPUH-01"], RepeatRule(), None, clock(), origin="cap")
        own = request_emergency(s, bulletin, ["IADER-02"], RepeatRule(), approver, clock())
        ids = {"asked": asked.id, "cap": cap.id, "own": own.id}

    def pending(username: str) -> tuple[set[int], set[int]]:
        """Pending emergencies on the user's dashboard: those linked to their board, those with a release button."""
        html = as_user(username).get("/").get_data(as_text=True)
        card = html[html.index('id="em-wait-h"'):html.index("</section>", html.index('id="em-wait-h"'))] \
            if 'id="em-wait-h"' in html else ""
        linked = {i for i in ids.values() if f'href="/khan-cap/{i}"' in card}
        releasable = {i for i in ids.values() if f'action="/khan-cap/{i}/cho-phat"' in card}
        return linked, releasable

    everything = set(ids.values())
    assert pending("duyet") == (everything, {ids["asked"], ids["cap"]})  # never their own request
    assert pending("duyet2") == (everything, everything)
    assert pending("bientap") == (everything, set())  # editors ask, they do not release
    assert pending("vanhanh") == ({ids["asked"], ids["own"]}, set())  # an operator: their commune's only
    assert pending("vanhanh_cp") == ({ids["cap"]}, set())
    page = text_of(as_user("duyet").get("/").get_data(as_text=True))
    assert f"Lệnh số {ids['cap']}: Cảnh báo bão số 9 Cảnh báo CAP nơi phát: CHUPUH-01" in page

    released = as_user("duyet2").post(f"/khan-cap/{ids['asked']}/cho-phat", follow_redirects=True)
    assert f"Đã cho phát lệnh khẩn cấp số {ids['asked']} tới 2 đài" in text_of(released.get_data(as_text=True))
    assert pending("duyet2") == ({ids["cap"], ids["own"]}, {ids["cap"], ids["own"]})
    running = text_of(as_user("duyet2").get("/").get_data(as_text=True))
    assert f"Lệnh khẩn cấp đang chạy Lệnh số {ids['asked']}" in running


def test_operators_hear_only_audio_used_inside_their_commune(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session],
                                                              clock: FakeClock, media_dir: Path) -> None:
    flood = make_bulletin(sessions, clock(), code="KC-LU", title="Lũ quét Chư Păh", priority="khan_cap", targets=("CHUPUH-01",),
                          status=BulletinStatus.APPROVED, audio=make_asset(media_dir, clock(), sha="f" * 64))
    url = f"/am-thanh/{'f' * 64}"
    assert as_user("vanhanh_cp").get(url).status_code == 200  # the bulletin is aimed at their station
    assert as_user("vanhanh").get(url).status_code == 404  # Ia Dêr: another commune's sound
    assert as_user("duyet").get(url).status_code == 200  # province-wide
    as_user("duyet").post("/khan-cap/phat", data={"source": "ban-tin", "bulletin_id": str(flood), "targets": "IADER-01",
                                                  "confirmed": "co", "expires_minutes": "15"})
    assert emergencies(sessions) == 1
    assert as_user("vanhanh").get(url).status_code == 200  # now an emergency aimed at Ia Dêr plays it


def test_places_ticked_in_the_picker_join_the_typed_ones_and_a_commune_account_is_offered_only_its_commune(
        as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], world: World, password_hash: str,
        clock: FakeClock) -> None:
    from scheduler.db.models import User

    approver = as_user("duyet")
    form = approver.get("/khan-cap/").get_data(as_text=True)
    assert "Chọn nơi phát từ danh sách" in form
    assert 'name="noi_phat" value="*"' in form and 'value="Xã Ia Dêr"' in form and 'value="Xã Chư Pưh"' in form
    # Ticked only (nothing typed): the order goes to both communes' stations.
    confirm = approver.post("/khan-cap/xac-nhan", data={**words(targets=""), "noi_phat": ["Xã Chư Pưh", "Xã Ia Dêr"]})
    page = text_of(confirm.get_data(as_text=True))
    assert confirm.status_code == 200, page
    assert "Xã Chư Pưh; Xã Ia Dêr — 3 đài" in page
    # Typed and ticked together, a place in both counted once.
    both = approver.post("/khan-cap/xac-nhan", data={**words(targets="Xã Ia Dêr"), "noi_phat": ["Xã Ia Dêr"]})
    assert "Nơi phát Xã Ia Dêr — 2 đài" in text_of(both.get_data(as_text=True))
    assert emergencies(sessions) == 0  # nothing airs before the confirmation

    with sessions() as s:
        s.add(User(username="duyet_cp", full_name="Duyệt Chư Pưh", role="approver", password_hash=password_hash,
                   commune_id=world.communes["Xã Chư Pưh"], created_at=clock()))
        s.commit()
    own = as_user("duyet_cp").get("/khan-cap/").get_data(as_text=True)
    assert 'value="Xã Chư Pưh"' in own and 'value="Xã Ia Dêr"' not in own and 'value="*"' not in own
