"""Hôm nay: the operator's day on the admin site — states, one-tap answers, M3U with signed links, ZIP, MP3."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from web_pages import login, make_asset, text_of

from scheduler.db.models import AuditLog, PlayLog, Programme, ProgrammeItem, Station
from tests.fake_clock import FakeClock

Client = Callable[[str], FlaskClient]


@pytest.fixture
def day(sessions: sessionmaker[Session], clock: FakeClock, media_dir: Path) -> dict[str, int]:
    """IADER-01's Monday (05:30 and 06:00) and Tuesday; one CHUPUH-01 item; then the clock moves to 06:30."""
    now = clock()  # Monday 05:00 local
    with sessions.begin() as s:
        asset = make_asset(media_dir, now, duration_ms=120_000)
        s.add(asset)
        ids = {}
        for code, specs in {
            "IADER-01": [("Tin một cửa", 30), ("Tin tiêm chủng", 60), ("Tin ngày mai", 24 * 60 + 30)],
            "CHUPUH-01": [("Tin Chư Pưh", 30)],
        }.items():
            station = s.scalars(select(Station).where(Station.code == code)).one()
            programme = Programme(station=station, week="2026-W48", version=1, built_at=now)
            s.add(programme)
            for title, minutes in specs:
                start = now + timedelta(minutes=minutes)
                item = ProgrammeItem(start=start, end=start + timedelta(minutes=2), kind="bulletin", title=title,
                                     audio_sha256=asset.sha256, duration_ms=120_000, bulletin_code="BT-1")
                programme.items.append(item)
        s.flush()
        ids = {i.title: i.id for i in s.scalars(select(ProgrammeItem))}
    clock.advance(minutes=90)
    return ids


def _states(html: str) -> dict[str, str]:
    """Item title -> the state label shown beside it."""
    found = {}
    for block in re.findall(r'<li id="muc-\d+".*?</li>', html, flags=re.S):
        text = text_of(block)
        title = re.search(r"(Tin [^\s].*?) Bản tin", text)
        badge = re.search(r'class="badge item-[a-z_]+">([^<]+)<', block)
        assert title and badge, text
        found[title.group(1)] = badge.group(1)
    return found


def _items(html: str) -> str:
    """The page's item rows, without the answer buttons' template the polling script copies from."""
    return "".join(re.findall(r'<li id="muc-\d+".*?</li>', html, flags=re.S))


def test_operator_lands_on_their_day_today_first_with_states(client: FlaskClient, day: dict[str, int]) -> None:
    login(client, "vanhanh")  # lands on Hôm nay
    response = client.post("/dang-nhap", data={"username": "vanhanh", "password": "mat-khau-2026"})
    assert response.headers["Location"].endswith("/hom-nay/")
    html = client.get("/hom-nay/").get_data(as_text=True)
    text = text_of(html)
    assert text.index("Hôm nay · Thứ Hai 23/11/2026") < text.index("Ngày mai · Thứ Ba 24/11/2026")
    assert _states(html) == {"Tin một cửa": "Bỏ lỡ", "Tin tiêm chủng": "Bỏ lỡ", "Tin ngày mai": "Sắp phát"}
    assert "Tin Chư Pưh" not in html and "IADER-02" in html  # the whole commune, nothing beyond it
    assert _items(html).count(">Đã phát</button>") == 2  # only begun, unanswered items offer the buttons


def test_confirm_and_missed_are_one_tap_idempotent_and_audited(as_user: Client, day: dict[str, int],
                                                               sessions: sessionmaker[Session]) -> None:
    client = as_user("vanhanh")
    first = client.post(f"/hom-nay/muc/{day['Tin một cửa']}/da-phat", follow_redirects=True)
    assert "Đã ghi: «Tin một cửa» đã phát (xác nhận tay)." in text_of(first.get_data(as_text=True))
    again = client.post(f"/hom-nay/muc/{day['Tin một cửa']}/da-phat", follow_redirects=True)
    assert "đã có câu trả lời từ trước" in again.get_data(as_text=True)
    vague = client.post(f"/hom-nay/muc/{day['Tin tiêm chủng']}/khong-phat-duoc", data={"ly_do": "khac"},
                        follow_redirects=True)
    assert "hãy ghi rõ vì sao" in vague.get_data(as_text=True)
    missed = client.post(f"/hom-nay/muc/{day['Tin tiêm chủng']}/khong-phat-duoc",
                         data={"ly_do": "hong-thiet-bi", "chi_tiet": "ampli cháy"}, follow_redirects=True)
    html = missed.get_data(as_text=True)
    assert _states(html)["Tin một cửa"] == "Đã phát (xác nhận tay)"
    assert _states(html)["Tin tiêm chủng"] == "Bỏ lỡ" and "Hỏng thiết bị: ampli cháy" in html
    assert ">Đã phát</button>" not in _items(html)
    with sessions() as s:
        rows = s.execute(select(PlayLog.title, PlayLog.result, PlayLog.source, PlayLog.reason)
                         .order_by(PlayLog.title)).all()
        audits = s.scalars(select(AuditLog.action).where(AuditLog.action.like("playlog.%"))).all()
    assert [tuple(r) for r in rows] == [
        ("Tin một cửa", "played", "manual", "Xác nhận đã phát bởi vanhanh."),
        ("Tin tiêm chủng", "skipped", "manual", "Hỏng thiết bị: ampli cháy"),
    ]
    assert sorted(audits) == ["playlog.confirm", "playlog.missed"]


def _poll(client: FlaskClient, query: str = "") -> dict[str, tuple[str, str, bool]]:
    response = client.get(f"/hom-nay/trang-thai.json{query}")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    return {str(i["id"]): (i["state"], i["state_label"], i["may_answer"]) for i in response.get_json()["items"]}


def test_the_page_polls_states_that_move_with_the_clock_in_the_pages_scope(
        as_user: Client, day: dict[str, int], sessions: sessionmaker[Session], clock: FakeClock) -> None:
    with sessions.begin() as s:  # one more IADER-01 item, at 06:40–06:42 (it is 06:30)
        programme = s.scalars(select(Programme).join(Station).where(Station.code == "IADER-01")).one()
        start = clock() + timedelta(minutes=10)
        item = ProgrammeItem(start=start, end=start + timedelta(minutes=2), kind="bulletin", title="Tin sáu giờ bốn mươi")
        programme.items.append(item)
        s.flush()
        soon = str(item.id)
    operator = as_user("vanhanh")
    html = operator.get("/hom-nay/").get_data(as_text=True)
    assert 'data-today-poll="/hom-nay/trang-thai.json"' in html and "<template data-answer-template>" in html
    ids = {str(v) for k, v in day.items() if k != "Tin Chư Pưh"} | {soon}
    first = _poll(operator)
    assert set(first) == ids  # the commune's stations, today and tomorrow, nothing beyond
    assert first[soon] == ("sap_phat", "Sắp phát", False)
    assert first[str(day["Tin một cửa"])] == ("bo_lo", "Bỏ lỡ", True)
    assert first[str(day["Tin ngày mai"])] == ("sap_phat", "Sắp phát", False)
    clock.advance(minutes=11)
    assert _poll(operator)[soon] == ("dang_phat", "Đang phát", True)
    clock.advance(minutes=2)
    assert _poll(operator)[soon] == ("bo_lo", "Bỏ lỡ", True)
    operator.post(f"/hom-nay/muc/{soon}/da-phat")
    assert _poll(operator)[soon] == ("da_phat", "Đã phát (xác nhận tay)", False)
    viewer = _poll(as_user("xem"))  # a reader looks at every station in scope, never answers
    assert str(day["Tin Chư Pưh"]) in viewer and not any(answer for _, _, answer in viewer.values())
    assert set(_poll(as_user("vanhanh_cp"))) == {str(day["Tin Chư Pưh"])}
    assert as_user("vanhanh_cp").get("/hom-nay/trang-thai.json?dai=IADER-01").status_code == 404
    assert set(_poll(as_user("xem"), "?dai=CHUPUH-01")) == {str(day["Tin Chư Pưh"])}


def test_answers_are_scoped_and_readers_only_look(as_user: Client, day: dict[str, int],
                                                  sessions: sessionmaker[Session]) -> None:
    assert as_user("vanhanh_cp").post(f"/hom-nay/muc/{day['Tin một cửa']}/da-phat").status_code == 404
    assert as_user("xem").post(f"/hom-nay/muc/{day['Tin một cửa']}/da-phat").status_code == 403
    assert as_user("bientap").post(f"/hom-nay/muc/{day['Tin một cửa']}/da-phat").status_code == 403
    early = as_user("vanhanh").post(f"/hom-nay/muc/{day['Tin ngày mai']}/da-phat", follow_redirects=True)
    assert "chưa đến giờ phát" in early.get_data(as_text=True)
    viewer = as_user("xem").get("/hom-nay/").get_data(as_text=True)
    assert "Tin Chư Pưh" in viewer and "Đã phát</button>" not in viewer
    assert as_user("vanhanh_cp").get("/hom-nay/?dai=IADER-01").status_code == 404
    assert as_user("vanhanh_cp").get("/hom-nay/IADER-01/2026-11-23.m3u").status_code == 404
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(PlayLog)) == 0


def test_m3u_links_play_without_login_until_they_expire(as_user: Client, app: Flask, day: dict[str, int],
                                                        clock: FakeClock) -> None:
    response = as_user("vanhanh").get("/hom-nay/IADER-01/2026-11-23.m3u")
    assert response.status_code == 200 and response.mimetype == "audio/x-mpegurl"
    assert 'filename="IADER-01-2026-11-23.m3u"' in response.headers["Content-Disposition"]
    lines = response.get_data(as_text=True).splitlines()
    links = [line for line in lines if not line.startswith("#")]
    assert lines[0] == "#EXTM3U" and len(links) == 2 and all("/nghe/" in link for link in links)
    anonymous = app.test_client()  # no login, no station token
    audio = anonymous.get(links[0].replace("http://localhost", ""))
    assert audio.status_code == 200 and audio.mimetype == "audio/wav" and audio.data.startswith(b"RIFF")
    forged = anonymous.get(links[0].replace("http://localhost", "").replace("/nghe/a", "/nghe/b"))
    assert forged.status_code == 403 and "không hợp lệ" in forged.get_data(as_text=True)
    clock.advance(hours=24)
    expired = anonymous.get(links[0].replace("http://localhost", ""))
    assert expired.status_code == 403 and "hết hạn" in expired.get_data(as_text=True)


def test_zip_and_session_mp3_download(as_user: Client, day: dict[str, int]) -> None:
    client = as_user("vanhanh")
    archive = client.get("/hom-nay/IADER-01/2026-11-23.zip")
    assert archive.status_code == 200 and archive.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(archive.data)).namelist()
    assert "2026-11-23.m3u" in names and "2026-11-24.m3u" in names
    assert len([n for n in names if n.startswith("audio/")]) == 3  # one file per title, under audio/
    html = client.get("/hom-nay/").get_data(as_text=True)
    assert "MP3 buổi 1 (05:30–05:32)" in html and "MP3 buổi 2 (06:00–06:02)" in html
    mp3 = client.get("/hom-nay/IADER-01/2026-11-23/buoi-1.mp3")
    assert mp3.status_code == 200 and mp3.mimetype == "audio/mpeg" and len(mp3.data) > 1000
    missing = client.get("/hom-nay/IADER-01/2026-11-23/buoi-5.mp3", follow_redirects=True)
    assert "không có buổi thứ 5" in missing.get_data(as_text=True)
    assert client.get("/hom-nay/IADER-01/ngay-la.m3u").status_code == 404


@pytest.mark.parametrize("username", ["quantri", "bientap", "duyet", "vanhanh"])
def test_week_grids_mark_what_became_of_past_items_for_every_role(
        as_user: Client, day: dict[str, int], sessions: sessionmaker[Session], username: str) -> None:
    as_user("vanhanh").post(f"/hom-nay/muc/{day['Tin một cửa']}/da-phat")
    client = as_user(username)
    station = client.get("/lich-phat/?dai=IADER-01&tuan=2026-W48").get_data(as_text=True)
    commune = client.get(f"/lich-phat/?xa={_commune_id(sessions)}&tuan=2026-W48").get_data(as_text=True)
    for html in (station, commune):
        assert 'class="badge item-da_phat"' in html and "Đã phát (xác nhận tay)" in html
        assert 'class="badge item-bo_lo" title="Chưa có nhật ký phát' in html  # 06:00 went by with no log
        assert "item-sap_phat" not in html  # what is still to come carries no mark
    assert '<section class="day today"' in station


def test_phones_list_the_commune_week_from_today_with_past_days_last(as_user: Client, day: dict[str, int],
                                                                    sessions: sessionmaker[Session]) -> None:
    from datetime import date

    from scheduler.domain import IsoWeek
    from web.views.programmes import phone_order

    week = IsoWeek.parse("2026-W48")
    wednesday = date(2026, 11, 25)
    assert phone_order(week, wednesday)[:2] == [wednesday, date(2026, 11, 26)]
    assert phone_order(week, wednesday)[-2:] == [date(2026, 11, 23), date(2026, 11, 24)]
    assert phone_order(IsoWeek.parse("2026-W50"), wednesday) == list(IsoWeek.parse("2026-W50").days())
    html = as_user("vanhanh").get("/lich-phat/").get_data(as_text=True)
    phone = html[html.index('<div class="commune-days">'):]
    assert text_of(phone).startswith("Hôm nay · Thứ Hai 23/11")


def _commune_id(sessions: sessionmaker[Session]) -> int:
    from scheduler.db.models import Commune

    with sessions() as s:
        return s.scalars(select(Commune.id).where(Commune.name == "Xã Ia Dêr")).one()


def test_the_days_report_shows_the_manual_play_and_the_missed_reason(as_user: Client, day: dict[str, int],
                                                                     clock: FakeClock) -> None:
    operator = as_user("vanhanh")
    operator.post(f"/hom-nay/muc/{day['Tin một cửa']}/da-phat")
    operator.post(f"/hom-nay/muc/{day['Tin tiêm chủng']}/khong-phat-duoc", data={"ly_do": "mat-dien"})
    html = as_user("quantri").get("/bao-cao/?from=23/11/2026&to=23/11/2026&by=source").get_data(as_text=True)
    text = text_of(html)
    assert "3 lượt theo kế hoạch 1 lượt đã phát 2 lượt bỏ lỡ" in text
    assert "Xác nhận thủ công 1 1 0" in text  # the operator's "đã phát" counts as aired, by hand
    assert "IADER-01 Xã Ia Dêr Bản tin Tin tiêm chủng" in text and "Báo tay Mất điện" in text
    assert "Tin một cửa" not in text[text.index("Lượt bỏ lỡ và lý do"):]  # confirmed: not among the missed


def test_the_days_queries_do_not_grow_with_the_communes_stations(app: Flask, as_user: Client, day: dict[str, int],
                                                                sessions: sessionmaker[Session],
                                                                clock: FakeClock) -> None:
    from sqlalchemy import event

    from scheduler.db.models import Commune

    def grow(n: int, prefix: str) -> None:
        now = clock()
        with sessions.begin() as s:
            commune = s.scalars(select(Commune).where(Commune.name == "Xã Ia Dêr")).one()
            for k in range(n):
                station = Station(code=f"IADER-{prefix}{k:02d}", name=f"Cụm loa {k}", commune=commune, status={})
                programme = Programme(station=station, week="2026-W48", version=1, built_at=now)
                s.add_all([station, programme])
                for minutes in (-30, 30, 24 * 60):
                    start = now + timedelta(minutes=minutes)
                    programme.items.append(ProgrammeItem(start=start, end=start + timedelta(minutes=2),
                                                         kind="bulletin", title=f"Tin {k}"))

    def statements() -> int:
        seen: list[str] = []
        engine = app.extensions["loaxa"]["engine"]

        def count(*args: object) -> None:
            seen.append(str(args[2]))

        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get("/hom-nay/").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    client = as_user("vanhanh")
    grow(1, "A")
    small = statements()
    grow(20, "B")  # 23 stations: a commune's operator still sees them all, in the same number of queries
    html = client.get("/hom-nay/").get_data(as_text=True)
    assert "IADER-B19" in html and "Chọn một đài" not in html
    assert statements() == small
