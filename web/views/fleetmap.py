"""Bản đồ: every station inside the user's scope, coloured by its state (scheduler.fleet), filtered by area
and commune, a popup per station. Leaflet is served from web/static/vendor (no CDN); tiles come from
LOAXA_MAP_TILES, and without them the same page is a coordinate plot with the communes' names."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any
from urllib.parse import quote

from flask import Blueprint, jsonify, render_template, request, url_for
from sqlalchemy import ColumnElement, select

from scheduler.access import commune_clause, station_clause
from scheduler.db.models import Area, Commune, Station
from scheduler.fleet import CONTACT_LABELS, MAP_STATE_LABELS, Glance, MapState, glance, station_query
from web import context
from web.auth import require_login, signed_in_user
from web.views.helpers import local
from web.views.labels import ago

bp = Blueprint("fleetmap", __name__, url_prefix="/ban-do")
require_login(bp, "stations.view")


def _int_arg(name: str, problems: list[str], label: str) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        problems.append(f"{label} «{raw[:40]}» không hợp lệ; đang hiện tất cả.")
        return None
    return int(raw)


def _when(value: datetime | None, now: datetime) -> str:
    shown = local(value)
    return "chưa liên lạc" if shown is None else f"{shown:%H:%M %d/%m/%Y} ({ago(value, now)})"


def _dot(g: Glance) -> dict[str, Any]:
    """What the map draws for one station; the popup's words are fetched when it opens (`details`)."""
    return {"code": g.code, "name": g.name, "lat": g.lat, "lon": g.lon, "state": g.state.value,
            "state_label": g.state.label}


def _popup(g: Glance, now: datetime) -> dict[str, Any]:
    """The popup's words for one station."""
    playing = None
    if g.now_playing is not None:
        since = local(g.now_playing.since)
        source = "máy thu báo" if g.now_playing.source == "box" else "theo lịch"
        playing = f"{g.now_playing.title}" + (f" (từ {since:%H:%M}, {source})" if since else f" ({source})")
    return {
        "code": g.code,
        "name": g.name,
        "commune": g.commune,
        "area": g.area,
        "lat": g.lat,
        "lon": g.lon,
        "state": g.state.value,
        "state_label": g.state.label,
        "contacts": [[CONTACT_LABELS[kind], _when(at, now)] for kind, at in g.contacts.items()],
        "playing": playing,
        "today": f"đã phát {g.today.aired}/{g.today.planned} mục"
                 + (f", bỏ lỡ {g.today.missed}" if g.today.missed else "")
                 + (f", còn {g.today.upcoming} sắp phát" if g.today.upcoming else ""),
        "url": url_for("stations.show", code=g.code),
    }


URGENCY = {MapState.OFFLINE: 0, MapState.MISSED: 1, MapState.PLAYING: 2, MapState.ONLINE: 3}
LIST_LIMIT = 100  # cards under the map; the map itself shows every station


def _commune_labels(glances: list[Glance]) -> list[dict[str, Any]]:
    """Each commune's name at the middle of its stations: the plot's landmarks when there are no tiles."""
    spots: dict[str, list[tuple[float, float]]] = {}
    for g in glances:
        if g.lat is not None and g.lon is not None:
            spots.setdefault(g.commune, []).append((g.lat, g.lon))
    return [
        {"name": name, "lat": sum(p[0] for p in points) / len(points), "lon": sum(p[1] for p in points) / len(points)}
        for name, points in sorted(spots.items())
    ]


def _station_url() -> Any:
    """url_for once: building 10,000 station links one by one costs a fifth of a second."""
    template = url_for("stations.show", code="CODE")

    def link(code: str) -> str:
        return template.replace("CODE", quote(code, safe=""))

    return link


@bp.route("/dai/<code>")
def details(code: str) -> Any:
    """The popup of one station inside the user's scope, as JSON (404 outside it)."""
    user, db, now, settings = signed_in_user(), context.db(), context.now(), context.settings()
    stations = list(db.scalars(station_query([station_clause(user), Station.code == code])))
    if not stations:
        return jsonify(error=f"Không có đài {code[:40]} trong phạm vi của bạn."), 404
    return jsonify(_popup(glance(db, stations, now, settings.tz, settings.silent_minutes)[0], now))


@bp.route("/")
def index() -> Any:
    user, db, now, settings = signed_in_user(), context.db(), context.now(), context.settings()
    problems: list[str] = []
    area_id = _int_arg("khu_vuc", problems, "Khu vực")
    commune_id = _int_arg("xa", problems, "Xã")
    wanted = request.args.get("trang_thai", "").strip()
    if wanted and wanted not in {s.value for s in MapState}:
        problems.append(f"Trạng thái «{wanted[:40]}» không có; đang hiện tất cả.")
        wanted = ""
    where: list[ColumnElement[bool]] = [station_clause(user), Station.active.is_(True)]
    if area_id is not None:
        where.append(Commune.area_id == area_id)
    if commune_id is not None:
        where.append(Station.commune_id == commune_id)
    stations = list(db.scalars(station_query(where)))
    glances = glance(db, stations, now, settings.tz, settings.silent_minutes)
    counts = Counter(g.state for g in glances)
    if wanted:
        glances = [g for g in glances if g.state.value == wanted]
    communes = list(db.execute(
        select(Commune.id, Commune.name, Commune.area_id).where(commune_clause(user)).order_by(Commune.name)
    ).all())
    area_ids = {c.area_id for c in communes if c.area_id is not None}
    areas = list(db.execute(select(Area.id, Area.name).where(Area.id.in_(area_ids)).order_by(Area.name)).all())
    if area_id is not None:
        communes = [c for c in communes if c.area_id == area_id]
    listed = sorted(glances, key=lambda g: (URGENCY[g.state], g.has_position, g.code))[:LIST_LIMIT]
    return render_template(
        "fleetmap/index.html",
        glances=glances,
        listed=listed,
        list_limit=LIST_LIMIT,
        station_url=_station_url(),
        markers=[_dot(g) for g in glances if g.has_position],
        labels=_commune_labels(glances),
        unplaced=[g for g in glances if not g.has_position],
        counts=counts,
        states=MAP_STATE_LABELS,
        areas=areas,
        communes=communes,
        chosen={"khu_vuc": area_id, "xa": commune_id, "trang_thai": wanted},
        problems=problems,
        tiles=settings.map_tiles,
        attribution=settings.map_attribution,
        when=lambda value: _when(value, now),
        contact_labels=CONTACT_LABELS,
    )
