"""Report pages: a filter form, the figures, charts (each its own image request), and downloads in every format.

Every logged-in role may read reports, within their scope (scheduler.access): an operator only ever
sees their own commune, a commune or area account its commune or area (or a station or commune inside it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, render_template, request, url_for
from sqlalchemy import select

from scheduler.access import describe, places, report_scope
from scheduler.db.models import Area, Commune, Station, User
from scheduler.reports import BY_CHOICES, ReportRequest, Scope, build_report
from scheduler.reports.airtime import AirtimeReport
from scheduler.reports.exports import FORMATS, file_name, render_report
from scheduler.reports.exports.table import (
    MISSED_HEADINGS,
    columns_for,
    format_cell,
    missed_cells,
    table_rows,
    total_row,
    vn_number,
)
from scheduler.reports.periods import PERIOD_KINDS, Period, resolve_period
from scheduler.reports.scope import LEVELS
from web import context
from web.auth import requires, signed_in_user

bp = Blueprint("reports", __name__, url_prefix="/bao-cao", template_folder="templates")

PAGE_MISSED = 100


@dataclass
class Choices:
    """The form's values as the user gave them (echoed back), and the problem with them if any."""

    kind: str
    year: str
    index: str
    date_from: str
    date_to: str
    by: str
    level: str
    value: str
    error: str = ""


def _choices(user: User) -> Choices:
    today = context.now().astimezone(context.settings().tz).date()
    args = request.args
    kind = args.get("period", "thang" if "from" not in args else "")
    choices = Choices(
        kind=kind,
        year=args.get("year", str(today.year)),
        index=args.get("index", str(today.month) if kind == "thang" else ""),
        date_from=args.get("from", ""),
        date_to=args.get("to", ""),
        by=args.get("by", "station"),
        level=args.get("level", "province"),
        value=args.get("value", "").strip(),
    )
    fixed = report_scope(user)
    if fixed is not None and not _inside(user, choices.level, choices.value):
        choices.level, choices.value = fixed
    return choices


def _inside(user: User, level: str, value: str) -> bool:
    """A scoped user (scheduler.access) may narrow their report to a commune or station inside their scope."""
    inside = places(context.db(), user)
    if inside is None:
        return True
    return (level == "commune" and value in inside.communes) or (level == "station" and value in inside.stations)


def _request(choices: Choices, missed_limit: int) -> ReportRequest:
    """ValueError (Vietnamese) for anything the form got wrong."""
    custom = choices.kind in ("", "tuy_chon")
    period: Period = resolve_period(
        choices.date_from if custom else None, choices.date_to if custom else None,
        None if custom else choices.kind, choices.year, choices.index,
    )  # fmt: skip
    level = choices.level if choices.level in LEVELS else "province"
    scope = Scope(level, choices.value if level != "province" else "")  # type: ignore[arg-type]
    return ReportRequest(period, choices.by, scope, missed_limit=missed_limit)


def _report(user: User, missed_limit: int = 1000) -> tuple[Choices, AirtimeReport | None]:
    choices = _choices(user)
    if user.role == "operator" and report_scope(user) is None:
        abort(403)  # an operator account without a commune sees nothing
    try:
        report_request = _request(choices, missed_limit)
    except ValueError as exc:
        choices.error = str(exc)
        return choices, None
    report = build_report(context.db(), report_request, context.now(), context.settings().tz)
    return choices, report


def _places(user: User) -> dict[str, list[str]]:
    db = context.db()
    inside = places(db, user)
    if inside is not None:
        return {"commune": sorted(inside.communes), "station": sorted(inside.stations)}
    return {
        "area": list(db.scalars(select(Area.name).order_by(Area.name))),
        "commune": list(db.scalars(select(Commune.name).order_by(Commune.name))),
        "station": list(db.scalars(select(Station.code).order_by(Station.code))),
    }


@bp.route("/")
@requires("reports.view")  # every role; an operator sees only their own commune
def index() -> Any:
    user = signed_in_user()
    choices, report = _report(user, PAGE_MISSED)
    query = {k: v for k, v in request.args.items() if v}
    # Charts are their own requests (drawing them took most of the page's time): the page shows at once.
    from scheduler.reports.exports.charts import CHART_NAMES

    suffix = "?" + urlencode(query) if query else ""
    charts = {title: url_for("reports.chart", name=name) + suffix for name, title in CHART_NAMES.items()} \
        if report is not None else {}
    return render_template(
        "reports/index.html", choices=choices, report=report, charts=charts, query=query,
        by_choices=BY_CHOICES, period_kinds=PERIOD_KINDS, levels=LEVELS, formats=FORMATS,
        places=_places(user), operator=user.role == "operator", scope_label=describe(user),
        missed_limit=PAGE_MISSED, num=vn_number,
        columns=columns_for(report.request.by) if report else (), format_cell=format_cell,
        table_rows=table_rows, total_row=total_row, missed_cells=missed_cells, missed_headings=MISSED_HEADINGS,
        tz=context.settings().tz,
    ), 200 if choices.error == "" else 400  # fmt: skip


@bp.route("/bieu-do/<name>.png")
@requires("reports.view")  # the same report as the page (same query, same scope rules)
def chart(name: str) -> Any:
    from scheduler.reports.exports.charts import commune_chart, topic_chart, trend_chart

    draw = {"topic": topic_chart, "commune": commune_chart, "trend": trend_chart}.get(name)
    if draw is None:
        abort(404)
    choices, report = _report(signed_in_user())
    if report is None:
        abort(400)
    return Response(draw(report), mimetype="image/png", headers={"Cache-Control": "private, max-age=60"})


@bp.route("/tai-ve/<fmt>")
@requires("reports.view")  # every role; an operator sees only their own commune
def download(fmt: str) -> Any:
    if fmt not in FORMATS:
        abort(404)
    user = signed_in_user()
    choices, report = _report(user)
    if report is None:
        return render_template("error.html", code=400, message=choices.error), 400
    data = render_report(report, fmt)
    return Response(
        data, mimetype=FORMATS[fmt],
        headers={"Content-Disposition": f'attachment; filename="{file_name(report, fmt)}"'},
    )  # fmt: skip
