"""Lịch phát: the week grid per station or commune, unplaced bulletins and why, hand edits, rebuild, downloads."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response as BaseResponse

from scheduler.access import commune_clause, in_scope, scope_of, station_clause
from scheduler.db.models import Commune, Programme, ProgrammeItem, Station
from scheduler.domain import IsoWeek
from scheduler.item_states import Verdict, load_states
from scheduler.live import broadcasts as live
from scheduler.programmes import current_weeks, edits
from scheduler.programmes.explain import Unplaced, held_in_commune, unplaced_for
from scheduler.programmes.exports import FORMATS, export_programme
from scheduler.programmes.staleness import PENDING_TEXT
from web import context
from web.auth import can, require_login, requires, signed_in_user
from web.forms import MoveItemForm
from web.views.helpers import local_today, may_see_station, page_number, paginate, saving, to_utc

bp = Blueprint("programmes", __name__, url_prefix="/lich-phat")
require_login(bp, "programmes.view")


def _week() -> IsoWeek:
    text = request.args.get("tuan") or request.form.get("tuan") or ""
    if text:
        try:
            return IsoWeek.parse(text)
        except ValueError as exc:
            flash(str(exc), "error")
    return current_weeks(context.now(), context.settings().tz)[0]


def phone_order(week: IsoWeek, today: date) -> list[date]:
    """The week's days as a phone lists them: today first, the rest of the week, then the days already past."""
    days = week.days()
    if today not in days:
        return list(days)
    at = days.index(today)
    return list(days[at:]) + list(days[:at])


def _states(programmes: list[Programme]) -> dict[int, Verdict]:
    """What became of each item (scheduler.item_states): aired, partial, missed, replaced, declined…"""
    items = [i for p in programmes for i in p.items]
    return load_states(context.db(), items, context.now())


def _week_context(week: IsoWeek) -> dict[str, Any]:
    """What the week navigation and grids need besides the items."""
    horizon = _horizon()
    today = local_today()
    return {
        "week": week,
        "prev_week": IsoWeek.of(week.monday() - timedelta(days=7)),
        "next_week": week.next(),
        "today": today,
        "phone_days": phone_order(week, today),
        "editable_after": horizon.limit,
        "config_no_change": horizon.minutes,
    }


def _horizon() -> edits.Horizon:
    settings = context.settings()
    return edits.Horizon(context.now(), settings.no_change_minutes, settings.tz)


def _station(code: str) -> Station:
    station = context.db().scalar(select(Station).options(selectinload(Station.commune)).where(Station.code == code))
    if station is None or not may_see_station(signed_in_user(), station):
        abort(404)  # operators do not learn that other communes' stations exist
    return station


def _commune(commune_id: int) -> Commune:
    commune = context.db().get(Commune, commune_id)
    if commune is None or not in_scope(signed_in_user(), commune):
        abort(404)
    return commune


def _grid(programmes: list[Programme], week: IsoWeek,
          stations: Sequence[Station] = ()) -> dict[int, dict[date, list[ProgrammeItem | live.GridEntry]]]:
    """station id -> local day -> items, from programmes whose items are already loaded; the live
    broadcasts sent to `stations` that week stand among them in time order (kind «Trực tiếp»)."""
    tz = context.settings().tz
    grid: dict[int, dict[date, list[ProgrammeItem | live.GridEntry]]] = defaultdict(
        lambda: {d: [] for d in week.days()})
    for programme in programmes:
        days = grid[programme.station_id]
        for item in programme.items:
            day = item.start.astimezone(tz).date()
            if day in days:
                days[day].append(item)
    if stations:
        first = datetime.combine(week.days()[0], time(0), tz)
        entries = live.grid_entries(context.db(), [s.code for s in stations], first, first + timedelta(days=7),
                                    context.now())
        for station in stations:
            days = grid[station.id]
            for entry in entries.get(station.code, []):
                day = entry.start.astimezone(tz).date()
                if day in days:
                    days[day].append(entry)
                    days[day].sort(key=lambda i: i.start)
    return grid


@bp.route("/")
def index() -> Any:
    user, week = signed_in_user(), _week()
    if "dai" in request.args:
        return station_week(request.args["dai"], week)
    if "xa" in request.args:
        try:
            return commune_week(int(request.args["xa"]), week)
        except ValueError:
            abort(404)
    scope = scope_of(user)
    if scope.commune_id is not None:
        return commune_week(scope.commune_id, week)
    q = request.args.get("q", "").strip()
    query: Any = (  # Select of three columns; helpers take any Select
        select(Commune.id, Commune.name, func.count(Station.id))
        .join(Station, Station.commune_id == Commune.id)
        .where(commune_clause(user))
        .group_by(Commune.id, Commune.name)
        .order_by(Commune.name)
    )
    stations_found: list[Station] = []
    if q:
        pattern = "%" + q.replace("%", r"\%").replace("_", r"\_") + "%"
        query = query.where(Commune.name.ilike(pattern, escape="\\"))
        stations_found = list(
            context.db().scalars(
                select(Station)
                .options(selectinload(Station.commune))
                .where(or_(Station.code.ilike(pattern, escape="\\"), Station.name.ilike(pattern, escape="\\")))
                .where(station_clause(user))
                .order_by(Station.code)
                .limit(20)
            )
        )
    page = paginate(context.db(), query, page_number(), scalars=False)
    return render_template("programmes/index.html", page=page, q=q, week=week, stations_found=stations_found)


def station_week(code: str, week: IsoWeek) -> str:
    station = _station(code)
    db = context.db()
    programme = db.scalar(
        select(Programme)
        .options(selectinload(Programme.items))
        .where(Programme.station_id == station.id, Programme.week == str(week))
    )
    grid = _grid([programme] if programme else [], week, [station])[station.id]
    unplaced: Unplaced = unplaced_for(
        db, station, week, context.now(), context.settings().tz, context.settings().no_change_minutes
    )
    return render_template(
        "programmes/station.html",
        **_week_context(week),
        station=station,
        programme=programme,
        grid=grid,
        states=_states([programme] if programme else []),
        unplaced=unplaced,
        pending_text=PENDING_TEXT,
        may_edit=can(signed_in_user(), "programmes.edit"),
        move_form=MoveItemForm(),
    )


def commune_week(commune_id: int, week: IsoWeek) -> str:
    commune = _commune(commune_id)
    db = context.db()
    page = paginate(
        db,
        select(Station).where(Station.commune_id == commune.id).order_by(Station.code),
        page_number(),
        size=25,
    )
    ids = [s.id for s in page.items]
    programmes = (
        list(
            db.scalars(
                select(Programme)
                .options(selectinload(Programme.items))
                .where(Programme.station_id.in_(ids), Programme.week == str(week))
            )
        )
        if ids
        else []
    )
    return render_template(
        "programmes/commune.html",
        **_week_context(week),
        commune=commune,
        page=page,
        grid=_grid(programmes, week, list(page.items)),
        states=_states(programmes),
        versions={p.station_id: p for p in programmes},
        may_edit=can(signed_in_user(), "programmes.edit"),
        held=held_in_commune(db, week, list(commune.stations), context.settings().tz),
    )


def _item(item_id: int) -> ProgrammeItem:
    item = context.db().scalar(
        select(ProgrammeItem)
        .options(
            selectinload(ProgrammeItem.programme).selectinload(Programme.items),
            selectinload(ProgrammeItem.programme).selectinload(Programme.station),
        )
        .where(ProgrammeItem.id == item_id)
    )
    if item is None or not may_see_station(signed_in_user(), item.programme.station):
        abort(404)
    return item


def _back(item: ProgrammeItem) -> BaseResponse:
    return redirect(url_for("programmes.index", dai=item.programme.station.code, tuan=item.programme.week), code=303)


def _edit(item_id: int, action: str) -> BaseResponse:
    item = _item(item_id)
    station_code, week = item.programme.station.code, item.programme.week
    db, user, horizon = context.db(), signed_in_user(), _horizon()
    try:
        with saving(db):
            if action == "pin":
                edits.set_pinned(db, item, True, user, horizon)
                message = f"Đã ghim «{item.title}»: lập lại lịch sẽ giữ nguyên mục này."
            elif action == "unpin":
                edits.set_pinned(db, item, False, user, horizon)
                message = f"Đã bỏ ghim «{item.title}»."
            elif action == "remove":
                title = item.title or item.kind
                edits.remove_item(db, item, user, horizon)
                message = f"Đã bỏ «{title}» khỏi lịch."
            else:
                form = MoveItemForm()
                if not form.validate() or form.start.data is None:
                    raise edits.EditRefused(" ".join(form.start.errors) or "Hãy chọn giờ bắt đầu mới.")
                edits.move_item(db, item, to_utc(form.start.data), user, horizon)
                message = f"Đã dời «{item.title}» sang {form.start.data:%H:%M %d/%m/%Y} và ghim lại."
        flash(message, "ok")
    except (edits.EditRefused, ValueError) as exc:
        flash(str(exc), "error")
    return redirect(url_for("programmes.index", dai=station_code, tuan=week), code=303)


@bp.route("/muc/<int:item_id>/ghim", methods=["POST"])
@requires("programmes.edit")
def pin(item_id: int) -> BaseResponse:
    return _edit(item_id, "pin")


@bp.route("/muc/<int:item_id>/bo-ghim", methods=["POST"])
@requires("programmes.edit")
def unpin(item_id: int) -> BaseResponse:
    return _edit(item_id, "unpin")


@bp.route("/muc/<int:item_id>/doi", methods=["POST"])
@requires("programmes.edit")
def move(item_id: int) -> BaseResponse:
    return _edit(item_id, "move")


@bp.route("/muc/<int:item_id>/bo", methods=["POST"])
@requires("programmes.edit")
def remove(item_id: int) -> BaseResponse:
    return _edit(item_id, "remove")


@bp.route("/lap-lai", methods=["POST"])
@requires("programmes.edit")
def rebuild() -> BaseResponse:
    """Plan the week again for one station or one commune's stations (never renders audio)."""
    week, db, user = _week(), context.db(), signed_in_user()
    code = request.form.get("dai", "")
    commune_id = request.form.get("xa", "")
    if code:
        codes = [_station(code).code]
        back = url_for("programmes.index", dai=code, tuan=str(week))
    elif commune_id.isdigit():
        commune = _commune(int(commune_id))
        codes = list(
            db.scalars(
                select(Station.code).where(Station.commune_id == commune.id, Station.active).order_by(Station.code)
            )
        )
        back = url_for("programmes.index", xa=commune.id, tuan=str(week))
    else:
        abort(400)
    try:
        with saving(db):
            result = edits.rebuild(db, week, codes, user, _horizon())
        changed = len(result.changed)
        flash(f"Đã lập lại lịch {week.label.lower()} cho {len(codes)} đài; {changed} đài có lịch mới.", "ok")
    except ValueError as exc:
        flash(f"Không lập được lịch: {exc}", "error")
    return redirect(back, code=303)


@bp.route("/tai-ve/<int:programme_id>.<fmt>")
def download(programme_id: int, fmt: str) -> BaseResponse:
    """The programme as M3U or a printable PDF (scheduler.programmes.exports)."""
    if fmt not in FORMATS:
        abort(404)
    programme = context.db().scalar(
        select(Programme)
        .options(selectinload(Programme.items), selectinload(Programme.station).selectinload(Station.commune))
        .where(Programme.id == programme_id)
    )
    if programme is None or not may_see_station(signed_in_user(), programme.station):
        abort(404)
    settings = context.settings()
    data = export_programme(programme, fmt, settings.tz, settings.public_url)
    week = IsoWeek.parse(programme.week)
    name = f"lich-phat_{programme.station.code}_tuan-{week.week:02d}-{week.year}_phien-ban-{programme.version}.{fmt}"
    return Response(data, mimetype=FORMATS[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"'})
