"""scheduler.bulletins: the write → submit → approve/return → archive workflow, validated and audited."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler import bulletins as wf
from scheduler.db.models import AuditLog, Bulletin, Commune, Province, Station, User
from scheduler.db.session import transaction
from scheduler.domain import BulletinStatus

NOW = datetime(2026, 11, 22, 22, 0, tzinfo=UTC)  # 05:00 on Monday 23 Nov in Hà Nội


@pytest.fixture
def people(sessions: sessionmaker[Session]) -> dict[str, int]:
    with transaction(sessions) as s:
        province = Province(name="Sóc Trăng", policy={})
        s.add(province)
        s.flush()
        commune = Commune(province_id=province.id, name="Xã Lâm Tân", policy={})
        s.add(commune)
        s.add(Station(code="LAMTAN-01", name="Cụm loa ấp Tân Lộc", commune=commune, status={}))
        users = {
            name: User(username=name, role=role, password_hash="x", created_at=NOW)
            for name, role in (("bt", "editor"), ("bt2", "editor"), ("duyet", "approver"), ("xem", "viewer"))
        }
        s.add_all(users.values())
        s.flush()
        return {k: v.id for k, v in users.items()}


def draft(**changes: object) -> wf.BulletinDraft:
    values: dict[str, object] = {
        "title": "Tuyên truyền chuyển đổi số", "text": "Sóc Trăng đẩy mạnh dịch vụ công trực tuyến mức độ 4.",
        "topic": "chinh_phu_so", "language": "km", "priority": "uu_tien", "valid_from": date(2026, 11, 23),
        "valid_to": date(2026, 12, 31), "plays_per_week": 2, "targets": ["Xã Lâm Tân"],
    }  # fmt: skip
    values.update(changes)
    return wf.BulletinDraft(**values)  # type: ignore[arg-type]


def user(s: Session, name: str) -> User:
    return s.scalars(select(User).where(User.username == name)).one()


def test_create_stores_a_draft_with_a_local_date_code(sessions: sessionmaker[Session], people: dict[str, int]) -> None:
    with transaction(sessions) as s:
        bulletin = wf.create_bulletin(s, draft(), user(s, "bt"), NOW)
        assert bulletin.code == "BT261123-001"
        second = wf.create_bulletin(s, draft(), user(s, "bt"), NOW)
        assert second.code == "BT261123-002"
    with sessions() as s:
        assert s.scalar(select(func.count()).where(AuditLog.action == "bulletin.create")) == 2


def test_validation_lists_every_bad_field_and_stores_nothing(sessions: sessionmaker[Session], people: dict[str, int]) -> None:
    with pytest.raises(wf.BulletinInvalid) as failed, transaction(sessions) as s:
        wf.create_bulletin(
            s, draft(title="", text=" ", valid_from=date(2026, 12, 5), valid_to=date(2026, 12, 1),
                     targets=["Ấp Không Có"], plays_per_week=-1, language="fr"),
            user(s, "bt"), NOW,
        )  # fmt: skip
    errors = failed.value.errors
    assert set(errors) == {"title", "text", "valid_to", "targets", "plays_per_week", "language"}
    assert "05/12/2026" in errors["valid_to"] and "«Ấp Không Có»" in errors["targets"]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Bulletin)) == 0
        assert s.scalar(select(func.count()).select_from(AuditLog)) == 0


def test_a_recording_can_stand_in_for_text(sessions: sessionmaker[Session], people: dict[str, int]) -> None:
    with transaction(sessions) as s:
        bulletin = wf.create_bulletin(s, draft(text="", recording_file="uploads/abc.wav"), user(s, "bt"), NOW)
        assert bulletin.recording_file == "uploads/abc.wav"


def test_viewers_and_approvers_cannot_write(sessions: sessionmaker[Session], people: dict[str, int]) -> None:
    for name in ("xem", "duyet"):
        with pytest.raises(wf.BulletinRefused), transaction(sessions) as s:
            wf.create_bulletin(s, draft(), user(s, name), NOW)


def test_submit_approve_records_who_and_when(sessions: sessionmaker[Session], people: dict[str, int]) -> None:
    with transaction(sessions) as s:
        bulletin = wf.create_bulletin(s, draft(), user(s, "bt"), NOW)
        wf.submit_bulletin(s, bulletin, user(s, "bt"), NOW)
        wf.approve_bulletin(s, bulletin, user(s, "duyet"), NOW, "  Đồng ý.  ")
        assert bulletin.status == BulletinStatus.APPROVED.value
        assert bulletin.approver_id == people["duyet"] and bulletin.approved_at == NOW
        assert bulletin.review_comment == "Đồng ý."
        actions = [h.action for h in wf.history(s, bulletin)]
    assert actions == ["bulletin.create", "bulletin.submit", "bulletin.approve"]


def test_author_cannot_approve_own_and_editor_cannot_approve(sessions: sessionmaker[Session], people: dict[str, int]) -> None:
    with transaction(sessions) as s:
        bulletin = wf.create_bulletin(s, draft(), user(s, "bt"), NOW)
        wf.submit_bulletin(s, bulletin, user(s, "bt"), NOW)
        bulletin_id = bulletin.id
    for name, message in (("bt2", "không có quyền duyệt"), ("bt", "không có quyền duyệt")):
        with pytest.raises(wf.BulletinRefused, match=message), transaction(sessions) as s:
            wf.approve_bulletin(s, s.get(Bulletin, bulletin_id), user(s, name), NOW)  # type: ignore[arg-type]
    with transaction(sessions) as s:
        approver = user(s, "duyet")
        own = wf.BulletinDraft(**{**draft().__dict__, "code": "BT-DUYET"})
        approver.role = "admin"  # an admin who writes may not approve their own either
        mine = wf.create_bulletin(s, own, approver, NOW)
        wf.submit_bulletin(s, mine, approver, NOW)
        with pytest.raises(wf.BulletinRefused, match="không thể tự duyệt"):
            wf.approve_bulletin(s, mine, approver, NOW)


def test_return_requires_a_reason_and_allows_resubmission(sessions: sessionmaker[Session], people: dict[str, int]) -> None:
    with transaction(sessions) as s:
        bulletin = wf.create_bulletin(s, draft(), user(s, "bt"), NOW)
        wf.submit_bulletin(s, bulletin, user(s, "bt"), NOW)
        with pytest.raises(wf.BulletinInvalid):
            wf.return_bulletin(s, bulletin, user(s, "duyet"), NOW, "  ")
        wf.return_bulletin(s, bulletin, user(s, "duyet"), NOW, "Thiếu số điện thoại đường dây nóng.")
        assert bulletin.status == BulletinStatus.RETURNED.value
        wf.submit_bulletin(s, bulletin, user(s, "bt"), NOW)
        assert bulletin.status == BulletinStatus.SUBMITTED.value


def test_only_submitted_bulletins_can_be_approved(sessions: sessionmaker[Session], people: dict[str, int]) -> None:
    with transaction(sessions) as s:
        bulletin = wf.create_bulletin(s, draft(), user(s, "bt"), NOW)
        with pytest.raises(wf.BulletinRefused, match="không ở trạng thái chờ duyệt"):
            wf.approve_bulletin(s, bulletin, user(s, "duyet"), NOW)


def test_changing_the_text_drops_the_old_audio_and_the_approval(sessions: sessionmaker[Session], people: dict[str, int]) -> None:
    with transaction(sessions) as s:
        bulletin = wf.create_bulletin(s, draft(), user(s, "bt"), NOW)
        wf.submit_bulletin(s, bulletin, user(s, "bt"), NOW)
        wf.approve_bulletin(s, bulletin, user(s, "duyet"), NOW)
        bulletin.audio_asset_id = None
        wf.update_bulletin(s, bulletin, draft(text="Nội dung đã sửa."), user(s, "bt2"), NOW)
        assert bulletin.status == BulletinStatus.DRAFT.value and bulletin.approver_id is None
        # Saving the same values again changes nothing and keeps the draft a draft.
        wf.update_bulletin(s, bulletin, draft(text="Nội dung đã sửa."), user(s, "bt2"), NOW)
        assert bulletin.status == BulletinStatus.DRAFT.value


def test_archived_bulletins_cannot_be_edited_or_archived_again(sessions: sessionmaker[Session], people: dict[str, int]) -> None:
    with transaction(sessions) as s:
        bulletin = wf.create_bulletin(s, draft(), user(s, "bt"), NOW)
        wf.archive_bulletin(s, bulletin, user(s, "duyet"), NOW)
        with pytest.raises(wf.BulletinRefused, match="không sửa được"):
            wf.update_bulletin(s, bulletin, draft(), user(s, "bt"), NOW)
        with pytest.raises(wf.BulletinRefused, match="đã được lưu trữ"):
            wf.archive_bulletin(s, bulletin, user(s, "bt"), NOW)


def test_whoever_last_changed_the_content_may_not_approve_it(sessions: sessionmaker[Session],
                                                             people: dict[str, int]) -> None:
    with transaction(sessions) as s:
        s.add(User(username="quantri", role="admin", password_hash="x", created_at=NOW))
        s.add(User(username="duyet2", role="approver", password_hash="x", created_at=NOW))
    with transaction(sessions) as s:
        bulletin = wf.create_bulletin(s, draft(), user(s, "bt"), NOW)
        wf.submit_bulletin(s, bulletin, user(s, "bt"), NOW)
        # The administrator rewrites the editor's text, sends it again and tries to sign it off himself.
        wf.update_bulletin(s, bulletin, draft(text="Nội dung do quản trị viên viết lại."), user(s, "quantri"), NOW)
        wf.submit_bulletin(s, bulletin, user(s, "quantri"), NOW)
        bulletin_id = bulletin.id
    with pytest.raises(wf.BulletinRefused, match="sửa nội dung"), transaction(sessions) as s:
        wf.approve_bulletin(s, s.get(Bulletin, bulletin_id), user(s, "quantri"), NOW)  # type: ignore[arg-type]
    # Changing only where it plays is not writing it: the content's last author stays the one refused.
    with transaction(sessions) as s:
        again = s.get(Bulletin, bulletin_id)
        assert again is not None
        wf.update_bulletin(s, again, draft(text="Nội dung do quản trị viên viết lại.", plays_per_week=3),
                           user(s, "bt2"), NOW)
        wf.submit_bulletin(s, again, user(s, "bt"), NOW)
    with pytest.raises(wf.BulletinRefused, match="sửa nội dung"), transaction(sessions) as s:
        wf.approve_bulletin(s, s.get(Bulletin, bulletin_id), user(s, "quantri"), NOW)  # type: ignore[arg-type]
    with transaction(sessions) as s:
        approved = wf.approve_bulletin(s, s.get(Bulletin, bulletin_id), user(s, "duyet2"), NOW)  # type: ignore[arg-type]
        assert approved.status == BulletinStatus.APPROVED.value
