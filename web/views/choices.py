"""Tin tuyến trên: a commune approver answers Nhận phát / Không phát for content from above (TT 39),
and administrators set each commune's policy. Views parse, call scheduler.commune_choice, render.

Answers are one tap from a phone; outside the user's scope a commune or bulletin does not exist (404).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from scheduler import commune_choice as service
from scheduler.access import commune_clause, in_scope
from scheduler.db.models import Bulletin, Commune
from web import context
from web.auth import requires, signed_in_user
from web.views.helpers import saving

bp = Blueprint("choices", __name__, url_prefix="/tin-tuyen-tren")


def _communes(where: Any = None) -> list[Commune]:
    query = select(Commune).options(selectinload(Commune.stations)).where(commune_clause(signed_in_user()))
    if where is not None:
        query = query.where(where)
    return list(context.db().scalars(query.order_by(Commune.name)))


@bp.route("/")
@requires("choices.decide")
def index() -> str:
    communes = _communes()
    rows = service.choices(context.db(), context.now(), communes)
    pending = [w for w in rows if w.choice == service.Choice.PENDING]
    answered = [w for w in rows if w.choice != service.Choice.PENDING]
    choosing = [c for c in communes if c.upstream_mode == "chon"]
    return render_template("choices/index.html", pending=pending, answered=answered, choosing=choosing,
                           communes=communes, answers=service.ANSWERS)


@bp.post("/<int:bulletin_id>/xa/<int:commune_id>")
@requires("choices.decide")
def decide(bulletin_id: int, commune_id: int) -> Response:
    db, user, now = context.db(), signed_in_user(), context.now()
    commune = db.scalar(select(Commune).options(selectinload(Commune.stations)).where(Commune.id == commune_id))
    bulletin = db.get(Bulletin, bulletin_id)
    if commune is None or bulletin is None or not in_scope(user, commune) or not in_scope(user, bulletin):
        abort(404)  # outside the scope a commune or a bulletin does not exist
    answer = request.form.get("answer", "")
    try:
        with saving(db):
            service.decide(db, bulletin, commune, answer, user, now)
        flash(f"{commune.name}: «{service.ANSWERS[answer]}» bản tin {bulletin.code}.", "ok")
    except (service.ChoiceRefused, ValueError) as exc:
        flash(str(exc), "error")
    return redirect(url_for("choices.index"), code=303)


@bp.route("/chinh-sach", methods=["GET", "POST"])
@requires("communes.policy")
def policy() -> Any:
    db, user, now = context.db(), signed_in_user(), context.now()
    status = 200
    if request.method == "POST":
        commune = db.get(Commune, request.form.get("commune_id", type=int) or 0)
        if commune is None:
            abort(404)
        try:
            hours = int(request.form.get("deadline_hours", "").strip())
        except ValueError:
            flash(f"Hạn quyết định «{request.form.get('deadline_hours', '')[:20]}» không phải số giờ. "
                  "Nhập một số, ví dụ 24.", "error")
            hours = None
            status = 400
        if hours is not None:
            try:
                with saving(db):
                    service.set_policy(db, commune, now, user, mode=request.form.get("mode", ""),
                                       deadline_hours=hours, default=request.form.get("default", ""),
                                       priority_order=request.form.get("priority_order", ""))
                flash(f"Đã lưu chính sách của {commune.name}.", "ok")
                return redirect(url_for("choices.policy"), code=303)
            except ValueError as exc:
                flash(str(exc), "error")
                status = 400
    return render_template("choices/policy.html", communes=_communes(), policy_of=service.policy_of,
                           modes=service.MODES, answers=service.ANSWERS, orders=service.ORDERS), status
