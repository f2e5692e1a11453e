"""Phát khẩn cấp: start an emergency broadcast after an explicit confirmation step, and cancel it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from sqlalchemy import case, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from scheduler import emergencies as service
from scheduler.bulletins import resolve_targets, split_targets
from scheduler.db.models import Bulletin, Emergency
from scheduler.domain import BulletinStatus, Priority
from scheduler.programmes import load_stations, target_codes
from web import context
from web.auth import require_login, requires, signed_in_user
from web.forms import EmergencyForm, option
from web.views.helpers import local, saving, to_utc

bp = Blueprint("emergencies", __name__, url_prefix="/khan-cap")
require_login(bp, "emergencies.view")

CHOICES_LIMIT = 200


def _choices() -> list[Any]:
    """Approved bulletins that have audio, emergency ones first."""
    rows = context.db().execute(
        select(Bulletin.id, Bulletin.code, Bulletin.title, Bulletin.priority)
        .where(Bulletin.status == BulletinStatus.APPROVED.value, Bulletin.audio_asset_id.is_not(None))
        .order_by(case((Bulletin.priority == Priority.EMERGENCY.value, 0), else_=1), Bulletin.updated_at.desc())
        .limit(CHOICES_LIMIT)
    )
    return [
        option(bid, f"{'[KHẨN] ' if priority == Priority.EMERGENCY.value else ''}{code} — {title}")
        for bid, code, title, priority in rows
    ]


def _page(form: EmergencyForm, status: int = 200) -> Any:
    db, now = context.db(), context.now()
    active = service.list_active(db, now)
    recent = list(
        db.scalars(
            select(Emergency)
            .options(selectinload(Emergency.bulletin))
            .order_by(Emergency.created_at.desc(), Emergency.id.desc())
            .limit(20)
        )
    )
    ends = {e.id: service.emergency_ends_at(e) for e in active}
    return render_template("emergencies/index.html", form=form, active=active, recent=recent, ends=ends), status


@bp.route("/")
def index() -> Any:
    form = EmergencyForm()
    form.bulletin_id.choices = _choices()
    return _page(form)


def _checked(form: EmergencyForm) -> tuple[Bulletin, list[str], service.RepeatRule] | None:
    """Parse and check the form; put Vietnamese errors beside the fields and return None if anything is wrong."""
    form.bulletin_id.choices = _choices()
    form.validate()
    db, now = context.db(), context.now()
    bulletin = db.get(Bulletin, form.bulletin_id.data) if form.bulletin_id.data else None
    if bulletin is None:
        form.bulletin_id.errors = [*list(form.bulletin_id.errors), "Hãy chọn một bản tin đã duyệt, đã có âm thanh."]
    targets = split_targets(form.targets.data or "")
    try:
        targets = resolve_targets(db, targets)
    except ValueError as exc:
        text = str(exc)
        form.targets.errors = [*list(form.targets.errors), text[:1].upper() + text[1:] + "."]
    every, until = form.repeat_every_minutes.data, form.repeat_until.data
    if every is not None and until is None:
        form.repeat_until.errors = [*list(form.repeat_until.errors), "Phát lặp lại cần giờ kết thúc lặp."]
    if until is not None and every is None:
        form.repeat_every_minutes.errors = [
            *list(form.repeat_every_minutes.errors),
            "Muốn lặp đến một giờ thì phải cho khoảng lặp (số phút).",
        ]
    rule = service.RepeatRule(every_minutes=every, until=to_utc(until) if until else None)
    if not form.errors:
        try:
            service.plays_for(now, rule)
        except ValueError as exc:
            form.repeat_every_minutes.errors = [str(exc)]
    if form.errors or bulletin is None:
        return None
    return bulletin, targets, rule


@bp.route("/xac-nhan", methods=["POST"])
@requires("emergencies.start")
def confirm() -> Any:
    """Step one: show exactly what will air, where and when; nothing is stored yet."""
    form = EmergencyForm()
    checked = _checked(form)
    if checked is None:
        return _page(form, 400)
    bulletin, targets, rule = checked
    plays = service.plays_for(context.now(), rule)
    return render_template(
        "emergencies/confirm.html", form=form, bulletin=bulletin, targets=targets,
        plays=[local(p) for p in plays],
    )  # fmt: skip


@bp.route("/phat", methods=["POST"])
@requires("emergencies.start")
def start() -> Any:
    """Step two: the person confirmed; put the plays into the programmes now."""
    form = EmergencyForm()
    if form.confirmed.data != "co":
        flash("Chưa xác nhận phát khẩn cấp. Hãy kiểm tra lại và bấm «Xác nhận phát ngay».", "error")
        return redirect(url_for("emergencies.index"), code=303)
    checked = _checked(form)
    if checked is None:
        return _page(form, 400)
    bulletin, targets, rule = checked
    db, now = context.db(), context.now()
    try:
        with saving(db):
            emergency = service.start_emergency(db, bulletin, targets, rule, signed_in_user(), now)
            stations = sorted(target_codes(targets, load_stations(db)))
    except ValueError as exc:
        form.bulletin_id.errors = [str(exc)]
        return _page(form, 400)
    service.announce(context.settings(), emergency, stations, now)
    flash(f"Đã phát khẩn cấp bản tin {bulletin.code} (lệnh số {emergency.id}).", "ok")
    return redirect(url_for("emergencies.index"), code=303)


@bp.route("/<int:emergency_id>/huy", methods=["POST"])
@requires("emergencies.start")
def cancel(emergency_id: int) -> Response:
    db = context.db()
    emergency = db.scalar(
        select(Emergency).options(selectinload(Emergency.bulletin)).where(Emergency.id == emergency_id)
    )
    if emergency is None:
        abort(404)
    try:
        with saving(db):
            stations = service.cancel_emergency(db, emergency, signed_in_user(), context.now())
        flash(f"Đã hủy lệnh khẩn cấp số {emergency.id}; {len(stations)} đài được cập nhật lịch.", "ok")
    except ValueError as exc:
        flash(str(exc), "error")
    return redirect(url_for("emergencies.index"), code=303)
