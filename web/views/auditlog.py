"""Nhật ký: the audit log — who did what, when, with the state before and after — filterable and paged."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, render_template, request
from sqlalchemy import select

from scheduler.db.models import AuditLog
from web import context
from web.auth import require_login
from web.views.helpers import day_bounds, page_number, paginate
from web.views.labels import ACTIONS, ENTITIES

bp = Blueprint("audit", __name__, url_prefix="/nhat-ky")
require_login(bp, "audit.view")


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    """(key, before, after) for every key whose value differs, values shown as compact JSON."""
    before, after = before or {}, after or {}
    rows = []
    for key in list(dict.fromkeys([*before, *after])):
        old, new = before.get(key), after.get(key)
        if old != new:
            rows.append((key, _show(old), _show(new)))
    return rows


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _parse_day(text: str) -> datetime | None:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


@bp.route("/")
def index() -> Any:
    filters = {k: request.args.get(k, "").strip() for k in ("nguoi", "doi_tuong", "hanh_dong", "ma", "tu", "den")}
    errors: dict[str, str] = {}
    query = select(AuditLog)
    if filters["nguoi"]:
        query = query.where(AuditLog.username == filters["nguoi"])
    if filters["doi_tuong"]:
        query = query.where(AuditLog.entity == filters["doi_tuong"])
    if filters["hanh_dong"]:
        query = query.where(AuditLog.action == filters["hanh_dong"])
    if filters["ma"]:
        query = query.where(AuditLog.entity_id == filters["ma"])
    first = _parse_day(filters["tu"]) if filters["tu"] else None
    last = _parse_day(filters["den"]) if filters["den"] else None
    if filters["tu"] and first is None:
        errors["tu"] = f"Ngày «{filters['tu']}» không hợp lệ. Dùng dạng 23/11/2026."
    if filters["den"] and last is None:
        errors["den"] = f"Ngày «{filters['den']}» không hợp lệ. Dùng dạng 23/11/2026."
    if first and last and last < first:
        errors["den"] = f"Ngày đến {last:%d/%m/%Y} trước ngày từ {first:%d/%m/%Y}. Hãy đổi lại thứ tự."
    if not errors:
        if first:
            query = query.where(AuditLog.at >= day_bounds(first.date())[0])
        if last:
            query = query.where(AuditLog.at < day_bounds(last.date())[1])
    page = paginate(context.db(), query.order_by(AuditLog.at.desc(), AuditLog.id.desc()), page_number())
    return render_template(
        "audit/index.html", page=page, filters=filters, errors=errors, actions=ACTIONS, entities=ENTITIES,
        changes=changes,
    ), (400 if errors else 200)  # fmt: skip
