"""Bulletins sent by an upstream source system (hệ thống thông tin nguồn) through
`POST /api/v1/upstream/bulletins`: checked like the form, stored approved by that source.

The request's shape is documented by scheduler/upstream_bulletin.schema.json (linked from docs/);
its bulletin fields are checked by scheduler.bulletins.check_bulletin (the form's rules, one validator). A request is
idempotent by (source, external_id): sending the same bulletin again answers with the stored one;
the same external_id with other content is refused, nothing changes. Once stored, the bulletin is
*from above* for every commune, so each commune's TT 39 policy applies (scheduler.commune_choice).
*Khẩn cấp* content comes through CAP (`POST /api/v1/cap`), not here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import audit
from scheduler.bulletins import BulletinDraft, BulletinInvalid, check_bulletin, next_code, snapshot
from scheduler.db.models import Bulletin, Source
from scheduler.domain import BulletinStatus, Priority
from scheduler.wire import CAP_PATH

FIELDS = frozenset({"external_id", "code", "title", "text", "topic", "language", "priority", "valid_from",
                    "valid_to", "plays_per_week", "targets", "audio"})
EXTERNAL_ID_RE = re.compile(r"^[^\s].{0,119}$", re.S)
AUDIO_FIELDS = frozenset({"filename", "content_base64"})


@dataclass
class Received:
    bulletin: Bulletin
    created: bool


def shape_errors(payload: Any) -> dict[str, str]:
    """What is wrong with the request's shape (not a JSON object, unknown or mistyped keys), in Vietnamese.

    The bulletin's own fields are checked by check_bulletin; only the envelope is checked here.
    """
    if not isinstance(payload, dict):
        return {"body": "Nội dung gửi lên phải là một đối tượng JSON: {\"external_id\": \"…\", \"title\": \"…\", …}."}
    errors: dict[str, str] = {}
    unknown = sorted(set(payload) - FIELDS)
    if unknown:
        errors["body"] = (f"Trường «{', '.join(unknown)[:200]}» không có trong lược đồ "
                          "(docs/upstream-bulletin.schema.json). Bỏ trường đó đi.")
    external = payload.get("external_id")
    if not isinstance(external, str) or not EXTERNAL_ID_RE.match(external):
        errors["external_id"] = ("Thiếu hoặc sai external_id: mã bản tin bên hệ thống nguồn, chuỗi 1–120 ký tự, "
                                 "dùng để gửi lại không bị trùng.")
    targets = payload.get("targets")
    if targets is not None and not (isinstance(targets, list) and all(isinstance(t, str) for t in targets)):
        errors["targets"] = "targets phải là danh sách chuỗi: mã đài, tên xã hoặc \"*\" cho cả tỉnh."
    audio = payload.get("audio")
    if audio is not None and not (isinstance(audio, dict) and set(audio) == AUDIO_FIELDS
                                  and all(isinstance(v, str) for v in audio.values())):
        errors["audio"] = "audio phải có đúng hai trường chuỗi: filename (ví dụ ban-tin.mp3) và content_base64."
    if payload.get("priority") == Priority.EMERGENCY.value:
        errors["priority"] = (f"Tin khẩn cấp không gửi qua đây: gửi cảnh báo CAP 1.2 tới {CAP_PATH} để người "
                              "duyệt cho phát ngay.")
    return errors


def _same(bulletin: Bulletin, draft: BulletinDraft, targets: list[str]) -> bool:
    """Whether the stored bulletin already holds what the request sends (a retry)."""
    return (
        bulletin.title == draft.title.strip() and bulletin.text == draft.text.strip()
        and bulletin.topic == draft.topic and bulletin.language == draft.language
        and bulletin.priority == draft.priority and bulletin.valid_from == draft.valid_from
        and bulletin.valid_to == draft.valid_to and bulletin.plays_per_week == draft.plays_per_week
        and list(bulletin.targets or []) == targets and bulletin.recording_file == draft.recording_file
    )  # fmt: skip


def receive(
    session: Session, payload: Mapping[str, Any], source: Source, now: datetime, recording: str | None = None
) -> Received:
    """Store the bulletin approved by `source`, or return the one already stored for its external_id.

    BulletinInvalid (Vietnamese, per field) for a bad payload or an external_id already used for other
    content; nothing is stored then. `recording` is the media-relative name of the stored audio, if any.
    """
    errors = shape_errors(payload)
    if errors:
        raise BulletinInvalid(errors)
    external = str(payload["external_id"])
    existing = session.scalar(select(Bulletin).where(Bulletin.source_id == source.id, Bulletin.external_id == external))
    fields = {k: v for k, v in payload.items() if k not in ("external_id", "audio")}
    fields["recording_file"] = recording
    if existing is not None:
        fields["code"] = existing.code
    draft, targets = check_bulletin(session, fields, existing)
    if existing is not None:
        if not _same(existing, draft, targets):
            raise BulletinInvalid({"external_id": (
                f"external_id «{external[:120]}» đã dùng cho bản tin {existing.code} với nội dung khác. "
                "Gửi lại đúng nội dung cũ, hoặc dùng external_id mới cho bản tin mới."
            )})
        return Received(existing, created=False)
    assert draft.valid_from is not None and draft.valid_to is not None and draft.plays_per_week is not None
    bulletin = Bulletin(
        code=draft.code.strip() or next_code(session, now), title=draft.title.strip(), text=draft.text.strip(),
        topic=draft.topic, language=draft.language, priority=draft.priority, valid_from=draft.valid_from,
        valid_to=draft.valid_to, plays_per_week=draft.plays_per_week, targets=targets, recording_file=recording,
        status=BulletinStatus.APPROVED.value, approved_at=now, source_id=source.id, external_id=external,
        review_comment=f"Nhận từ nguồn {source.name}", created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(bulletin)
    session.flush()
    audit.record(session, now, None, "bulletin.upstream", "bulletin", bulletin.id, None,
                 {**snapshot(bulletin), "source": source.name, "external_id": external},
                 actor=f"nguồn {source.name}")
    return Received(bulletin, created=True)
