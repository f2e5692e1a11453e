"""Bản tin: list and filter, write and edit with a spoken preview, upload a recording, submit, approve or return."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from audio.errors import AudioError
from scheduler import bulletins as service
from scheduler.access import in_scope, places, reaches
from scheduler.bulletins import split_targets
from scheduler.catalogue import LANGUAGES, TOPICS
from scheduler.db.models import AudioAsset, Bulletin, Commune, Station, User
from scheduler.domain import BulletinStatus, Priority
from scheduler.rendering import RENDERABLE, listen_preview, render_for_broadcast
from web import context
from web.auth import can, can_approve, require_login, requires, signed_in_user
from web.forms import BulletinForm, ReviewForm, attach_errors
from web.views.helpers import local_today, page_number, paginate, saving
from web.views.uploads import discard_recording, read_recording, save_recording

bp = Blueprint("bulletins", __name__, url_prefix="/ban-tin")
require_login(bp, "bulletins.view")

MAX_PREVIEW_CHARS = 20_000


def _get(bulletin_id: int) -> Bulletin:
    bulletin = context.db().scalar(
        select(Bulletin)
        .options(selectinload(Bulletin.author), selectinload(Bulletin.approver), selectinload(Bulletin.audio))
        .where(Bulletin.id == bulletin_id)
    )
    if bulletin is None or not in_scope(signed_in_user(), bulletin):
        abort(404)  # outside the scope a bulletin does not exist
    return bulletin


@bp.route("/")
def index() -> str:
    filters = {key: request.args.get(key, "").strip() for key in ("chu_de", "trang_thai", "ngon_ngu", "uu_tien", "q")}
    query = select(Bulletin).options(selectinload(Bulletin.author))
    if filters["chu_de"] in TOPICS:
        query = query.where(Bulletin.topic == filters["chu_de"])
    if filters["trang_thai"] in {s.value for s in BulletinStatus}:
        query = query.where(Bulletin.status == filters["trang_thai"])
    elif not filters["trang_thai"]:
        query = query.where(Bulletin.status != BulletinStatus.ARCHIVED.value)
    if filters["ngon_ngu"] in LANGUAGES:
        query = query.where(Bulletin.language == filters["ngon_ngu"])
    if filters["uu_tien"] in {p.value for p in Priority}:
        query = query.where(Bulletin.priority == filters["uu_tien"])
    if filters["q"]:
        pattern = "%" + filters["q"].replace("%", r"\%").replace("_", r"\_") + "%"
        query = query.where(or_(Bulletin.code.ilike(pattern, escape="\\"), Bulletin.title.ilike(pattern, escape="\\")))
    query = _scoped(query)
    page = paginate(context.db(), query.order_by(Bulletin.updated_at.desc(), Bulletin.id.desc()), page_number())
    return render_template(
        "bulletins/index.html", page=page, filters=filters, topics=TOPICS, languages=LANGUAGES,
        statuses=list(BulletinStatus), priorities=list(Priority),
    )  # fmt: skip


def _scoped(query: Any) -> Any:
    """Only bulletins that reach the user's scope, or that they wrote (scheduler.access)."""
    db, user = context.db(), signed_in_user()
    inside = places(db, user)
    if inside is None:
        return query
    rows = db.execute(select(Bulletin.id, Bulletin.targets, Bulletin.author_id))
    ids = [i for i, targets, author in rows if author == user.id or reaches(db, user, targets or [], inside)]
    return query.where(Bulletin.id.in_(ids))


def _draft(form: BulletinForm, recording: str | None, bulletin: Bulletin | None) -> service.BulletinDraft:
    return service.BulletinDraft(
        code=form.code.data or "",
        title=form.title.data or "",
        text=form.text.data or "",
        topic=form.topic.data or "",
        language=form.language.data or "",
        priority=form.priority.data or "",
        valid_from=form.valid_from.data,
        valid_to=form.valid_to.data,
        plays_per_week=form.plays_per_week.data,
        targets=split_targets(form.targets.data or ""),
        recording_file=recording,
        keep_recording=not form.remove_recording.data,
    )


def _save(form: BulletinForm, bulletin: Bulletin | None) -> Bulletin | None:
    """Validate, store the recording, save the bulletin; on any error nothing is kept and None is returned."""
    db, now, user = context.db(), context.now(), signed_in_user()
    form.validate()
    try:
        upload = read_recording(form.recording.data)
    except ValueError as exc:
        form.recording.errors = [*list(form.recording.errors), str(exc)]
        upload = None
    if form.errors:
        return None
    recording, fresh = None, False
    media = context.settings().media_dir
    if upload is not None:
        recording, fresh = save_recording(upload[0], upload[1], media)
    try:
        with saving(db):
            draft = _draft(form, recording, bulletin)
            if bulletin is None:
                return service.create_bulletin(db, draft, user, now, context.settings().tz)
            return service.update_bulletin(db, bulletin, draft, user, now)
    except service.BulletinInvalid as exc:
        for message in attach_errors(form, exc.errors):
            flash(message, "error")
    except service.BulletinRefused as exc:
        flash(str(exc), "error")
    if fresh and recording:
        discard_recording(recording, media)
    return None


@bp.route("/moi", methods=["GET", "POST"])
@requires("bulletins.edit")
def create() -> Any:
    form = BulletinForm()
    if request.method == "GET":
        today = local_today()
        form.valid_from.data = today
        form.valid_to.data = today + timedelta(days=13)  # two programme weeks unless changed
        form.plays_per_week.data = 3
        form.topic.data = "tthc"
    elif (bulletin := _save(form, None)) is not None:
        flash(f"Đã lưu bản tin {bulletin.code} (bản nháp). Khi xong, bấm «Gửi duyệt».", "ok")
        return redirect(url_for("bulletins.show", bulletin_id=bulletin.id), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("bulletins/edit.html", form=form, bulletin=None, **_target_help()), status


@bp.route("/<int:bulletin_id>/sua", methods=["GET", "POST"])
@requires("bulletins.edit")
def edit(bulletin_id: int) -> Any:
    bulletin = _managed(bulletin_id)
    if bulletin.status == BulletinStatus.ARCHIVED.value:
        flash(f"Bản tin {bulletin.code} đã lưu trữ, không sửa được nữa.", "error")
        return redirect(url_for("bulletins.show", bulletin_id=bulletin.id), code=303)
    form = BulletinForm(obj=bulletin if request.method == "GET" else None)
    if request.method == "GET":
        form.targets.data = "; ".join(bulletin.targets or [])
    elif _save(form, bulletin) is not None:
        flash(f"Đã lưu thay đổi của bản tin {bulletin.code}.", "ok")
        return redirect(url_for("bulletins.show", bulletin_id=bulletin.id), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("bulletins/edit.html", form=form, bulletin=bulletin, **_target_help()), status


def _target_help() -> dict[str, Any]:
    """Real examples for the targets hint and the picker's choices: the communes and stations the user may
    target (scheduler.access), each commune followed by its stations."""
    db, user = context.db(), signed_in_user()
    inside = places(db, user)
    rows = db.execute(
        select(Commune.name, Station.code, Station.name).join(Station.commune).where(Station.active)
        .order_by(Commune.name, Station.code)
    ).all()
    if inside is not None:
        rows = [r for r in rows if r[0] in inside.communes]
    groups: dict[str, list[tuple[str, str]]] = {}
    for commune, code, name in rows:
        groups.setdefault(commune, []).append((code, f"{code} — {name}"))
    choices = [(commune, [(commune, f"{commune} (mọi đài của xã, {len(stations)} đài)"), *stations])
               for commune, stations in groups.items()]
    if inside is None:
        choices.insert(0, ("Toàn tỉnh", [("*", "* — mọi đài")]))
    if rows:
        hint = f"Ghi mã đài hoặc tên xã, cách nhau bởi dấu ;, ví dụ: {rows[0][1]}; {rows[-1][0]}."
    else:
        hint = "Ghi mã đài hoặc tên xã, cách nhau bởi dấu ;. Chưa có đài nào: nhập đài trước ở trang Đài."
    if inside is None:
        hint += " Dùng * để phát ở mọi đài."
    return {"target_hint": hint, "target_choices": choices}


@bp.route("/<int:bulletin_id>")
def show(bulletin_id: int) -> str:
    bulletin = _get(bulletin_id)
    user = signed_in_user()
    return render_template(
        "bulletins/show.html",
        b=bulletin,
        history=service.history(context.db(), bulletin),
        review=ReviewForm(),
        may_edit=can(user, "bulletins.edit") and bulletin.status != BulletinStatus.ARCHIVED.value
        and service.may_manage(context.db(), user, bulletin),
        may_review=can_approve(user, bulletin) and bulletin.status == BulletinStatus.SUBMITTED.value,
        own_bulletin=bulletin.author_id == user.id,
        renderable=bulletin.status in RENDERABLE,
        preview=_preview_asset(request.args.get("nghe", "")),
    )


def _preview_asset(sha256: str) -> AudioAsset | None:
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        return None
    return context.db().scalar(select(AudioAsset).where(AudioAsset.sha256 == sha256))


def _may_listen(user: User | None) -> bool:
    return can(user, "bulletins.edit") or can(user, "bulletins.approve")


def _asset_json(asset: AudioAsset, broadcast: bool) -> dict[str, Any]:
    return {"url": url_for("views.audio", sha256=asset.sha256), "sha256": asset.sha256,
            "seconds": round(asset.duration_ms / 1000), "engine": asset.engine, "broadcast": broadcast}


@bp.route("/<int:bulletin_id>/nghe-thu", methods=["POST"])
def listen(bulletin_id: int) -> Any:
    """Sound to hear now: the bulletin's broadcast audio (rendered at once if submitted or approved and not
    made yet), or for a draft the offline engine's reading. JSON for the page's script, a redirect otherwise."""
    bulletin = _get(bulletin_id)
    if not _may_listen(signed_in_user()):
        abort(403)
    db, settings, now = context.db(), context.settings(), context.now()
    broadcast = bulletin.audio is not None or bulletin.status in RENDERABLE
    try:
        with saving(db):
            if broadcast:
                asset = render_for_broadcast(db, bulletin, settings.media_dir, settings.audio, now)
            else:
                asset = listen_preview(db, bulletin.text, bulletin.language, bulletin.title, bulletin.recording_file,
                                       settings.media_dir, settings.audio, now)
    except AudioError as exc:
        if broadcast:  # recorded as the background service would, for the page and the dashboard
            with saving(db):
                bulletin.render_error = str(exc)
        message = f"Chưa tạo được âm thanh: {exc}"
        if _wants_json():
            return jsonify(error=message), 422
        flash(message, "error")
        return redirect(url_for("bulletins.show", bulletin_id=bulletin_id), code=303)
    if _wants_json():
        return jsonify(_asset_json(asset, broadcast))
    target = url_for("bulletins.show", bulletin_id=bulletin_id, nghe=None if broadcast else asset.sha256)
    return redirect(target + "#am-thanh", code=303)


@bp.route("/nghe-thu", methods=["POST"])
def listen_text() -> Any:
    """The editor's unsaved text through the offline engine, to hear before saving or submitting."""
    if not _may_listen(signed_in_user()):
        abort(403)
    payload = request.get_json(silent=True) or request.form
    text = str(payload.get("text", ""))[:MAX_PREVIEW_CHARS]
    if not text.strip():
        return jsonify(error="Chưa có nội dung để đọc. Hãy nhập nội dung bản tin."), 422
    language = str(payload.get("language", "vi"))
    title = str(payload.get("title", ""))[:300] or "Nghe thử"
    db, settings = context.db(), context.settings()
    try:
        with saving(db):
            asset = listen_preview(db, text, language, title, None, settings.media_dir, settings.audio, context.now())
    except AudioError as exc:
        return jsonify(error=f"Chưa đọc thử được: {exc}"), 422
    return jsonify(_asset_json(asset, broadcast=False))


@bp.route("/<int:bulletin_id>/am-thanh")
def audio_status(bulletin_id: int) -> Any:
    """Whether the broadcast audio exists yet (the approval page asks every few seconds)."""
    bulletin = _get(bulletin_id)
    if bulletin.audio is not None:
        return jsonify(ready=True, **_asset_json(bulletin.audio, broadcast=True))
    return jsonify(ready=False, error=bulletin.render_error)


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json" or request.is_json


def _managed(bulletin_id: int) -> Bulletin:
    """The bulletin, if the user's scope covers all its targets: 404 outside the scope, 403 if only partly."""
    bulletin = _get(bulletin_id)
    if not service.may_manage(context.db(), signed_in_user(), bulletin):
        abort(403)
    return bulletin


def _transition(bulletin_id: int, action: str) -> Response:
    bulletin = _get(bulletin_id)
    user, db, now = signed_in_user(), context.db(), context.now()
    comment = ReviewForm().comment.data or ""
    messages = {
        "submit": f"Đã gửi bản tin {bulletin.code} cho người duyệt.",
        "approve": f"Đã duyệt bản tin {bulletin.code}. Bản tin sẽ được xếp vào lịch phát ở lần lập lịch tới "
                   "(bộ lập lịch nền tự làm trong vòng một phút).",
        "return": f"Đã trả lại bản tin {bulletin.code} cho người viết.",
        "archive": f"Đã lưu trữ bản tin {bulletin.code}.",
    }
    try:
        with saving(db):
            if action == "submit":
                service.submit_bulletin(db, bulletin, user, now)
            elif action == "approve":
                service.approve_bulletin(db, bulletin, user, now, comment)
            elif action == "return":
                service.return_bulletin(db, bulletin, user, now, comment)
            else:
                service.archive_bulletin(db, bulletin, user, now)
        flash(messages[action], "ok")
    except (service.BulletinRefused, service.BulletinInvalid) as exc:
        flash(str(exc), "error")
    return redirect(url_for("bulletins.show", bulletin_id=bulletin_id), code=303)


@bp.route("/<int:bulletin_id>/gui-duyet", methods=["POST"])
@requires("bulletins.edit")
def submit(bulletin_id: int) -> Response:
    _managed(bulletin_id)
    return _transition(bulletin_id, "submit")


def _reviewer_check(bulletin_id: int) -> None:
    if not can_approve(signed_in_user(), _get(bulletin_id)):
        abort(403)


@bp.route("/<int:bulletin_id>/duyet", methods=["POST"])
@requires("bulletins.approve")
def approve(bulletin_id: int) -> Response:
    _reviewer_check(bulletin_id)
    if _get(bulletin_id).audio is None:
        # The approver signs off what will air: the sound must exist for them to hear first.
        flash("Chưa có âm thanh để nghe nên chưa duyệt được. Bấm «Tạo âm thanh ngay» (hoặc chờ trang tự cập nhật), "
              "nghe hết bản tin rồi bấm «Duyệt».", "error")
        return redirect(url_for("bulletins.show", bulletin_id=bulletin_id), code=303)
    return _transition(bulletin_id, "approve")


@bp.route("/<int:bulletin_id>/tra-lai", methods=["POST"])
@requires("bulletins.approve")
def return_(bulletin_id: int) -> Response:
    _reviewer_check(bulletin_id)
    return _transition(bulletin_id, "return")


@bp.route("/<int:bulletin_id>/luu-tru", methods=["POST"])
def archive(bulletin_id: int) -> Response:
    user = signed_in_user()
    if not (can(user, "bulletins.edit") or can(user, "bulletins.approve")):
        abort(403)
    _managed(bulletin_id)
    return _transition(bulletin_id, "archive")


@bp.route("/doc-thu", methods=["POST"])
def preview() -> Any:
    """The text as the speech engine will read it (the normalizer's output); never renders audio."""
    payload = request.get_json(silent=True) or request.form
    text = str(payload.get("text", ""))[:MAX_PREVIEW_CHARS]
    language = str(payload.get("language", "vi"))
    return jsonify(spoken=spoken_text(text, language), error=None)


def spoken_text(text: str, language: str) -> str:
    """Normalize with the built-in lexicon plus the editors' entries (audio.text.normalize)."""
    from audio.text import normalize
    from scheduler.rendering import load_lexicon

    if language != "vi":
        return text  # other languages are read from a recording or by their own voice, as written
    variant = getattr(context.settings().audio, "variant", "north")
    return str(normalize(text, variant=variant, lexicon=load_lexicon(context.db())))
