"""Cảnh báo: the alerts open now and of the last days (each user sees their scope), and for admins
the rules and who hears of them (scheduler.alerts.config decides; this view parses and renders)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from scheduler.access import station_clause
from scheduler.alerts.channels import WEBHOOK_FORMATS
from scheduler.alerts.config import AlertConfigInvalid, RecipientInput, add_recipient, recipient_scope, remove_recipient
from scheduler.alerts.config import set_rule as store_rule
from scheduler.alerts.engine import load_rules
from scheduler.alerts.rules import KINDS, RULE_KINDS
from scheduler.db.models import Alert, AlertRecipient, Area, Commune, Station
from web import context
from web.auth import can, require_login, requires, signed_in_user
from web.views.helpers import saving

bp = Blueprint("alerts", __name__, url_prefix="/canh-bao")
require_login(bp, "alerts.view")


@bp.app_template_filter("webhook_host")
def webhook_host(url: str) -> str:
    """Only where a webhook goes: its path may hold a secret (a Telegram bot token)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}/…" if parts.hostname else "…"
RECENT = timedelta(days=7)


def _page(errors: dict[str, str] | None = None, entered: dict[str, Any] | None = None, status: int = 200) -> Any:
    db, user, now = context.db(), signed_in_user(), context.now()
    mine = Alert.station_id.in_(select(Station.id).where(station_clause(user)))
    alerts = list(db.scalars(
        select(Alert).where(mine, or_(Alert.closed_at.is_(None), Alert.closed_at >= now - RECENT))
        .order_by(Alert.closed_at.is_not(None), Alert.opened_at.desc()).limit(200)
    ))
    manage = can(user, "alerts.manage")
    recipients = list(db.scalars(select(AlertRecipient).options(
        selectinload(AlertRecipient.area), selectinload(AlertRecipient.commune)).order_by(AlertRecipient.name))
    ) if manage else []
    return render_template(
        "alerts/index.html", alerts=alerts, rules=load_rules(db), kinds=KINDS, specs=RULE_KINDS, manage=manage,
        recipients=recipients, recipient_scope=recipient_scope, formats=WEBHOOK_FORMATS, errors=errors or {},
        entered=entered or {}, communes=sorted({c for c in db.scalars(select(Commune.name))}),
        areas=sorted(db.scalars(select(Area.name))),
    ), status


@bp.route("/")
def index() -> Any:
    return _page()


@bp.route("/quy-tac", methods=["POST"])
@requires("alerts.manage")
def set_rules() -> Any:
    db, now, user = context.db(), context.now(), signed_in_user()
    errors: dict[str, str] = {}
    try:
        with saving(db):
            for kind in KINDS:
                raw = request.form.get(f"threshold_{kind}", "").strip()
                threshold: int | None = None
                if raw:
                    try:
                        threshold = int(raw)
                    except ValueError:
                        errors[kind] = f"Ngưỡng «{raw}» của quy tắc «{RULE_KINDS[kind].label}» phải là số nguyên."
                        continue
                try:
                    store_rule(db, kind, request.form.get(f"enabled_{kind}") == "on", threshold, user, now)
                except AlertConfigInvalid as exc:
                    errors[kind] = str(exc)
            if errors:
                raise AlertConfigInvalid(errors)
    except AlertConfigInvalid:
        for message in errors.values():
            flash(message, "error")
        return _page(errors={f"rule_{k}": v for k, v in errors.items()}, status=400)
    flash("Đã lưu các quy tắc cảnh báo.", "ok")
    return redirect(url_for("alerts.index"), code=303)


@bp.route("/nguoi-nhan", methods=["POST"])
@requires("alerts.manage")
def add() -> Any:
    form = request.form
    data = RecipientInput(
        name=form.get("name", ""), email=form.get("email", ""), webhook_url=form.get("webhook_url", ""),
        webhook_format=form.get("webhook_format", "json"), chat_id=form.get("chat_id", ""),
        secret=form.get("secret", ""), area=form.get("area", ""), commune=form.get("commune", ""),
        kinds=form.getlist("kinds"), daily_summary=form.get("daily_summary") == "on",
    )
    db = context.db()
    try:
        with saving(db):
            add_recipient(db, data, signed_in_user(), context.now())
    except AlertConfigInvalid as exc:
        flash("Chưa thêm được người nhận: " + str(exc), "error")
        entered: dict[str, Any] = {k: v for k, v in form.items() if k not in ("secret", "csrf_token")}
        entered["kinds"] = form.getlist("kinds")
        return _page(errors=exc.errors, entered=entered, status=400)
    flash(f"Đã thêm người nhận «{data.name.strip()}».", "ok")
    return redirect(url_for("alerts.index"), code=303)


@bp.route("/nguoi-nhan/<int:recipient_id>/xoa", methods=["POST"])
@requires("alerts.manage")
def remove(recipient_id: int) -> Response:
    db = context.db()
    if db.get(AlertRecipient, recipient_id) is None:
        abort(404)
    with saving(db):
        gone = remove_recipient(db, str(recipient_id), signed_in_user(), context.now())
    flash(f"Đã xóa người nhận «{gone.name}».", "ok")
    return redirect(url_for("alerts.index"), code=303)
