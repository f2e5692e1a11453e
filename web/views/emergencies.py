"""Phát khẩn cấp: type the warning (or upload a recording, or pick a khẩn cấp bulletin), hear it, confirm,
then watch every station on the tracking board; hold, resume, cancel, export; approvers release
pending orders (an editor's request, a CAP alert) with one click.

Views parse, call scheduler.emergencies and render. Operators see only emergencies aimed at their
commune, and only their commune's rows of a board.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from audio.errors import AudioError
from scheduler import emergencies as service
from scheduler.access import commune_clause, scope_of
from scheduler.bulletins import split_targets
from scheduler.db.models import Bulletin, Commune, Emergency, User
from scheduler.emergencies import orders, tracking
from scheduler.emergencies.rules import RepeatRule
from scheduler.rendering import store_asset
from web import context
from web.auth import can, require_login, requires, signed_in_user
from web.forms import EmergencyForm, attach_errors, option
from web.views.helpers import local, saving, to_utc
from web.views.uploads import read_recording, save_recording

bp = Blueprint("emergencies", __name__, url_prefix="/khan-cap")
require_login(bp, "emergencies.view")

RECORDING_NAME = re.compile(r"^uploads/[0-9a-f]{64}\.[a-z0-9]{2,5}$")


def _visible(query: Any, user: User) -> Any:
    """Only emergencies aimed at a station inside the user's scope (scheduler.access)."""
    return query.where(tracking.aimed_within(user))


def _bulletin_choices() -> list[Any]:
    return [option(0, "— Chọn bản tin —")] + [
        option(b.id, f"{b.code} — {b.title}") for b in orders.emergency_bulletins(context.db())
    ]


PICKED = "noi_phat"  # the checkboxes of the place picker, added to the typed targets


def _places(user: User) -> dict[str, Any]:
    """What the place picker offers inside the user's scope: the whole province (province scope only), then
    each area (pickable as a whole where the user's scope covers it) with its communes."""
    scope = scope_of(user)
    communes = context.db().scalars(
        select(Commune).options(selectinload(Commune.area)).where(commune_clause(user))
        .order_by(Commune.name))
    groups: dict[str, list[str]] = {}
    for commune in communes:
        groups.setdefault(commune.area.name if commune.area is not None else "", []).append(commune.name)
    return {"province": scope.level == "province", "areas": scope.level in ("province", "area"),
            "groups": sorted(groups.items(), key=lambda kv: (kv[0] == "", kv[0]))}


def _take_picked(form: EmergencyForm) -> None:
    """The places ticked in the picker join the typed ones (each once, typed first)."""
    picked = request.form.getlist(PICKED)
    if picked:
        typed = split_targets(form.targets.data or "")
        form.targets.data = "; ".join(dict.fromkeys([*typed, *(p.strip() for p in picked if p.strip())]))


def _page(form: EmergencyForm, status: int = 200) -> Any:
    db, now, user = context.db(), context.now(), signed_in_user()
    active = [e for e in service.list_active(db, now) if tracking.visible_to(db, e, user)]
    pending = [e for e in service.list_pending(db, now) if tracking.visible_to(db, e, user)]
    recent = list(db.scalars(_visible(
        select(Emergency).options(selectinload(Emergency.bulletin).selectinload(Bulletin.audio))
        .order_by(Emergency.created_at.desc(), Emergency.id.desc()).limit(20), user)))
    boards = {e.id: tracking.board(db, e, now, summary_only=True) for e in active}
    ends = {e.id: service.emergency_ends_at(e) for e in active}
    releasable = {e.id for e in pending if service.release_refusal(e, user) is None}
    return render_template("emergencies/index.html", form=form, active=active, pending=pending, recent=recent,
                           releasable=releasable, ends=ends, boards=boards, places=_places(user), picked=PICKED,
                           state_label=lambda e: service.state_label(e, now)), status


@bp.route("/")
def index() -> Any:
    form = EmergencyForm()
    form.bulletin_id.choices = _bulletin_choices()
    return _page(form)


def _order(form: EmergencyForm) -> orders.Order | None:
    """Parse the form into an order; errors go beside the fields and None comes back."""
    form.bulletin_id.choices = _bulletin_choices()
    _take_picked(form)
    form.validate()
    db = context.db()
    code = None
    if form.source.data == orders.BULLETIN and form.bulletin_id.data:
        code = db.scalar(select(Bulletin.code).where(Bulletin.id == form.bulletin_id.data))
    every, until = form.repeat_every_minutes.data, form.repeat_until.data
    if every is not None and until is None:
        form.repeat_until.errors = [*list(form.repeat_until.errors), "Phát lặp lại cần giờ kết thúc lặp."]
    if until is not None and every is None:
        form.repeat_every_minutes.errors = [*list(form.repeat_every_minutes.errors),
                                            "Muốn lặp đến một giờ thì phải cho khoảng lặp (số phút)."]
    recording_file = form.recording_file.data or None
    if form.source.data == orders.RECORDING and not form.confirmed.data:
        try:
            upload = read_recording(form.recording.data)
            if upload is not None:
                recording_file, _ = save_recording(upload[0], upload[1], context.settings().media_dir)
        except ValueError as exc:
            form.recording.errors = [*list(form.recording.errors), str(exc)]
    if recording_file and not RECORDING_NAME.match(recording_file):
        recording_file = None
    if form.errors:
        return None
    return orders.Order(
        source=form.source.data or orders.WORDS, text=form.text.data or "", title=form.title.data or "",
        recording_file=recording_file, bulletin_code=code, targets=split_targets(form.targets.data or ""),
        rule=RepeatRule(every_minutes=every, until=to_utc(until) if until else None),
        full_volume=bool(form.full_volume.data),
        expires_minutes=form.expires_minutes.data if form.expires_minutes.data is not None else 15,
        engine=form.engine.data or None,
    )


def _prepared(form: EmergencyForm) -> orders.Prepared | None:
    order = _order(form)
    if order is None:
        return None
    settings = context.settings()
    try:
        return orders.prepare(context.db(), order, settings.media_dir, settings.audio, context.now(),
                              signed_in_user())
    except orders.OrderInvalid as exc:
        errors = dict(exc.errors)
        if "repeat" in errors:
            errors["repeat_every_minutes"] = errors.pop("repeat")
        if "expires" in errors:
            errors["expires_minutes"] = errors.pop("expires")
        for message in attach_errors(form, errors):
            form.text.errors = [*list(form.text.errors), message]
        return None


@bp.route("/xac-nhan", methods=["POST"])
@requires("emergencies.request")
def confirm() -> Any:
    """Step one: render the warning now and show exactly what will air, where and when. Nothing airs yet."""
    form = EmergencyForm()
    prepared = _prepared(form)
    if prepared is None:
        return _page(form, 400)
    db = context.db()
    if prepared.composed is not None:
        with saving(db):  # the asset row lets the page's player fetch the sound
            store_asset(db, prepared.composed.rendered, context.now())
    return render_template(
        "emergencies/confirm.html", form=form, prepared=prepared, plays=[local(p) for p in prepared.plays],
        starting=service.may_start(signed_in_user()),
    )


@bp.route("/phat", methods=["POST"])
@requires("emergencies.request")
def start() -> Any:
    """Step two: the person confirmed; start it (approvers, admins) or send it for approval (editors)."""
    form = EmergencyForm()
    if form.confirmed.data != "co":
        flash("Chưa xác nhận phát khẩn cấp. Hãy kiểm tra lại và bấm «Xác nhận phát ngay».", "error")
        return redirect(url_for("emergencies.index"), code=303)
    prepared = _prepared(form)
    if prepared is None:
        return _page(form, 400)
    db, now, user = context.db(), context.now(), signed_in_user()
    try:
        with saving(db):
            emergency = orders.launch(db, prepared, user, now)
            emergency_id, codes = emergency.id, [s.code for s in prepared.stations]
    except (ValueError, AudioError) as exc:
        form.text.errors = [*list(form.text.errors), str(exc)]
        return _page(form, 400)
    if emergency.state == service.PENDING:
        flash(f"Đã gửi yêu cầu phát khẩn cấp số {emergency_id}; lệnh chờ người duyệt cho phát.", "ok")
    else:
        _announce(emergency_id, codes)
        flash(f"Đã ra lệnh phát khẩn cấp số {emergency_id} tới {len(codes)} đài. "
              "Theo dõi từng đài nhận và phát ở bảng dưới.", "ok")
    return redirect(url_for("emergencies.show", emergency_id=emergency_id), code=303)


def _announce(emergency_id: int, codes: list[str]) -> None:
    """After the commit: the play-now over MQTT, and the board rows the broker confirmed."""
    db = context.db()
    emergency = _load(emergency_id)
    with saving(db):
        service.announce(context.settings(), emergency, codes, context.now())


def _load(emergency_id: int) -> Emergency:
    user = signed_in_user()
    emergency: Emergency | None = context.db().scalar(_visible(
        select(Emergency).options(selectinload(Emergency.bulletin).selectinload(Bulletin.audio))
        .where(Emergency.id == emergency_id), user))
    if emergency is None:
        abort(404)
    return emergency


def _board(emergency: Emergency) -> tracking.Board:
    return tracking.board(context.db(), emergency, context.now(), user=signed_in_user())


@bp.route("/<int:emergency_id>")
def show(emergency_id: int) -> Any:
    """The tracking board: every target station's state, live (the page polls bang.json)."""
    emergency = _load(emergency_id)
    now = context.now()
    return render_template(
        "emergencies/board.html", e=emergency, board=_board(emergency), state=service.state_label(emergency, now),
        plays=[local(p) for p in service.emergency_plays(emergency)], labels=tracking.LABELS,
        may_start=can(signed_in_user(), "emergencies.start"),
        over=service.is_over(emergency, now),
    )


@bp.route("/<int:emergency_id>/bang.json")
def board_json(emergency_id: int) -> Response:
    """The board as JSON (what `loaxa emergency status ID --format json` prints)."""
    emergency = _load(emergency_id)
    data = _board(emergency).to_dict()
    data["state_label"] = service.state_label(emergency, context.now())
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:emergency_id>/bang.csv")
def board_csv(emergency_id: int) -> Response:
    """Export of the board: one row per station, UTF-8 with BOM for spreadsheets."""
    emergency = _load(emergency_id)
    data = tracking.board_csv(_board(emergency), context.settings().tz)
    return Response(data, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="khan-cap-{emergency.id}.csv"'})


def _act(emergency_id: int, action: str) -> Any:
    emergency = _load(emergency_id)
    db, now, user, settings = context.db(), context.now(), signed_in_user(), context.settings()
    try:
        with saving(db):
            if action == "hold":
                stations = service.hold_emergency(db, emergency, user, now)
                message = f"Đã tạm dừng lệnh khẩn cấp số {emergency.id}; {len(stations)} đài được cập nhật lịch."
            elif action == "resume":
                stations = service.resume_emergency(db, emergency, user, now)
                message = f"Đã tiếp tục lệnh khẩn cấp số {emergency.id}: {len(stations)} đài chưa phát sẽ phát ngay."
            elif action == "release":
                service.release_emergency(db, emergency, user, now)
                stations = [r.station for r in tracking.board(db, emergency, now).rows]
                message = f"Đã cho phát lệnh khẩn cấp số {emergency.id} tới {len(stations)} đài."
            else:
                stations = service.cancel_emergency(db, emergency, user, now)
                message = f"Đã hủy lệnh khẩn cấp số {emergency.id}; {len(stations)} đài được cập nhật lịch."
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("emergencies.show", emergency_id=emergency_id), code=303)
    if action in ("resume", "release"):
        _announce(emergency.id, stations)
    elif action in ("hold", "cancel"):
        with saving(db):
            service.stop_playing(settings, db, emergency, now)
    flash(message, "ok")
    return redirect(url_for("emergencies.show", emergency_id=emergency_id), code=303)


@bp.route("/<int:emergency_id>/tam-dung", methods=["POST"])
@requires("emergencies.start")
def hold(emergency_id: int) -> Any:
    return _act(emergency_id, "hold")


@bp.route("/<int:emergency_id>/tiep-tuc", methods=["POST"])
@requires("emergencies.start")
def resume(emergency_id: int) -> Any:
    return _act(emergency_id, "resume")


@bp.route("/<int:emergency_id>/cho-phat", methods=["POST"])
@requires("emergencies.start")
def release(emergency_id: int) -> Any:
    return _act(emergency_id, "release")


@bp.route("/<int:emergency_id>/huy", methods=["POST"])
@requires("emergencies.start")
def cancel(emergency_id: int) -> Any:
    return _act(emergency_id, "cancel")
