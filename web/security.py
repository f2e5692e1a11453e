"""Security headers on every answer: the pages load nothing from elsewhere (but the map's tile server,
when one is configured), may not be framed, and leak no address in Referer."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response

from scheduler.settings import Settings


def content_security_policy(settings: Settings) -> str:
    """Scripts, styles, media and connections from this site only; images also from the tile server."""
    images = ["'self'", "data:", "blob:"]
    tiles = urlsplit(settings.map_tiles)
    if tiles.scheme in ("http", "https") and tiles.netloc:
        images.append(f"{tiles.scheme}://{tiles.netloc}")
    return "; ".join((
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # style attributes (report bars); scripts stay strict
        f"img-src {' '.join(images)}",
        "media-src 'self' blob:",  # recordings played back before they are saved
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


def install(app: Flask, settings: Settings) -> None:
    policy = content_security_policy(settings)

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
