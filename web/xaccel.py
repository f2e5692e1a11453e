"""Serve a media file from Flask, or hand the byte-pushing to nginx with X-Accel-Redirect.

With LOAXA_X_ACCEL=1 the view still decides who may have the file (the token check); nginx then
sends it from an `internal` location that maps LOAXA_X_ACCEL_PREFIX to the media directory
(deploy/nginx/loaxa.conf), with Range support and without holding a gunicorn worker.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Response, request, send_file
from werkzeug.http import parse_range_header

from web.context import settings

DEFAULT_PREFIX = "/_loaxa_media"


def x_accel_enabled() -> bool:
    return os.environ.get("LOAXA_X_ACCEL", "").strip().lower() in ("1", "true", "yes", "on")


def ignore_invalid_range() -> None:
    """A Range header that does not parse, names another unit or asks for several ranges is ignored and
    the whole file is sent (RFC 9110 §14.2), where werkzeug would answer 416; an unsatisfiable range
    that does parse still gets 416."""
    header = request.environ.get("HTTP_RANGE")
    if header is None:
        return
    parsed = parse_range_header(header)
    if parsed is None or parsed.units != "bytes" or len(parsed.ranges) != 1:
        request.environ.pop("HTTP_RANGE", None)
        request.__dict__.pop("range", None)  # werkzeug caches the parsed header on first use


def send_media(path: Path, **kwargs: Any) -> Response:
    """Like flask.send_file for a file under the media dir; an empty X-Accel-Redirect answer when enabled."""
    ignore_invalid_range()
    media_dir = settings().media_dir
    if not x_accel_enabled() or not path.resolve().is_relative_to(media_dir.resolve()):
        return send_file(path, **kwargs)
    etag = kwargs.get("etag")
    if isinstance(etag, str) and request.if_none_match.contains(etag):
        response = Response(status=304)
        response.set_etag(etag)
        return response
    prefix = os.environ.get("LOAXA_X_ACCEL_PREFIX", DEFAULT_PREFIX).rstrip("/")
    relative = path.resolve().relative_to(media_dir.resolve()).as_posix()
    response = Response(status=200, mimetype=kwargs.get("mimetype") or "application/octet-stream")
    response.headers["X-Accel-Redirect"] = f"{prefix}/{quote(relative)}"
    if isinstance(etag, str):
        response.set_etag(etag)
    max_age = kwargs.get("max_age")
    if isinstance(max_age, int):
        response.cache_control.max_age = max_age
    return response
