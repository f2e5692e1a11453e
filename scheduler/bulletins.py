"""The bulletin workflow: write, submit, approve or return, archive — validated and audited.

Each function works in the caller's transaction and raises before it changes anything, so a
refused action leaves the database as it was. Messages are Vietnamese and name the bad value.
Flow: nhap → cho_duyet → da_duyet, or cho_duyet → tra_lai → (edit) → cho_duyet; any → luu_tru.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler import access, audit
from scheduler.catalogue import LANGUAGES, TOPICS, close_choices, match_choice
from scheduler.db.models import AuditLog, Bulletin, Commune, Station, User
from scheduler.domain import CODE_RE, DEFAULT_TZ, BulletinStatus, Priority

LOCAL_TZ = ZoneInfo(DEFAULT_TZ)
MAX_TITLE = 300
MAX_TEXT = 20_000  # about an hour of reading; real bulletins are 3–10 minutes
MAX_PLAYS_PER_WEEK = 100
MAX_VALID_DAYS = 366

EDITORS = frozenset({"admin", "editor"})
APPROVERS = frozenset({"admin", "approver"})
EDITABLE = frozenset({BulletinStatus.DRAFT, BulletinStatus.RETURNED, BulletinStatus.SUBMITTED, BulletinStatus.APPROVED})


class BulletinInvalid(ValueError):
    """Bad field values: `errors` maps each field name to a Vietnamese message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(self.errors.values()))


class BulletinRefused(ValueError):
    """The action is not allowed for this user or in this state (message in Vietnamese)."""


@dataclass
class BulletinDraft:
    """What an editor typed; checked by `validate` before anything is stored."""

    title: str
    text: str
    topic: str
    language: str
    priority: str
    valid_from: date | None
    valid_to: date | None
    plays_per_week: int | None
    targets: list[str] = field(default_factory=list)
    code: str = ""
    recording_file: str | None = None  # media-relative, from scheduler.imports.store_upload
    keep_recording: bool = True  # on update without a new upload, keep the old recording


def _grouped(n: int) -> str:
    """12345 -> "12.345" (Vietnamese thousands separator)."""
    return f"{n:,}".replace(",", ".")


def snapshot(bulletin: Bulletin) -> dict[str, Any]:
    """The audited state of a bulletin."""
    return {
        "code": bulletin.code,
        "title": bulletin.title,
        "text": bulletin.text,
        "topic": bulletin.topic,
        "language": bulletin.language,
        "priority": bulletin.priority,
        "valid_from": bulletin.valid_from.isoformat() if bulletin.valid_from else None,
        "valid_to": bulletin.valid_to.isoformat() if bulletin.valid_to else None,
        "plays_per_week": bulletin.plays_per_week,
        "targets": list(bulletin.targets or []),
        "status": bulletin.status,
        "recording_file": bulletin.recording_file,
        "review_comment": bulletin.review_comment,
    }


def validate(session: Session, draft: BulletinDraft, bulletin: Bulletin | None = None) -> list[str]:
    """Return the resolved targets; raise BulletinInvalid listing every bad field."""
    errors: dict[str, str] = {}
    title = draft.title.strip()
    if not title:
        errors["title"] = "Chưa có tiêu đề. Hãy nhập tiêu đề bản tin."
    elif len(title) > MAX_TITLE:
        errors["title"] = f"Tiêu đề dài {len(title)} ký tự, tối đa {MAX_TITLE}. Hãy rút gọn."
    has_recording = bool(draft.recording_file or (draft.keep_recording and bulletin and bulletin.recording_file))
    text = draft.text.strip()
    if not text and not has_recording:
        errors["text"] = "Chưa có nội dung. Hãy nhập nội dung cần đọc hoặc tải lên tệp ghi âm."
    elif len(text) > MAX_TEXT:
        errors["text"] = (
            f"Nội dung dài {_grouped(len(text))} ký tự, tối đa {_grouped(MAX_TEXT)}. Hãy chia thành nhiều bản tin."
        )
    if draft.topic not in TOPICS:
        near = close_choices(draft.topic, TOPICS)
        errors["topic"] = (
            f"Chủ đề «{draft.topic}» khớp nhiều chủ đề: {'; '.join(near)}. Hãy ghi rõ hơn." if len(near) > 1 else
            f"Chủ đề «{draft.topic}» không có trong danh mục. Ghi tên chủ đề (ví dụ «{TOPICS['dvc_truc_tuyen']}») "
            "hoặc mã của nó (dvc_truc_tuyen); danh mục ở docs/csv-formats.md."
        )
    if draft.language not in LANGUAGES:
        errors["language"] = f"Ngôn ngữ «{draft.language}» không được hỗ trợ. Hãy chọn trong danh sách."
    if draft.priority not in {p.value for p in Priority}:
        errors["priority"] = f"Mức ưu tiên «{draft.priority}» không hợp lệ. Chọn Thông thường, Ưu tiên hoặc Khẩn cấp."
    if draft.valid_from is None:
        errors["valid_from"] = "Chưa có ngày bắt đầu phát."
    if draft.valid_to is None:
        errors["valid_to"] = "Chưa có ngày kết thúc phát."
    if draft.valid_from and draft.valid_to:
        if draft.valid_to < draft.valid_from:
            errors["valid_to"] = (
                f"Ngày kết thúc {draft.valid_to:%d/%m/%Y} trước ngày bắt đầu {draft.valid_from:%d/%m/%Y}. "
                "Hãy đổi lại thứ tự ngày."
            )
        elif (draft.valid_to - draft.valid_from).days >= MAX_VALID_DAYS:
            errors["valid_to"] = f"Thời hạn phát dài hơn {MAX_VALID_DAYS} ngày. Hãy rút ngắn thời hạn."
    if draft.plays_per_week is None:
        errors["plays_per_week"] = "Chưa có số lần phát mỗi tuần."
    elif not 0 <= draft.plays_per_week <= MAX_PLAYS_PER_WEEK:
        errors["plays_per_week"] = (
            f"Số lần phát mỗi tuần là {draft.plays_per_week}, phải từ 0 đến {MAX_PLAYS_PER_WEEK}."
        )
    code = draft.code.strip()
    if code:
        if not CODE_RE.match(code):
            errors["code"] = (
                f"Mã «{code[:60]}» không hợp lệ: chỉ dùng chữ không dấu, số, dấu chấm, gạch ngang, "
                "gạch dưới; tối đa 40 ký tự."
            )
        else:
            other = session.scalar(select(Bulletin.id).where(Bulletin.code == code))
            if other is not None and (bulletin is None or other != bulletin.id):
                errors["code"] = f"Mã «{code}» đã được dùng cho bản tin khác. Hãy chọn mã khác."
    targets: list[str] = []
    try:
        targets = resolve_targets(session, draft.targets)
    except ValueError as exc:
        message = str(exc)
        errors["targets"] = message[:1].upper() + message[1:] + "."
    if errors:
        raise BulletinInvalid(errors)
    return targets


def resolve_targets(session: Session, targets: Iterable[str]) -> list[str]:
    """Check targets (station codes, commune names, '*'); raise ValueError for unknown ones."""
    clean = [t.strip() for t in targets if t.strip()]
    if not clean:
        raise ValueError("chưa chọn nơi phát: ghi mã đài, tên xã, hoặc * cho tất cả các đài")
    codes = set(session.scalars(select(Station.code)))
    communes = set(session.scalars(select(Commune.name)))
    unknown = [t for t in clean if t != "*" and t not in codes and t not in communes]
    if unknown:
        raise ValueError(f"nơi phát «{', '.join(unknown)}» không phải mã đài hay tên xã đã có")
    return clean


def split_targets(text: str) -> list[str]:
    """Targets typed as `XA-001; Xã Ia Dêr; *` (also one per line or comma-separated)."""
    for sep in ("\n", ","):
        text = text.replace(sep, ";")
    return [t.strip() for t in text.split(";") if t.strip()]


def _date_field(value: object, label: str) -> date | None:
    if value is None or isinstance(value, date):
        return value if not isinstance(value, datetime) else value.date()
    text = str(value).strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{label} «{text[:30]}» không hợp lệ. Dùng dạng 2026-11-23 hoặc 23/11/2026.")


def _int_field(value: object, label: str) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{label} «{text[:30]}» không phải số nguyên. Hãy nhập một số, ví dụ 3.") from None


PRIORITY_LABELS = {p.value: p.label for p in Priority}


def _typed_choice(value: object, choices: dict[str, str], blank: str) -> str:
    """A code, or a label as typed (scheduler.catalogue.match_choice); unmatched text stays for validate to name."""
    text = str(value or "").strip()
    if not text:
        return blank
    return match_choice(text, choices) or text


def draft_from_fields(fields: Mapping[str, Any]) -> tuple[BulletinDraft, dict[str, str]]:
    """A draft from plain data (text cells, JSON values or typed values) and the fields that did not parse.

    Keys: code, title, text, topic, language (blank: vi), priority (blank: thuong), valid_from,
    valid_to (dates or `2026-11-23` / `23/11/2026`), plays_per_week (int or digits), targets (a list,
    or text split by split_targets), recording_file.
    """
    errors: dict[str, str] = {}
    parsed: dict[str, Any] = {}
    for name, label, parse in (
        ("valid_from", "Ngày bắt đầu", _date_field),
        ("valid_to", "Ngày kết thúc", _date_field),
        ("plays_per_week", "Số lần phát mỗi tuần", _int_field),
    ):
        try:
            parsed[name] = parse(fields.get(name), label)
        except ValueError as exc:
            parsed[name] = None
            errors[name] = str(exc)
    targets = fields.get("targets") or []
    recording = fields.get("recording_file")
    # A person typing a file writes labels ("Dịch vụ công trực tuyến", "Ưu tiên", "Tiếng Việt"): read them as codes.
    topic = _typed_choice(fields.get("topic"), TOPICS, "")
    language = _typed_choice(fields.get("language"), LANGUAGES, "vi")
    priority = _typed_choice(fields.get("priority"), PRIORITY_LABELS, Priority.NORMAL.value)
    draft = BulletinDraft(
        title=str(fields.get("title") or ""),
        text=str(fields.get("text") or ""),
        topic=topic,
        language=language,
        priority=priority,
        valid_from=parsed["valid_from"],
        valid_to=parsed["valid_to"],
        plays_per_week=parsed["plays_per_week"],
        targets=split_targets(targets) if isinstance(targets, str) else [str(t) for t in targets],
        code=str(fields.get("code") or ""),
        recording_file=str(recording) if recording else None,
        keep_recording=False,
    )
    return draft, errors


def check_bulletin(
    session: Session, fields: Mapping[str, Any], bulletin: Bulletin | None = None, *, require_code: bool = False
) -> tuple[BulletinDraft, list[str]]:
    """The bulletin validator for plain data (imports, the upstream API): the draft and its resolved
    targets, or BulletinInvalid with a Vietnamese message per bad field — the same rules as the form's."""
    draft, errors = draft_from_fields(fields)
    if require_code and not draft.code.strip():
        errors["code"] = "Chưa có mã bản tin. Mỗi bản tin cần một mã riêng, ví dụ CCHC-014."
    try:
        targets = validate(session, draft, bulletin)
    except BulletinInvalid as exc:
        errors = {**exc.errors, **errors}  # a value that did not parse explains itself best
        targets = []
    if errors:
        raise BulletinInvalid(errors)
    return draft, targets


def next_code(session: Session, now: datetime, tz: ZoneInfo = LOCAL_TZ) -> str:
    """A fresh code like BT261123-004 (local date of creation and a counter)."""
    prefix = f"BT{now.astimezone(tz):%y%m%d}-"
    count = session.scalar(select(func.count()).where(Bulletin.code.like(prefix + "%"))) or 0
    n = count + 1
    while session.scalar(select(Bulletin.id).where(Bulletin.code == f"{prefix}{n:03d}")) is not None:
        n += 1
    return f"{prefix}{n:03d}"


def _require_role(user: User, roles: frozenset[str], action: str) -> None:
    if user.role not in roles or not user.active:
        raise BulletinRefused(f"Tài khoản «{user.username}» không có quyền {action}.")


def _require_targets_inside(session: Session, user: User, targets: list[str]) -> None:
    """A scoped editor may only aim at stations and communes of their scope (scheduler.access)."""
    outside = access.outside(session, user, targets)
    if outside:
        raise BulletinInvalid({"targets": (
            f"Nơi phát «{', '.join(outside)}» nằm ngoài phạm vi của tài khoản ({access.describe(user)}). "
            "Chỉ chọn đài hoặc xã trong phạm vi của mình."
        )})


def may_manage(session: Session, user: User, bulletin: Bulletin) -> bool:
    """True if every target of `bulletin` lies inside the user's scope: only then may they change,
    submit, approve or return it (a bulletin from above is seen, not managed, at the commune)."""
    return access.covers(session, user, bulletin.targets or [])


def _require_manage(session: Session, user: User, bulletin: Bulletin, action: str) -> None:
    if not may_manage(session, user, bulletin):
        raise BulletinRefused(
            f"Bản tin «{bulletin.code}» phát cả ngoài phạm vi của bạn ({access.describe(user)}), "
            f"nên bạn không thể {action}. Người có phạm vi rộng hơn mới làm được."
        )


def _apply(bulletin: Bulletin, draft: BulletinDraft, targets: list[str]) -> None:
    bulletin.title = draft.title.strip()
    bulletin.text = draft.text.strip()
    bulletin.topic = draft.topic
    bulletin.language = draft.language
    bulletin.priority = draft.priority
    assert draft.valid_from is not None and draft.valid_to is not None and draft.plays_per_week is not None
    bulletin.valid_from = draft.valid_from
    bulletin.valid_to = draft.valid_to
    bulletin.plays_per_week = draft.plays_per_week
    bulletin.targets = targets
    if draft.recording_file:
        bulletin.recording_file = draft.recording_file
    elif not draft.keep_recording:
        bulletin.recording_file = None


def create_bulletin(
    session: Session, draft: BulletinDraft, user: User, now: datetime, tz: ZoneInfo = LOCAL_TZ
) -> Bulletin:
    """Store a new draft bulletin written by `user`; a blank code gets one from the local date."""
    _require_role(user, EDITORS, "viết bản tin")
    targets = validate(session, draft)
    _require_targets_inside(session, user, targets)
    bulletin = Bulletin(
        code=draft.code.strip() or next_code(session, now, tz),
        status=BulletinStatus.DRAFT.value,
        author_id=user.id,
        content_by_id=user.id,
        created_at=now,
        updated_at=now,
        review_comment="",
    )
    _apply(bulletin, draft, targets)
    session.add(bulletin)
    session.flush()
    audit.record(session, now, user, "bulletin.create", "bulletin", bulletin.id, None, snapshot(bulletin))
    return bulletin


def update_bulletin(session: Session, bulletin: Bulletin, draft: BulletinDraft, user: User, now: datetime) -> Bulletin:
    """Change a bulletin. Editing a submitted or approved one sends it back to draft: it needs approval again."""
    _require_role(user, EDITORS, "sửa bản tin")
    _require_manage(session, user, bulletin, "sửa nó")
    status = BulletinStatus(bulletin.status)
    if status not in EDITABLE:
        raise BulletinRefused(f"Bản tin «{bulletin.code}» đang ở trạng thái «{status.label}», không sửa được.")
    targets = validate(session, draft, bulletin)
    _require_targets_inside(session, user, targets)
    before = snapshot(bulletin)
    _apply(bulletin, draft, targets)
    if draft.code.strip():
        bulletin.code = draft.code.strip()
    after = snapshot(bulletin)
    content_keys = ("title", "text", "language", "recording_file")
    if any(before[k] != after[k] for k in content_keys):
        bulletin.audio_asset_id = None  # the old sound no longer matches: render again
        bulletin.render_error = None
        bulletin.content_by_id = user.id  # four eyes: this person may no longer approve it
    if status in (BulletinStatus.SUBMITTED, BulletinStatus.APPROVED) and before != after:
        bulletin.status = BulletinStatus.DRAFT.value
        bulletin.approver_id = None
        bulletin.approved_at = None
    bulletin.updated_at = now
    session.flush()
    audit.record(session, now, user, "bulletin.update", "bulletin", bulletin.id, before, snapshot(bulletin))
    return bulletin


def submit_bulletin(session: Session, bulletin: Bulletin, user: User, now: datetime) -> Bulletin:
    """Send a draft or returned bulletin for approval."""
    _require_role(user, EDITORS, "gửi duyệt bản tin")
    _require_manage(session, user, bulletin, "gửi duyệt nó")
    status = BulletinStatus(bulletin.status)
    if status not in (BulletinStatus.DRAFT, BulletinStatus.RETURNED):
        raise BulletinRefused(
            f"Bản tin «{bulletin.code}» đang «{status.label}»; chỉ gửi duyệt được bản nháp hoặc bản bị trả lại."
        )
    if not bulletin.text.strip() and not bulletin.recording_file:
        raise BulletinRefused(f"Bản tin «{bulletin.code}» chưa có nội dung hay tệp ghi âm. Hãy bổ sung rồi gửi.")
    before = snapshot(bulletin)
    bulletin.status = BulletinStatus.SUBMITTED.value
    bulletin.updated_at = now
    session.flush()
    audit.record(session, now, user, "bulletin.submit", "bulletin", bulletin.id, before, snapshot(bulletin))
    return bulletin


def _check_reviewer(session: Session, bulletin: Bulletin, user: User, action: str) -> None:
    _require_role(user, APPROVERS, action)
    _require_manage(session, user, bulletin, action + " nó")
    if bulletin.author_id == user.id:
        raise BulletinRefused(
            f"Bạn là người viết bản tin «{bulletin.code}», không thể tự {action}. Hãy nhờ người duyệt khác."
        )
    if bulletin.content_by_id == user.id:
        raise BulletinRefused(
            f"Bạn là người sửa nội dung bản tin «{bulletin.code}» lần gần nhất, không thể tự {action}. "
            "Hãy nhờ người duyệt khác."
        )
    if bulletin.status != BulletinStatus.SUBMITTED.value:
        label = BulletinStatus(bulletin.status).label
        raise BulletinRefused(f"Bản tin «{bulletin.code}» đang «{label}», không ở trạng thái chờ duyệt.")


def approve_bulletin(session: Session, bulletin: Bulletin, user: User, now: datetime, comment: str = "") -> Bulletin:
    """Approve a submitted bulletin; the author may not approve their own."""
    _check_reviewer(session, bulletin, user, "duyệt")
    before = snapshot(bulletin)
    bulletin.status = BulletinStatus.APPROVED.value
    bulletin.approver_id = user.id
    bulletin.approved_at = now
    bulletin.review_comment = comment.strip()[:2000]
    bulletin.updated_at = now
    session.flush()
    audit.record(session, now, user, "bulletin.approve", "bulletin", bulletin.id, before, snapshot(bulletin))
    return bulletin


def return_bulletin(session: Session, bulletin: Bulletin, user: User, now: datetime, comment: str) -> Bulletin:
    """Send a submitted bulletin back to its author; a comment saying what to fix is required."""
    _check_reviewer(session, bulletin, user, "trả lại")
    if not comment.strip():
        raise BulletinInvalid({"comment": "Hãy ghi lý do trả lại để người viết biết cần sửa gì."})
    before = snapshot(bulletin)
    bulletin.status = BulletinStatus.RETURNED.value
    bulletin.review_comment = comment.strip()[:2000]
    bulletin.updated_at = now
    session.flush()
    audit.record(session, now, user, "bulletin.return", "bulletin", bulletin.id, before, snapshot(bulletin))
    return bulletin


def archive_bulletin(session: Session, bulletin: Bulletin, user: User, now: datetime) -> Bulletin:
    """Take a bulletin out of use; it stays in reports and history."""
    _require_role(user, EDITORS | APPROVERS, "lưu trữ bản tin")
    _require_manage(session, user, bulletin, "lưu trữ nó")
    if bulletin.status == BulletinStatus.ARCHIVED.value:
        raise BulletinRefused(f"Bản tin «{bulletin.code}» đã được lưu trữ rồi.")
    before = snapshot(bulletin)
    bulletin.status = BulletinStatus.ARCHIVED.value
    bulletin.updated_at = now
    session.flush()
    audit.record(session, now, user, "bulletin.archive", "bulletin", bulletin.id, before, snapshot(bulletin))
    return bulletin


def history(session: Session, bulletin: Bulletin) -> list[AuditLog]:
    """Every audited change of a bulletin, oldest first."""
    return list(
        session.scalars(
            select(AuditLog)
            .where(AuditLog.entity == "bulletin", AuditLog.entity_id == str(bulletin.id))
            .order_by(AuditLog.at, AuditLog.id)
        )
    )
