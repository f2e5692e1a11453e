"""The open read API under /api/v1 for upstream systems and the province's dashboards: stations,
programmes, per-day airtime, bulletins; and the OpenAPI 3.1 document of it and of the station API.

Each call carries a consumer's key (X-API-Key, or Authorization: Bearer) made with `loaxa apikey add`;
401 for a missing or unknown key, 403 when the key lacks the call's scope. Errors are JSON
{"error": "<Vietnamese>"}. The answers are decided in scheduler.open_data; this module parses and renders.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from scheduler import apikeys, open_data
from scheduler.db.models import ApiConsumer
from scheduler.wire import API_PREFIX, OPENAPI_PATH
from web.api import HTTP_MESSAGES, database_unavailable, error, request_api_key
from web.context import db, now, settings
from web.openapi import document

bp = Blueprint("open_api", __name__, url_prefix=API_PREFIX)
bp.register_error_handler(OperationalError, database_unavailable)

KEY_MISSING = ("Thiếu hoặc sai khóa API (tiêu đề X-API-Key: <khóa>). Quản trị viên cấp khóa bằng "
               f"«loaxa apikey add TÊN --scope read:stations». Tài liệu: {OPENAPI_PATH}")


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    code = exc.code or 500
    return error(code, HTTP_MESSAGES.get(code, exc.description or "Lỗi máy chủ."))


def consumer_required(scope: str) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Resolve the key to an active consumer (g.consumer): 401 without one, 403 outside `scope`."""

    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            session = db()
            consumer = apikeys.consumer_for_key(session, request_api_key(), now())
            if consumer is None:
                return error(401, KEY_MISSING)
            session.commit()  # the key's last use
            if not apikeys.allows(consumer, scope):
                return error(403, f"Khóa API của «{consumer.name}» không có phạm vi {scope} "
                                  f"(đang có: {', '.join(consumer.scopes or []) or 'không có'}). "
                                  f"Quản trị viên thêm bằng «loaxa apikey scope {consumer.name} --scope …».")
            g.consumer = consumer
            try:
                return view(*args, **kwargs)
            except ValueError as exc:
                session.rollback()
                return error(400, str(exc))

        return wrapper

    return decorate


def current_consumer() -> ApiConsumer:
    consumer: ApiConsumer = g.consumer
    return consumer


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 document of the open read API and the station API (no key needed)."""
    response = jsonify(document(settings().public_url))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/stations")
@consumer_required("read:stations")
def stations() -> Response:
    s = settings()
    return jsonify(open_data.stations(db(), request.args, now(), s.tz, s.silent_minutes))


@bp.get("/programmes")
@consumer_required("read:programmes")
def programmes() -> Response:
    return jsonify(open_data.programmes(db(), request.args, now(), settings().tz))


@bp.get("/airtime/daily")
@consumer_required("read:airtime")
def airtime_daily() -> Response:
    return jsonify(open_data.airtime_daily(db(), request.args, now(), settings().tz))


@bp.get("/bulletins")
@consumer_required("read:bulletins")
def bulletins() -> Response:
    return jsonify(open_data.bulletins(db(), request.args))
