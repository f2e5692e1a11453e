"""Bản tin pages: write, validate, preview, upload, submit, approve or return, history, filters, audio."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from web_pages import SEED_TEXT, make_asset, make_bulletin, text_of, wav_bytes

from scheduler.db.models import AuditLog, Bulletin
from scheduler.domain import BulletinStatus
from tests.fake_clock import FakeClock


def form(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "title": "Tuyên truyền dịch vụ công trực tuyến",
        "text": SEED_TEXT,
        "topic": "dvc_truc_tuyen",
        "language": "vi",
        "priority": "thuong",
        "valid_from": "2026-11-23",
        "valid_to": "2026-12-06",
        "plays_per_week": "3",
        "targets": "IADER-01; Xã Chư Pưh",
    }
    base.update(changes)
    return base


def count(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(Bulletin)) or 0


def test_editor_writes_a_draft_and_it_is_audited(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session]) -> None:
    response = as_user("bientap").post("/ban-tin/moi", data=form())
    assert response.status_code == 303
    with sessions() as s:
        bulletin = s.scalars(select(Bulletin)).one()
        assert bulletin.status == BulletinStatus.DRAFT.value
        assert bulletin.targets == ["IADER-01", "Xã Chư Pưh"]
        assert bulletin.code.startswith("BT261123-")  # local date of the injected clock
        audit = s.scalars(select(AuditLog).where(AuditLog.entity == "bulletin")).one()
        assert audit.action == "bulletin.create" and audit.username == "bientap"
        assert audit.after is not None and audit.after["title"] == "Tuyên truyền dịch vụ công trực tuyến"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": "  "}, "title", "Chưa có tiêu đề"),
        ({"text": ""}, "text", "Chưa có nội dung"),
        ({"text": "Nội dung rất dài. " * 2000}, "text", "tối đa 20.000"),
        (
            {"valid_from": "2026-12-10", "valid_to": "2026-12-01"},
            "valid_to",
            "Ngày kết thúc 01/12/2026 trước ngày bắt đầu 10/12/2026",
        ),
        ({"valid_from": "31/02/2026"}, "valid_from", "Ngày «31/02/2026» không hợp lệ"),
        ({"targets": "IADER-01; Xã Không Có"}, "targets", "nơi phát «Xã Không Có» không phải mã đài hay tên xã"),
        ({"targets": ""}, "targets", "Chưa chọn nơi phát"),
        ({"plays_per_week": "ba"}, "plays_per_week", "«ba» không phải số nguyên"),
        ({"plays_per_week": "500"}, "plays_per_week", "phải từ 0 đến 100"),
        ({"topic": "khong_co"}, "topic", "«khong_co» không có trong danh sách"),
        ({"code": "mã có dấu"}, "code", "Mã «mã có dấu» không hợp lệ"),
    ],
)
def test_bad_input_shows_a_vietnamese_message_beside_the_field_and_stores_nothing(
    as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], changes: dict[str, object], field: str, message: str
) -> None:
    response = as_user("bientap").post("/ban-tin/moi", data=form(**changes))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    # The message sits inside the field's own block, after its input.
    block = html.split(f'name="{field}"', 1)[1].split('<div class="field', 1)[0]
    assert message.lower() in text_of(block).lower(), text_of(block)[:400]
    assert count(sessions) == 0
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.entity == "bulletin")) == 0


def test_a_taken_code_is_refused(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], clock: FakeClock) -> None:
    make_bulletin(sessions, clock(), code="BT-CCHC-01")
    response = as_user("bientap").post("/ban-tin/moi", data=form(code="BT-CCHC-01"))
    assert response.status_code == 400
    assert "đã được dùng cho bản tin khác" in response.get_data(as_text=True)
    assert count(sessions) == 1


def test_script_in_any_field_is_shown_as_text(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session]) -> None:
    attack = '<script>alert("xss")</script>'
    editor = as_user("bientap")
    response = editor.post("/ban-tin/moi", data=form(title=attack, text=attack + " nội dung"))
    assert response.status_code == 303
    with sessions() as s:
        bulletin_id = s.scalars(select(Bulletin.id)).one()
    for url in (f"/ban-tin/{bulletin_id}", "/ban-tin/", f"/ban-tin/{bulletin_id}/sua"):
        html = editor.get(url).get_data(as_text=True)
        assert attack not in html, url
        assert "&lt;script&gt;" in html, url
    # A rejected form echoes the input escaped as well.
    bad = editor.post("/ban-tin/moi", data=form(title=attack, targets="<img src=x onerror=alert(1)>"))
    html = bad.get_data(as_text=True)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_full_workflow_submit_then_approve_by_another_user(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session]) -> None:
    editor = as_user("bientap")
    editor.post("/ban-tin/moi", data=form())
    with sessions() as s:
        bulletin_id = s.scalars(select(Bulletin.id)).one()
    assert editor.post(f"/ban-tin/{bulletin_id}/gui-duyet").status_code == 303
    approver = as_user("duyet")
    page = approver.get(f"/ban-tin/{bulletin_id}").get_data(as_text=True)
    assert "Trả lại</button>" in page
    # No sound yet: Duyệt waits, and the server refuses an approval nobody could have listened to.
    assert 'data-approve disabled title="Chờ có âm thanh để nghe">Duyệt</button>' in page
    assert "Tạo âm thanh ngay</button>" in page and "Nút «Duyệt» mở khi đã có âm thanh để nghe." in page
    refused = approver.post(f"/ban-tin/{bulletin_id}/duyet", data={"comment": "Đồng ý phát."}, follow_redirects=True)
    assert "Chưa có âm thanh để nghe nên chưa duyệt được" in text_of(refused.get_data(as_text=True))
    with sessions() as s:
        assert s.get(Bulletin, bulletin_id).status == BulletinStatus.SUBMITTED.value  # type: ignore[union-attr]
    assert approver.get(f"/ban-tin/{bulletin_id}/am-thanh").get_json() == {"ready": False, "error": None}
    # The approver has it made now (the background service would within a minute) and listens.
    made = approver.post(f"/ban-tin/{bulletin_id}/nghe-thu", headers={"Accept": "application/json"}).get_json()
    assert made["broadcast"] is True and made["seconds"] > 0
    heard = approver.get(made["url"])
    assert heard.status_code == 200 and heard.mimetype == "audio/mpeg" and len(heard.data) > 1000
    assert approver.get(f"/ban-tin/{bulletin_id}/am-thanh").get_json()["ready"] is True
    page = approver.get(f"/ban-tin/{bulletin_id}").get_data(as_text=True)
    assert "data-approve>Duyệt</button>" in page and "Nghe hết bản tin trước khi bấm «Duyệt»." in page
    response = approver.post(f"/ban-tin/{bulletin_id}/duyet", data={"comment": "Đồng ý phát."}, follow_redirects=True)
    html = text_of(response.get_data(as_text=True))
    assert "Đã duyệt bản tin" in html and "Âm thanh sẽ được tạo ở chế độ nền" not in html
    with sessions() as s:
        bulletin = s.get(Bulletin, bulletin_id)
        assert bulletin is not None
        assert bulletin.status == BulletinStatus.APPROVED.value
        assert bulletin.approver is not None and bulletin.approver.username == "duyet"
        assert bulletin.audio is not None and bulletin.audio.sha256 == made["sha256"]
    history = text_of(approver.get(f"/ban-tin/{bulletin_id}").get_data(as_text=True))
    for step in ("Tạo bản tin", "Gửi duyệt", "Duyệt bản tin"):
        assert step in history


def test_an_editor_hears_a_draft_before_submitting_without_it_becoming_the_broadcast_sound(
    as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    bulletin_id = make_bulletin(sessions, clock())
    editor = as_user("bientap")
    page = text_of(editor.get(f"/ban-tin/{bulletin_id}").get_data(as_text=True))
    assert "Nghe máy đọc bản tin này trước khi gửi duyệt" in page
    assert "sau khi bản tin được gửi duyệt" not in page and "sau khi bản tin được duyệt" not in page
    made = editor.post(f"/ban-tin/{bulletin_id}/nghe-thu", headers={"Accept": "application/json"}).get_json()
    assert made["broadcast"] is False and made["engine"] == "espeak" and made["seconds"] > 0
    assert editor.get(made["url"]).status_code == 200
    with sessions() as s:
        assert s.get(Bulletin, bulletin_id).audio_asset_id is None  # type: ignore[union-attr]
    # Without JavaScript the button is a form: back on the page with the player.
    response = editor.post(f"/ban-tin/{bulletin_id}/nghe-thu")
    assert response.status_code == 303 and f"nghe={made['sha256']}" in response.location
    page = editor.get(response.location.split("#")[0]).get_data(as_text=True)
    assert made["url"] in page and "Nghe lại</button>" in page


def test_the_edit_page_reads_unsaved_text_aloud(as_user: Callable[[str], FlaskClient]) -> None:
    editor = as_user("bientap")
    page = text_of(editor.get("/ban-tin/moi").get_data(as_text=True))
    assert "Bấm «Nghe thử» để nghe ngay" in page and "âm thanh được tạo sau khi bản tin được duyệt" not in page
    made = editor.post("/ban-tin/nghe-thu", json={"text": "Nộp hồ sơ trực tuyến tại xã.", "language": "vi"})
    assert made.status_code == 200 and made.get_json()["broadcast"] is False
    empty = editor.post("/ban-tin/nghe-thu", json={"text": "  "})
    assert empty.status_code == 422 and empty.get_json()["error"] == "Chưa có nội dung để đọc. Hãy nhập nội dung bản tin."
    assert as_user("xem").post("/ban-tin/nghe-thu", json={"text": "a"}).status_code == 403


def test_the_targets_hint_shows_real_places_and_a_picker(as_user: Callable[[str], FlaskClient]) -> None:
    html = as_user("bientap").get("/ban-tin/moi").get_data(as_text=True)
    text = text_of(html)
    assert "GL-IADER-01" not in text
    assert "ví dụ: CHUPUH-01; Xã Ia Dêr. Dùng * để phát ở mọi đài." in text
    for value in ("*", "Xã Ia Dêr", "IADER-01", "Xã Chư Pưh", "CHUPUH-01"):
        assert f'<option value="{value}">' in html
    missing = as_user("bientap").post("/ban-tin/moi", data=form(targets=""))
    message = text_of(missing.get_data(as_text=True))
    assert "Chưa chọn nơi phát: ghi mã đài" in message and "(targets)" not in message


def test_return_needs_a_comment_and_the_author_sees_it(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], clock: FakeClock) -> None:
    bulletin_id = make_bulletin(sessions, clock(), status=BulletinStatus.SUBMITTED)
    approver = as_user("duyet")
    response = approver.post(f"/ban-tin/{bulletin_id}/tra-lai", data={"comment": ""}, follow_redirects=True)
    assert "Hãy ghi lý do trả lại" in response.get_data(as_text=True)
    with sessions() as s:
        assert s.get(Bulletin, bulletin_id).status == BulletinStatus.SUBMITTED.value  # type: ignore[union-attr]
    approver.post(f"/ban-tin/{bulletin_id}/tra-lai", data={"comment": "Sai số văn bản, sửa lại 1722/KH-UBND."})
    page = as_user("bientap").get(f"/ban-tin/{bulletin_id}").get_data(as_text=True)
    assert "Lý do trả lại" in page and "Sai số văn bản" in page
    # The author fixes it and submits again.
    editor = as_user("bientap")
    assert editor.post(f"/ban-tin/{bulletin_id}/gui-duyet").status_code == 303
    with sessions() as s:
        assert s.get(Bulletin, bulletin_id).status == BulletinStatus.SUBMITTED.value  # type: ignore[union-attr]


def test_editing_an_approved_bulletin_sends_it_back_for_approval(
    as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], clock: FakeClock, media_dir: Path
) -> None:
    bulletin_id = make_bulletin(sessions, clock(), status=BulletinStatus.APPROVED, audio=make_asset(media_dir, clock()))
    response = as_user("bientap").post(f"/ban-tin/{bulletin_id}/sua", data=form(text="Nội dung mới đã sửa."))
    assert response.status_code == 303
    with sessions() as s:
        bulletin = s.get(Bulletin, bulletin_id)
        assert bulletin is not None
        assert bulletin.status == BulletinStatus.DRAFT.value
        assert bulletin.audio_asset_id is None and bulletin.approver_id is None
        update = s.scalars(select(AuditLog).where(AuditLog.action == "bulletin.update")).one()
        assert update.before is not None and update.before["status"] == "da_duyet"
        assert update.after is not None and update.after["text"] == "Nội dung mới đã sửa."


def test_failed_edit_changes_nothing(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], clock: FakeClock) -> None:
    bulletin_id = make_bulletin(sessions, clock())
    response = as_user("bientap").post(
        f"/ban-tin/{bulletin_id}/sua", data=form(title="Tiêu đề mới", valid_from="2026-12-10", valid_to="2026-12-01")
    )
    assert response.status_code == 400
    with sessions() as s:
        assert s.get(Bulletin, bulletin_id).title == "Tuyên truyền cải cách hành chính"  # type: ignore[union-attr]


def test_a_submitted_bulletin_cannot_be_submitted_twice(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], clock: FakeClock) -> None:
    bulletin_id = make_bulletin(sessions, clock(), status=BulletinStatus.SUBMITTED)
    response = as_user("bientap").post(f"/ban-tin/{bulletin_id}/gui-duyet", follow_redirects=True)
    assert "chỉ gửi duyệt được bản nháp hoặc bản bị trả lại" in response.get_data(as_text=True)


def test_archive_removes_it_from_the_default_list(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], clock: FakeClock) -> None:
    bulletin_id = make_bulletin(sessions, clock(), code="BT-CU", title="Bản tin cũ cần lưu trữ")
    editor = as_user("bientap")
    assert editor.post(f"/ban-tin/{bulletin_id}/luu-tru").status_code == 303
    assert "Bản tin cũ cần lưu trữ" not in editor.get("/ban-tin/").get_data(as_text=True)
    assert "Bản tin cũ cần lưu trữ" in editor.get("/ban-tin/?trang_thai=luu_tru").get_data(as_text=True)


def test_list_filters_by_topic_status_language_priority_and_text(
    as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    now = clock()
    make_bulletin(sessions, now, code="BT-A", title="Một cửa liên thông", status=BulletinStatus.SUBMITTED)
    make_bulletin(sessions, now, code="BT-B", title="Bão số 5 khẩn cấp", priority="khan_cap")
    with sessions.begin() as s:
        s.scalars(select(Bulletin).where(Bulletin.code == "BT-B")).one().language = "jra"
    client = as_user("duyet")

    def titles(query: str) -> set[str]:
        html = client.get("/ban-tin/?" + query).get_data(as_text=True)
        return {t for t in ("Một cửa liên thông", "Bão số 5 khẩn cấp") if t in html}

    assert titles("") == {"Một cửa liên thông", "Bão số 5 khẩn cấp"}
    assert titles("trang_thai=cho_duyet") == {"Một cửa liên thông"}
    assert titles("uu_tien=khan_cap") == {"Bão số 5 khẩn cấp"}
    assert titles("ngon_ngu=jra") == {"Bão số 5 khẩn cấp"}
    assert titles("chu_de=tthc") == {"Một cửa liên thông", "Bão số 5 khẩn cấp"}
    assert titles("chu_de=mot_cua") == set()
    assert titles("q=BT-A") == {"Một cửa liên thông"}


def test_list_is_paginated(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], clock: FakeClock) -> None:
    for n in range(55):
        make_bulletin(sessions, clock(), code=f"BT-{n:03d}", title=f"Bản tin số {n:03d}")
    client = as_user("bientap")
    first = client.get("/ban-tin/").get_data(as_text=True)
    assert "Trang 1/2" in first and first.count('href="/ban-tin/') >= 50
    second = client.get("/ban-tin/?trang=2").get_data(as_text=True)
    assert "Trang 2/2" in second and "Bản tin số 000" in second  # oldest last


def test_preview_returns_the_normalizers_spoken_text(as_user: Callable[[str], FlaskClient]) -> None:
    response = as_user("bientap").post("/ban-tin/doc-thu", json={"text": "Ngày 28/9/2021, UBND tỉnh", "language": "vi"})
    assert response.status_code == 200
    spoken = response.get_json()["spoken"]
    assert "hai mươi tám tháng chín" in spoken
    assert "28/9" not in spoken


def test_preview_uses_the_editors_lexicon_entries(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session]) -> None:
    from scheduler.db.models import LexiconEntry

    with sessions.begin() as s:
        s.add(LexiconEntry(abbreviation="TTVH", expansion="trung tâm văn hóa"))
    spoken = as_user("bientap").post("/ban-tin/doc-thu", json={"text": "TTVH xã"}).get_json()["spoken"]
    assert "trung tâm văn hóa" in spoken


def _upload(client, data: bytes, name: str, **changes: object):  # type: ignore[no-untyped-def]
    payload = form(text="", **changes)
    payload["recording"] = (io.BytesIO(data), name)
    return client.post("/ban-tin/moi", data=payload, content_type="multipart/form-data")


def test_uploading_a_recording_stores_it_for_the_background_render(
    as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], media_dir: Path
) -> None:
    response = _upload(as_user("bientap"), wav_bytes(), "ban-tin-jrai.wav", language="jra")
    assert response.status_code == 303
    with sessions() as s:
        bulletin = s.scalars(select(Bulletin)).one()
        assert bulletin.recording_file is not None and bulletin.recording_file.startswith("uploads/")
        assert (media_dir / bulletin.recording_file).read_bytes() == wav_bytes()
        assert bulletin.audio_asset_id is None


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"MZ\x90\x00 not audio at all", "virus.exe", "không phải tệp âm thanh được nhận"),
        (b"%PDF-1.7 a document", "ban-tin.mp3", "nội dung không phải âm thanh"),
        (b"", "rong.wav", "rỗng"),
    ],
)
def test_a_file_that_is_not_audio_is_refused_and_nothing_is_stored(
    as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], media_dir: Path, data: bytes, name: str, message: str
) -> None:
    response = _upload(as_user("bientap"), data, name)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(sessions) == 0
    assert not (media_dir / "uploads").exists() or not any((media_dir / "uploads").iterdir())


def test_an_oversized_recording_is_refused(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    import web.views.uploads as uploads

    monkeypatch.setattr(uploads, "MAX_RECORDING_BYTES", 1000)
    response = _upload(as_user("bientap"), wav_bytes(seconds=1), "dai.wav")
    assert response.status_code == 400
    assert "lớn hơn" in response.get_data(as_text=True)
    assert count(sessions) == 0


def test_upload_with_a_bad_field_keeps_no_file(as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], media_dir: Path) -> None:
    response = _upload(as_user("bientap"), wav_bytes(), "ok.wav", targets="Xã Không Có")
    assert response.status_code == 400
    assert count(sessions) == 0
    uploads = media_dir / "uploads"
    assert not uploads.exists() or not list(uploads.iterdir())


def test_audio_player_serves_the_rendered_file_to_logged_in_users_only(
    app: Flask, as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], clock: FakeClock, media_dir: Path
) -> None:
    bulletin_id = make_bulletin(sessions, clock(), status=BulletinStatus.APPROVED, audio=make_asset(media_dir, clock()))
    page = as_user("duyet").get(f"/ban-tin/{bulletin_id}").get_data(as_text=True)
    assert f'src="/am-thanh/{"a" * 64}"' in page
    response = as_user("xem").get(f"/am-thanh/{'a' * 64}")
    assert response.status_code == 200 and response.mimetype == "audio/wav"
    assert response.get_data() == wav_bytes()
    assert app.test_client().get(f"/am-thanh/{'a' * 64}").status_code == 302
    assert as_user("xem").get(f"/am-thanh/{'b' * 64}").status_code == 404


def test_dates_default_to_today_in_vietnam(as_user: Callable[[str], FlaskClient], clock: FakeClock) -> None:
    clock.advance(hours=1)  # 23:00 UTC on 22 Nov is 06:00 on 23 Nov in Hà Nội
    html = as_user("bientap").get("/ban-tin/moi").get_data(as_text=True)
    assert clock().date().isoformat() == "2026-11-22"
    assert 'name="valid_from" type="date" value="2026-11-23"' in html
