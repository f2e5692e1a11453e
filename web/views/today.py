"""Hôm nay: the operator's day on a phone — today's then tomorrow's items with their live state,
one-tap "Đã phát" / "Không phát được", today's M3U (signed audio links), the audio ZIP, one MP3 per session.

Every role may look, limited to the stations in its scope (scheduler.access); only operators and
administrators answer. The rows come from scheduler.delivery.today, the answers from
scheduler.delivery.operator — the same calls as `loaxa playlist`.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby
from pathlib import Path
from typing import Any, BinaryIO, cast

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response as BaseResponse

from scheduler.access import describe, in_scope, scope_of
from scheduler.db.models import AudioAsset, Commune, ProgrammeItem, Station
from scheduler.delivery import audio_links
from scheduler.delivery.operator import (
    MISSED_REASONS,
    audio_name,
    audio_zip,
    confirm_played,
    day_items,
    m3u_for_day,
    mark_missed,
    missed_reason,
    session_mp3,
    sessions_of,
)
from scheduler.delivery.today import DayRow, day_rows
from scheduler.reports.periods import parse_local_date
from web import context
from web.auth import can, require_login, requires, signed_in_user
from web.views import AUDIO_TYPES
from web.views.helpers import local_today, page_number, paginate, saving, scope_stations

bp = Blueprint("today", __name__, url_prefix="/hom-nay")
listen_bp = Blueprint("listen", __name__)  # signed audio links: no login, so no require_login here
require_login(bp, "today.view")

ALL_AT_ONCE = 12  # an area or province account with more stations than this picks one station at a time


@dataclass
class StationDay:
    station: Station
    rows: list[DayRow]
    sessions: list[str]  # "05:30–06:15" per broadcast session, for the MP3 links


@dataclass
class Day:
    day: date
    title: str
    stations: list[StationDay]


def _scoped_stations() -> Any:
    return scope_stations(
        select(Station).options(selectinload(Station.commune).selectinload(Commune.province)).where(Station.active),
        signed_in_user(),
    )


def _station(code: str) -> Station:
    station = context.db().scalar(
        select(Station).options(selectinload(Station.commune).selectinload(Commune.province))
        .where(Station.code == code)
    )
    if station is None or not in_scope(signed_in_user(), station):
        abort(404)
    return station


def _build(stations: Sequence[Station], day: date, title: str) -> Day:
    rows = day_rows(context.db(), stations, day, context.now(), context.settings().timezone)
    by_station = {k: list(g) for k, g in groupby(sorted(rows, key=lambda r: (r.station.code, r.item.start)),
                                                 key=lambda r: r.station.code)}
    out = []
    for station in stations:
        found = by_station.get(station.code, [])
        groups = sessions_of([r.item for r in found])
        tz = found[0].tz if found else context.settings().tz
        spans = [f"{g[0].start.astimezone(tz):%H:%M}–{g[-1].end.astimezone(tz):%H:%M}" for g in groups]
        out.append(StationDay(station, found, spans))
    return Day(day, title, out)


def _page_stations() -> tuple[list[Station] | None, bool]:
    """The stations the page shows (None: the account must pick one first) and whether it has many to pick from."""
    db = context.db()
    code = request.args.get("dai", "").strip()
    # A commune's operator always sees all of the commune's stations (a few dozen at most).
    commune_only = scope_of(signed_in_user()).level == "commune"
    total = 0 if commune_only else db.scalar(select(func.count()).select_from(_scoped_stations().subquery())) or 0
    if code:
        return [_station(code)], total > ALL_AT_ONCE
    if total <= ALL_AT_ONCE:
        return list(db.scalars(_scoped_stations().order_by(Station.code))), False
    return None, True


def _days(stations: Sequence[Station]) -> list[Day]:
    today = local_today()
    return [_build(stations, today, "Hôm nay"), _build(stations, today + timedelta(days=1), "Ngày mai")]


@bp.route("/")
def index() -> Any:
    stations, many = _page_stations()
    if stations is None:  # a province or area account picks a station first
        q = request.args.get("q", "").strip()
        query = _scoped_stations().order_by(Station.code)
        if q:
            pattern = "%" + q.replace("%", r"\%").replace("_", r"\_") + "%"
            query = query.where(or_(Station.code.ilike(pattern, escape="\\"), Station.name.ilike(pattern, escape="\\")))
        page = paginate(context.db(), query, page_number(), size=25)
        return render_template("today/pick.html", page=page, q=q)
    return render_template(
        "today/index.html", days=_days(stations), chosen=request.args.get("dai", "").strip(), many=many,
        may_answer=can(signed_in_user(), "playlog.confirm"), reasons=MISSED_REASONS,
        scope_label=describe(signed_in_user()),
    )  # fmt: skip


@bp.route("/trang-thai.json")
def states_json() -> Response:
    """The page's items with their state now (same stations, same rows): the page polls it to stay current."""
    stations, _ = _page_stations()
    may_answer = can(signed_in_user(), "playlog.confirm")
    today, now, zone = local_today(), context.now(), context.settings().timezone
    rows = [r for day in (today, today + timedelta(days=1))
            for r in day_rows(context.db(), stations or [], day, now, zone)]
    items = [{"id": r.item.id, "state": r.verdict.state.value, "state_label": r.verdict.label,
              "reason": r.verdict.reason, "may_answer": may_answer and r.may_answer} for r in rows]
    response = jsonify({"day": today.isoformat(), "now": now.isoformat(), "items": items})
    response.headers["Cache-Control"] = "no-store"
    return response


def _answered(item_id: int, missed: bool) -> BaseResponse:
    db, user, now = context.db(), signed_in_user(), context.now()
    item = db.get(ProgrammeItem, item_id)
    if item is None or not in_scope(user, item.programme.station):
        abort(404)
    code, title = item.programme.station.code, item.title or item.kind
    back = url_for("today.index", dai=request.form.get("dai") or None) + f"#muc-{item_id}"
    try:
        with saving(db):
            if missed:
                reason = missed_reason(request.form.get("ly_do", ""), request.form.get("chi_tiet", ""))
                outcome = mark_missed(db, code, item_id, user, now, reason)
            else:
                outcome = confirm_played(db, code, item_id, user, now)
    except (LookupError, PermissionError, ValueError) as exc:
        flash(str(exc).strip("'\""), "error")
        return redirect(back, code=303)
    if not outcome.stored:
        flash(f"«{title}» đã có câu trả lời từ trước; không ghi thêm.", "ok")
    elif missed:
        flash(f"Đã ghi: «{title}» không phát được — {reason}.", "ok")
    else:
        flash(f"Đã ghi: «{title}» đã phát (xác nhận tay).", "ok")
    return redirect(back, code=303)


@bp.route("/muc/<int:item_id>/da-phat", methods=["POST"])
@requires("playlog.confirm")
def played(item_id: int) -> BaseResponse:
    return _answered(item_id, missed=False)


@bp.route("/muc/<int:item_id>/khong-phat-duoc", methods=["POST"])
@requires("playlog.confirm")
def missed(item_id: int) -> BaseResponse:
    return _answered(item_id, missed=True)


def _day(text: str) -> date:
    try:
        return parse_local_date(text)
    except ValueError:
        abort(404)


def _attachment(data: bytes | str, mimetype: str, name: str) -> Response:
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/<code>/<day>.m3u")
def m3u(code: str, day: str) -> Response:
    """The day's playlist; each audio link is signed for 24 hours, so VLC or mpv plays it without logging in."""
    station, chosen = _station(code), _day(day)
    secret, now, base = context.settings().secret_key, context.now(), request.host_url

    def link(item: ProgrammeItem) -> str:
        assert item.audio_sha256 is not None
        return audio_links.url(base, secret, item.audio_sha256, audio_name(item), now)

    text = m3u_for_day(context.db(), station.code, chosen, context.settings(), link=link)
    return _attachment(text.encode(), "audio/x-mpegurl", f"{station.code}-{chosen.isoformat()}.m3u")


@bp.route("/<code>/<day>.zip")
def archive(code: str, day: str) -> Any:
    """The day's and the next day's audio with one M3U per day (links relative to the ZIP)."""
    station, chosen = _station(code), _day(day)
    spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 - send_file closes it
    try:
        audio_zip(context.db(), station.code, [chosen, chosen + timedelta(days=1)], context.settings(),
                  cast(BinaryIO, spool))
    except FileNotFoundError as exc:
        spool.close()
        flash(str(exc), "error")
        return redirect(url_for("today.index", dai=station.code), code=303)
    spool.seek(0)
    return send_file(spool, mimetype="application/zip", as_attachment=True,
                     download_name=f"am-thanh-{station.code}-{chosen.isoformat()}.zip")


@bp.route("/<code>/<day>/buoi-<int:index>.mp3")
def session_audio(code: str, day: str, index: int) -> Any:
    """One broadcast session stitched into one MP3, kept in the media folder under a name of its content."""
    station, chosen = _station(code), _day(day)
    settings = context.settings()
    items = day_items(context.db(), station.code, chosen, settings)
    basis = "|".join(f"{i.start.isoformat()}:{i.audio_sha256}" for i in items)
    key = hashlib.sha256(f"{station.code}|{index}|{basis}".encode()).hexdigest()[:24]
    out = settings.media_dir / "sessions" / f"{key}.mp3"
    name = f"{station.code}-{chosen.isoformat()}-buoi-{index}.mp3"
    if not out.is_file():
        try:
            session_mp3(context.db(), station.code, chosen, index, settings, out)
        except (LookupError, FileNotFoundError) as exc:
            flash(str(exc), "error")
            return redirect(url_for("today.index", dai=station.code), code=303)
    return send_file(out, mimetype="audio/mpeg", as_attachment=True, download_name=name)


@listen_bp.route("/nghe/<token>/<name>")
def listen(token: str, name: str) -> Any:
    """One audio file behind a signed, expiring link (scheduler.delivery.audio_links): no login, no token."""
    del name  # only there so players show a readable title
    try:
        sha = audio_links.verify(context.settings().secret_key, token, context.now())
    except audio_links.LinkError as exc:
        return Response(str(exc) + "\n", status=403, mimetype="text/plain; charset=utf-8")
    asset = context.db().scalar(select(AudioAsset).where(AudioAsset.sha256 == sha))
    media = context.settings().media_dir.resolve()
    path = (media / asset.file_name).resolve() if asset else None
    if path is None or not path.is_relative_to(media) or not path.is_file():
        return Response("Không còn tệp âm thanh này trên máy chủ.\n", status=404, mimetype="text/plain; charset=utf-8")
    return send_file(path, mimetype=AUDIO_TYPES.get(Path(path).suffix.lower(), "application/octet-stream"),
                     conditional=True, max_age=3600)
