"""Rules and recipients as admins edit them, from the page /canh-bao and `loaxa alert`: validated here
once, with Vietnamese errors naming the field and the value."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import audit
from scheduler.access import place_scope
from scheduler.alerts.channels import WEBHOOK_FORMATS
from scheduler.alerts.engine import load_rules
from scheduler.alerts.rules import KINDS, RULE_KINDS, Rule, check_threshold
from scheduler.db.models import AlertRecipient, AlertRule, Area, Commune, User

EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


class AlertConfigInvalid(ValueError):
    """Bad input; `errors` maps a field name to its Vietnamese message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors


def set_rule(session: Session, kind: str, enabled: bool, threshold: int | None, user: User | None,
             now: datetime) -> Rule:
    """Turn a rule on or off and set its threshold (None keeps the current one)."""
    current = load_rules(session)
    if kind not in RULE_KINDS:
        raise AlertConfigInvalid({"kind": f"Không có quy tắc «{kind}». Dùng một trong: {', '.join(KINDS)}."})
    value = current[kind].threshold if threshold is None else threshold
    try:
        value = check_threshold(kind, value)
    except ValueError as exc:
        raise AlertConfigInvalid({"threshold": str(exc)}) from None
    row = session.get(AlertRule, kind)
    before = None if row is None else {"enabled": row.enabled, "threshold": row.threshold}
    if row is None:
        row = AlertRule(kind=kind)
        session.add(row)
    row.enabled, row.threshold, row.updated_at = enabled, value, now
    audit.record(session, now, user, "alert.rule", "alert_rule", kind, before=before,
                 after={"enabled": enabled, "threshold": value})
    session.flush()
    return Rule(kind, enabled, value)


@dataclass
class RecipientInput:
    name: str
    email: str = ""
    webhook_url: str = ""
    webhook_format: str = "json"
    chat_id: str = ""
    secret: str = ""
    area: str = ""
    commune: str = ""
    kinds: Sequence[str] = field(default_factory=list)
    daily_summary: bool = True


def _place(session: Session, data: RecipientInput, errors: dict[str, str]) -> tuple[Area | None, Commune | None]:
    area = commune = None
    if data.area.strip() and data.commune.strip():
        errors["commune"] = "Chọn một xã hoặc một khu vực, không chọn cả hai."
    if data.commune.strip():
        communes = list(session.scalars(select(Commune).where(Commune.name == data.commune.strip())))
        if not communes:
            errors["commune"] = f"Không có xã «{data.commune.strip()}». Ghi đúng tên xã như trong danh sách đài."
        commune = communes[0] if communes else None
    elif data.area.strip():
        area = session.scalar(select(Area).where(Area.name == data.area.strip()))
        if area is None:
            errors["area"] = f"Không có khu vực «{data.area.strip()}»."
    return area, commune


def add_recipient(session: Session, data: RecipientInput, user: User | None, now: datetime) -> AlertRecipient:
    """Store a new recipient; AlertConfigInvalid (all problems at once) for bad input."""
    errors: dict[str, str] = {}
    name = data.name.strip()
    if not name or len(name) > 120:
        errors["name"] = "Tên người nhận phải có từ 1 đến 120 ký tự."
    elif session.scalar(select(AlertRecipient.id).where(AlertRecipient.name == name)) is not None:
        errors["name"] = f"Đã có người nhận tên «{name}». Chọn tên khác hoặc xóa người cũ."
    email, url, fmt = data.email.strip(), data.webhook_url.strip(), data.webhook_format.strip() or "json"
    if not email and not url:
        errors["email"] = "Cần ít nhất một kênh: địa chỉ thư hoặc địa chỉ webhook."
    if email and not EMAIL.match(email):
        errors["email"] = f"Địa chỉ thư «{email}» không hợp lệ (ví dụ: canbo@xa.gov.vn)."
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            errors["webhook_url"] = f"Địa chỉ webhook «{url}» không hợp lệ: cần bắt đầu bằng http:// hoặc https://."
    if fmt not in WEBHOOK_FORMATS:
        errors["webhook_format"] = f"Kiểu webhook «{fmt}» không hỗ trợ; dùng: {', '.join(WEBHOOK_FORMATS)}."
    elif url and fmt in ("telegram", "zalo") and not data.chat_id.strip():
        errors["chat_id"] = ("Telegram cần mã cuộc trò chuyện (chat_id)." if fmt == "telegram"
                             else "Zalo OA cần mã người theo dõi (user_id).")
    if url and fmt == "zalo" and not data.secret.strip():
        errors["secret"] = "Zalo OA cần access token của Official Account."
    unknown = [k for k in data.kinds if k not in RULE_KINDS]
    if unknown:
        errors["kinds"] = f"Không có quy tắc «{', '.join(unknown)}». Dùng: {', '.join(KINDS)}."
    area, commune = _place(session, data, errors)
    if errors:
        raise AlertConfigInvalid(errors)
    recipient = AlertRecipient(
        name=name, email=email or None, webhook_url=url or None, webhook_format=fmt,
        chat_id=data.chat_id.strip() or None, secret=data.secret.strip() or None, area=area, commune=commune,
        kinds=list(dict.fromkeys(data.kinds)), daily_summary=data.daily_summary, active=True, created_at=now,
    )
    session.add(recipient)
    session.flush()
    audit.record(session, now, user, "alert.recipient.add", "alert_recipient", recipient.id,
                 after={"name": name, "email": email, "webhook_url": url, "format": fmt,
                        "scope": commune.name if commune else (area.name if area else "*"), "kinds": recipient.kinds})
    return recipient


def remove_recipient(session: Session, name_or_id: str, user: User | None, now: datetime) -> AlertRecipient:
    recipient = session.scalar(select(AlertRecipient).where(AlertRecipient.name == name_or_id.strip()))
    if recipient is None and name_or_id.strip().isdigit():
        recipient = session.get(AlertRecipient, int(name_or_id))
    if recipient is None:
        raise AlertConfigInvalid({"name": f"Không có người nhận «{name_or_id}»."})
    audit.record(session, now, user, "alert.recipient.remove", "alert_recipient", recipient.id,
                 before={"name": recipient.name})
    session.delete(recipient)
    session.flush()
    return recipient


def recipient_scope(recipient: AlertRecipient) -> str:
    """«Toàn tỉnh», or the commune's or area's name (scheduler.access labels it)."""
    return place_scope(recipient.area, recipient.commune).label
