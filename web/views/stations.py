"""Đài và cụm loa: stations with their status, last contact per kind, windows, languages and API tokens."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased, selectinload
from werkzeug.wrappers import Response

from scheduler import audit
from scheduler import stations as service
from scheduler.db.models import AgentPackage, Commune, Programme, Station
from scheduler.delivery import care
from scheduler.imports import STATION_COLUMNS, ImportFailed, import_stations, read_table
from scheduler.liveness import box_warnings, last_contact
from scheduler.planning.windows import check_windows, parse_windows
from scheduler.programmes import current_weeks, windows_spec
from scheduler.station_status import receiver_facts
from web import context
from web.auth import can, require_login, requires, signed_in_user
from web.forms import StationForm, attach_errors
from web.views.helpers import (
    is_online,
    may_see_station,
    online_clause,
    page_number,
    paginate,
    saving,
    scope_stations,
)

bp = Blueprint("stations", __name__, url_prefix="/dai")
require_login(bp, "stations.view")


def _station(code: str) -> Station:
    station = context.db().scalar(
        select(Station)
        .options(selectinload(Station.commune).selectinload(Commune.province))
        .where(Station.code == code)
    )
    if station is None or not may_see_station(signed_in_user(), station):
        abort(404)
    return station


@bp.route("/")
def index() -> str:
    user, now = signed_in_user(), context.now()
    this_week, _next = current_weeks(now, context.settings().tz)
    current = aliased(Programme)
    filters = {key: request.args.get(key, "").strip() for key in ("q", "xa", "trang_thai")}
    query: Any = (  # Select of three columns; helpers take any Select
        select(Station, current.version, current.acked_version)
        .join(Station.commune)
        .outerjoin(current, and_(current.station_id == Station.id, current.week == str(this_week)))
        .options(selectinload(Station.commune))
    )
    query = scope_stations(query, user)
    if filters["q"]:
        pattern = "%" + filters["q"].replace("%", r"\%").replace("_", r"\_") + "%"
        query = query.where(or_(Station.code.ilike(pattern, escape="\\"), Station.name.ilike(pattern, escape="\\")))
    if filters["xa"]:
        pattern = "%" + filters["xa"].replace("%", r"\%").replace("_", r"\_") + "%"
        query = query.where(Commune.name.ilike(pattern, escape="\\"))
    if filters["trang_thai"] == "truc_tuyen":
        query = query.where(online_clause(now))
    elif filters["trang_thai"] == "mat_ket_noi":
        query = query.where(~online_clause(now))
    page = paginate(context.db(), query.order_by(Station.code), page_number(), scalars=False)
    return render_template(
        "stations/index.html", page=page, filters=filters, week=this_week, is_online=is_online,
        last_contact=last_contact,
    )  # fmt: skip


def _form_for(station: Station) -> StationForm:
    form = StationForm(obj=station)
    form.languages.data = list(station.language_list)
    return form


def _show(station: Station, form: StationForm, token: str | None = None, warnings: list[str] | None = None) -> Any:
    db, now, settings = context.db(), context.now(), context.settings()
    weeks = current_weeks(now, settings.tz)
    programmes = {
        p.week: p
        for p in db.scalars(
            select(Programme).where(Programme.station_id == station.id, Programme.week.in_([str(w) for w in weeks]))
        )
    }
    spec = windows_spec(station)
    try:
        windows = parse_windows(spec) if spec else ()
        windows_error = None
    except ValueError as exc:
        windows, windows_error = (), str(exc)
    user = signed_in_user()
    return render_template(
        "stations/show.html",
        station=station,
        form=form,
        weeks=weeks,
        programmes=programmes,
        windows=windows,
        windows_error=windows_error,
        inherited=not station.windows,
        online=is_online(station, now),
        receiver=receiver_facts(station, now, settings.tz, settings.silent_minutes),
        token=token,
        warnings=[*(warnings or []), *box_warnings(station, settings.tz)],
        may_edit=can(user, "stations.edit"),
        may_token=can(user, "stations.token") and service.may_manage_token(user, station),
        may_care=can(user, "stations.care"),
        may_update=can(user, "stations.update"),
        care_rows=care.recent_commands(db, station),
        care_labels=care.LABELS,
        result_labels=care.RESULT_LABELS,
        packages=list(db.scalars(select(AgentPackage).order_by(AgentPackage.id.desc()).limit(5))),
    )


@bp.route("/nhap", methods=["GET", "POST"])
@requires("stations.edit")
def import_file() -> Any:
    """Stations from a CSV or XLSX file, as `loaxa import stations`: every row checked first; one bad row and
    nothing is stored, each bad row named."""
    if request.method == "GET":
        return render_template("stations/import.html", columns=STATION_COLUMNS)
    upload = request.files.get("tep")
    if upload is None or not upload.filename:
        return render_template("stations/import.html", columns=STATION_COLUMNS,
                               errors=["Chưa chọn tệp. Chọn tệp CSV (UTF-8) hoặc Excel .xlsx rồi bấm Nhập."]), 400
    name = upload.filename
    db, user = context.db(), signed_in_user()
    try:
        with saving(db):
            result = import_stations(db, read_table(upload.read(), name))
            audit.record(db, context.now(), user, "station.import", "station", name[:200],
                         after={"codes": result.codes})
    except ImportFailed as exc:
        return render_template("stations/import.html", columns=STATION_COLUMNS, name=name, errors=exc.errors), 400
    flash(f"Đã nhập từ {name}: {result.created} đài mới, cập nhật {result.updated} đài, "
          f"{result.unchanged} đài không đổi.", "ok")
    return redirect(url_for("stations.index"), code=303)


@bp.route("/<code>")
def show(code: str) -> Any:
    station = _station(code)
    return _show(station, _form_for(station))


@bp.route("/<code>/sua", methods=["POST"])
@requires("stations.edit")
def edit(code: str) -> Any:
    station = _station(code)
    form = StationForm()
    form.validate()
    if form.errors:
        # Say everything that is wrong at once: the windows too, not only the fields the form parsed.
        try:
            check_windows(form.windows.data or "")
        except ValueError as exc:
            form.windows.errors = [*list(form.windows.errors), str(exc)]
    else:
        edit_data = service.StationEdit(
            name=form.name.data or "",
            languages=list(form.languages.data or []),
            windows=form.windows.data or "",
            active=bool(form.active.data),
            speakers=form.speakers.data or 0,
        )
        try:
            db = context.db()
            with saving(db):
                saved = service.update_station(db, station, edit_data, signed_in_user(), context.now())
            flash(f"Đã lưu đài {station.code}.", "ok")
            for warning in saved.warnings:
                flash(warning, "warn")
            return redirect(url_for("stations.show", code=station.code), code=303)
        except service.StationInvalid as exc:
            for message in attach_errors(form, exc.errors):
                flash(message, "error")
        except service.StationRefused as exc:
            flash(str(exc), "error")
    station = _station(code)  # reload: the failed save was rolled back
    return _show(station, form), 400


@bp.route("/<code>/cap-ma", methods=["POST"])
@requires("stations.token")
def rotate_token(code: str) -> Response:
    """Issue a new token and show it once; the page must not be cached."""
    station = _station(code)
    user = signed_in_user()
    if not service.may_manage_token(user, station):
        abort(403)
    db = context.db()
    with saving(db):
        token = service.rotate_token(db, station, user, context.now())
    response = make_response(_show(station, _form_for(station), token=token))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<code>/cham-soc", methods=["POST"])
@requires("stations.care")
def care_command(code: str) -> Response:
    """Send a remote-care command (scheduler.delivery.care); errors come back in Vietnamese."""
    station = _station(code)
    db, now, settings, user = context.db(), context.now(), context.settings(), signed_in_user()
    kind = request.form.get("kind", "")
    if kind == "update" and not can(user, "stations.update"):
        abort(403)
    package = None
    if kind == "update":
        sha = request.form.get("package", "")
        package = db.scalar(select(AgentPackage).where(AgentPackage.sha256 == sha)) if sha else care.latest_package(db)
    raw_volume = request.form.get("volume", "").strip()
    try:
        volume = int(raw_volume) if kind == "volume" else None
    except ValueError:
        flash(f"Âm lượng «{raw_volume}» không hợp lệ; dùng số nguyên từ 0 đến 100.", "error")
        return redirect(url_for("stations.show", code=code, _anchor="care"), code=303)
    try:
        command = care.care_command(kind, now, settings, volume=volume, state=request.form.get("state"),
                                    package=package)
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("stations.show", code=code, _anchor="care"), code=303)
    with saving(db):
        row = care.send_care(db, settings, station, command, user, now)
    how = "qua MQTT" if row.via == "mqtt" else "ở lần báo trạng thái kế tiếp của đầu thu"
    flash(f"Đã gửi lệnh «{care.LABELS[kind]}» tới đài {station.code} ({how}).", "ok")
    return redirect(url_for("stations.show", code=code, _anchor="care"), code=303)
