"""Phát trực tiếp: an approver or admin picks stations in their scope and speaks into the browser's
microphone; the page sends the recording in quarter-second chunks, the stations play it live.

Views parse, call scheduler.live.broadcasts and answer JSON to the page's script (pages work at 390 px).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, request, send_file
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from scheduler import access
from scheduler.db.models import Commune, LiveBroadcast, Station
from scheduler.live import broadcasts as live
from web import context
from web.auth import require_login, signed_in_user
from web.views.helpers import saving

bp = Blueprint("live", __name__, url_prefix="/truc-tiep")
require_login(bp, "live.start")


def _fail(message: str, status: int = 400) -> tuple[Response, int]:
    return jsonify(ok=False, error=message), status


@bp.get("/")
def index() -> Any:
    db, now, user, settings = context.db(), context.now(), signed_in_user(), context.settings()
    with saving(db):
        live.sweep(db, settings, now)
    stations = list(db.scalars(
        select(Station).join(Commune).options(selectinload(Station.commune))
        .where(Station.active, access.station_clause(user)).order_by(Commune.name, Station.code)))
    communes: dict[str, list[Station]] = {}
    for station in stations:
        communes.setdefault(station.commune.name, []).append(station)
    return render_template("live/index.html", communes=communes, recent=live.visible(db, user),
                           ready=settings.icecast_url is not None, labels=live.STATE_LABELS,
                           scope=access.describe(user))


@bp.post("/bat-dau")
def start() -> Any:
    db, now, user, settings = context.db(), context.now(), signed_in_user(), context.settings()
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("targets"), list):
        return _fail('Nội dung phải có dạng {"title": "...", "targets": ["mã đài hoặc tên xã", ...]}.')
    targets = [str(t).strip() for t in body["targets"] if str(t).strip()]
    try:
        with saving(db):
            live.sweep(db, settings, now)
            row = live.start_live(db, settings, user, targets, str(body.get("title") or ""), now)
    except live.LiveError as exc:
        return _fail(str(exc))
    return jsonify(ok=True, id=row.id, stations=row.stations, title=row.title)


def _row(broadcast_id: int) -> LiveBroadcast:
    db, user = context.db(), signed_in_user()
    row = db.get(LiveBroadcast, broadcast_id)
    if row is None or not access.reaches(db, user, row.stations):
        abort(404)
    return row


@bp.post("/<int:broadcast_id>/am-thanh")
def chunk(broadcast_id: int) -> Any:
    """One chunk of the recording (the request body), numbered by ?seq= from 0."""
    db, now, settings = context.db(), context.now(), context.settings()
    row = _row(broadcast_id)
    try:
        seq = int(request.args.get("seq", ""))
        if seq < 0:
            raise ValueError
    except ValueError:
        return _fail(f"Số thứ tự đoạn âm thanh «{request.args.get('seq', '')}» không hợp lệ; cần số nguyên từ 0.")
    data = request.get_data(cache=False)
    try:
        with saving(db):
            fed = live.feed(db, settings, row, seq, data, now)
    except live.LiveError as exc:
        return _fail(str(exc), 409)
    return jsonify(ok=True, on_air=fed.on_air, received=fed.received)


@bp.post("/<int:broadcast_id>/dung")
def stop(broadcast_id: int) -> Any:
    db, now, user, settings = context.db(), context.now(), signed_in_user(), context.settings()
    row = _row(broadcast_id)
    with saving(db):
        live.stop_live(db, settings, row, now, f"Kết thúc bởi {user.username}.", user)
    return jsonify(ok=True, state=row.state, recording=row.recording_file is not None)


@bp.get("/<int:broadcast_id>/ban-ghi")
def recording(broadcast_id: int) -> Any:
    """What was said, as recorded on the server (MP3)."""
    row = _row(broadcast_id)
    media = context.settings().media_dir.resolve()
    path = (media / (row.recording_file or "")).resolve()
    if not row.recording_file or not path.is_relative_to(media) or not path.is_file():
        abort(404)
    return send_file(path, mimetype="audio/mpeg", conditional=True, download_name=f"truc-tiep-{row.id}.mp3")
