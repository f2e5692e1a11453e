"""Đài và cụm loa pages: status and last contact, filters, windows and languages, token rotation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from web_pages import text_of

from scheduler.accounts import station_for_token
from scheduler.db.models import AuditLog, Programme, Station
from tests.fake_clock import FakeClock


def _touch(sessions: sessionmaker[Session], code: str, **times: object) -> None:
    with sessions.begin() as s:
        station = s.scalars(select(Station).where(Station.code == code)).one()
        for key, value in times.items():
            setattr(station, key, value)


def test_list_shows_online_offline_and_last_contact_per_kind(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], clock: FakeClock) -> None:
    now = clock()
    _touch(
        sessions,
        "IADER-01",
        last_status_at=now - timedelta(minutes=2),
        last_manifest_at=now - timedelta(hours=3),
        last_log_at=now - timedelta(days=2),
    )
    _touch(sessions, "IADER-02", last_status_at=now - timedelta(hours=5))
    html = as_user("bientap").get("/dai/").get_data(as_text=True)
    row1 = text_of(html.split('href="/dai/IADER-01"', 1)[1].split("</tr>", 1)[0])
    assert "Trực tuyến" in row1 and "2 phút trước" in row1 and "3 giờ trước" in row1 and "2 ngày trước" in row1
    row2 = text_of(html.split('href="/dai/IADER-02"', 1)[1].split("</tr>", 1)[0])
    assert "Mất kết nối" in row2 and "5 giờ trước" in row2 and "chưa liên lạc" in row2


def test_status_filter_splits_online_from_offline(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], clock: FakeClock) -> None:
    _touch(sessions, "IADER-01", last_log_at=clock() - timedelta(minutes=1))
    client = as_user("quantri")
    online = client.get("/dai/?trang_thai=truc_tuyen").get_data(as_text=True)
    offline = client.get("/dai/?trang_thai=mat_ket_noi").get_data(as_text=True)
    assert "IADER-01" in online and "IADER-02" not in online and "CHUPUH-01" not in online
    assert "IADER-01" not in offline and "IADER-02" in offline and "CHUPUH-01" in offline
    by_commune = client.get("/dai/?xa=Chư").get_data(as_text=True)
    assert "CHUPUH-01" in by_commune and "IADER-01" not in by_commune


def test_delivered_version_is_shown_against_the_latest(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], clock: FakeClock) -> None:
    with sessions.begin() as s:
        station = s.scalars(select(Station).where(Station.code == "IADER-01")).one()
        s.add(Programme(station=station, week="2026-W48", version=4, acked_version=3, built_at=clock()))
    html = as_user("quantri").get("/dai/").get_data(as_text=True)
    row = text_of(html.split('href="/dai/IADER-01"', 1)[1].split("</tr>", 1)[0])
    assert "đã nhận v3 / mới nhất v4" in row and "chưa nhận" in row


def test_admin_edits_windows_and_languages_and_it_is_audited(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session]) -> None:
    response = as_user("quantri").post(
        "/dai/IADER-01/sua",
        data={
            "name": "Cụm loa thôn Plei Ia Dêr",
            "languages": ["vi", "jra"],
            "speakers": "6",
            "active": "y",
            "windows": "T2-T6 05:30-06:00; T2-T6 17:00-17:30; T2-T6 17:00-17:07 lang=jra",
        },
        follow_redirects=True,
    )
    assert "Đã lưu đài IADER-01" in response.get_data(as_text=True)
    with sessions() as s:
        station = s.scalars(select(Station).where(Station.code == "IADER-01")).one()
        assert station.languages == "vi;jra" and station.speakers == 6
        assert station.windows.startswith("T2-T6 05:30-06:00")
        log = s.scalars(select(AuditLog).where(AuditLog.action == "station.update")).one()
        assert log.before is not None and log.before["windows"] == ""
        assert log.after is not None and "lang=jra" in log.after["windows"]


def test_overlapping_windows_are_refused_beside_the_field_and_nothing_changes(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session]) -> None:
    response = as_user("quantri").post(
        "/dai/IADER-01/sua",
        data={
            "name": "Tên mới",
            "languages": ["vi"],
            "speakers": "3",
            "active": "y",
            "windows": "T2-CN 05:30-06:00; T2 05:45-06:15",
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    block = text_of(html.split('name="windows"', 1)[1].split('<div class="field', 1)[0])
    assert "trùng giờ" in block
    with sessions() as s:
        station = s.scalars(select(Station).where(Station.code == "IADER-01")).one()
        assert station.name == "Cụm loa thôn Plei Ia Dêr" and station.windows == ""
        assert s.scalars(select(AuditLog).where(AuditLog.action == "station.update")).first() is None


def test_unparseable_windows_and_unknown_language_are_explained(as_user: Callable[[str], FlaskClient]) -> None:
    response = as_user("quantri").post(
        "/dai/IADER-01/sua",
        data={"name": "X", "languages": ["xx"], "speakers": "mười", "windows": "T9 05:30-06:00"},
    )
    html = text_of(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "ngày «T9» không hợp lệ" in html
    assert "«xx» không có trong danh sách" in html
    assert "«mười» không phải số nguyên" in html


def test_token_rotation_shows_the_new_token_once_and_it_works(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session]) -> None:
    client = as_user("vanhanh")
    response = client.post("/dai/IADER-01/cap-ma")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    token = response.get_data(as_text=True).split('<code class="token" id="new-token">', 1)[1].split("</code>")[0]
    assert len(token) > 30
    with sessions() as s:
        station = station_for_token(s, token)
        assert station is not None and station.code == "IADER-01"
        log = s.scalars(select(AuditLog).where(AuditLog.action == "station.token")).one()
        assert token not in str(log.before) + str(log.after)
    assert token not in client.get("/dai/IADER-01").get_data(as_text=True)
    # Rotating again revokes it.
    client.post("/dai/IADER-01/cap-ma")
    with sessions() as s:
        assert station_for_token(s, token) is None


def test_station_page_lists_its_inherited_windows(as_user: Callable[[str], FlaskClient]) -> None:
    html = text_of(as_user("vanhanh").get("/dai/IADER-01").get_data(as_text=True))
    assert "dùng khung giờ của xã/tỉnh" in html
    assert "05:30–06:30" in html and "17:00–18:00" in html


def test_station_page_says_when_the_box_holds_play_log_rows_the_server_refused(
        as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session]) -> None:
    client = as_user("quantri")
    assert "bản ghi nhật ký phát" not in text_of(client.get("/dai/IADER-01").get_data(as_text=True))
    _touch(sessions, "IADER-01", status={"outbox": 3, "plays_set_aside": 2})
    page = text_of(client.get("/dai/IADER-01").get_data(as_text=True))
    assert "Đầu thu đang giữ riêng 2 bản ghi nhật ký phát mà máy chủ từ chối" in page


def test_station_page_shows_a_failed_stream_the_box_reported(as_user: Callable[[str], FlaskClient],
                                                             sessions: sessionmaker[Session], clock: FakeClock) -> None:
    page = as_user("vanhanh").get("/dai/IADER-01").get_data(as_text=True)
    assert 'id="stream-fault"' not in page
    since = clock().isoformat()
    _touch(sessions, "IADER-01", status={"state": "online", "stream_fault": {
        "title": "Tiếp sóng VOV1", "reason": "Luồng chỉ có im lặng 20 giây", "since": since,
        "retry_at": (clock() + timedelta(seconds=30)).isoformat(), "failures": 2}})
    page = as_user("vanhanh").get("/dai/IADER-01").get_data(as_text=True)
    banner = text_of(page.split('id="stream-fault"', 1)[1].split("</p>", 1)[0])
    assert "Luồng «Tiếp sóng VOV1» hỏng" in banner and "Luồng chỉ có im lặng 20 giây" in banner
    assert "đã hỏng 2 lần" in banner


def test_station_page_says_the_box_is_full_dang_day_bo_nho(as_user: Callable[[str], FlaskClient],
                                                          sessions: sessionmaker[Session], clock: FakeClock) -> None:
    client = as_user("vanhanh")
    _touch(sessions, "IADER-01", status={"storage": {"state": "ok"}, "disk_free_mb": 900})
    assert "đầy bộ nhớ" not in text_of(client.get("/dai/IADER-01").get_data(as_text=True))
    _touch(sessions, "IADER-01", status={"storage": {"state": "full", "label": "đầy bộ nhớ",
                                                     "since": clock().isoformat()}, "disk_free_mb": 0})
    page = text_of(client.get("/dai/IADER-01").get_data(as_text=True))
    assert "Đầu thu đầy bộ nhớ từ 05:00 ngày 23/11/2026: vẫn phát âm thanh đang có" in page


STATIONS_CSV = (
    "code,name,commune,area,province,languages,windows,lat,lon,speakers\n"
    "IADER-01,Cụm loa thôn Plei Ia Dêr,Xã Ia Dêr,,Gia Lai,vi;jra,,13.98,108.0,6\n"
    "IAKHAI-01,Cụm loa làng Khai,Xã Ia Khai,,Gia Lai,vi,T2-CN 05:30-06:00,,,3\n"
)


def test_an_admin_imports_stations_from_a_file_and_a_bad_row_stores_nothing(
        as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session]) -> None:
    import io

    admin = as_user("quantri")
    assert "Nhập danh sách đài từ tệp CSV hoặc Excel" in admin.get("/dai/").get_data(as_text=True)
    form = admin.get("/dai/nhap").get_data(as_text=True)
    assert "code, name, commune, area, province, languages, windows, lat, lon, speakers" in form

    bad = STATIONS_CSV + "IAKHAI-02,,Xã Ia Khai,,Gia Lai,vi,T9 25:00-26:00,,,x\n"
    answer = admin.post("/dai/nhap", data={"tep": (io.BytesIO(bad.encode()), "dai.csv")},
                        content_type="multipart/form-data")
    page = text_of(answer.get_data(as_text=True))
    assert answer.status_code == 400 and "Không nhập gì từ dai.csv vì có lỗi" in page and "Dòng 4" in page
    with sessions() as s:  # not even the good rows
        assert s.scalar(select(Station).where(Station.code == "IAKHAI-01")) is None

    done = admin.post("/dai/nhap", data={"tep": (io.BytesIO(STATIONS_CSV.encode("utf-8-sig")), "dai.csv")},
                      content_type="multipart/form-data", follow_redirects=True)
    assert "Đã nhập từ dai.csv: 1 đài mới, cập nhật 1 đài, 0 đài không đổi." in done.get_data(as_text=True)
    with sessions() as s:
        new = s.scalars(select(Station).where(Station.code == "IAKHAI-01")).one()
        assert (new.name, new.commune.name, new.speakers) == ("Cụm loa làng Khai", "Xã Ia Khai", 3)
        assert s.scalars(select(Station).where(Station.code == "IADER-01")).one().speakers == 6
        log = s.scalars(select(AuditLog).where(AuditLog.action == "station.import")).one()
        assert log.after == {"codes": ["IADER-01", "IAKHAI-01"]}

    for data, expected in (({}, "Chưa chọn tệp"),
                           ({"tep": (io.BytesIO(b"\xff\xfe\x00binary"), "dai.csv")}, "không phải văn bản UTF-8"),
                           ({"tep": (io.BytesIO(b"PK\x03\x04broken"), "dai.xlsx")}, "lưu lại dạng .xlsx")):
        refused = admin.post("/dai/nhap", data=data, content_type="multipart/form-data")
        assert refused.status_code == 400 and expected in refused.get_data(as_text=True)


def test_only_an_administrator_may_import_stations(as_user: Callable[[str], FlaskClient]) -> None:
    import io

    operator = as_user("vanhanh")
    assert "Nhập danh sách đài từ tệp" not in operator.get("/dai/").get_data(as_text=True)
    assert operator.get("/dai/nhap").status_code == 403
    answer = operator.post("/dai/nhap", data={"tep": (io.BytesIO(STATIONS_CSV.encode()), "dai.csv")},
                           content_type="multipart/form-data")
    assert answer.status_code == 403
