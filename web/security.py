"""Security headers on every answer: the pages load nothing from elsewhere (but the map's tile server,
when one is configured), may not be framed, and leak no address in Referer. Behind nginx, the client's
address comes from X-Forwarded-For, believed only from the configured proxy (`trust_proxy`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

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


class TrustedProxy:
    """Werkzeug's ProxyFix (the last `hops` X-Forwarded-For entries), applied only to connections
    coming from one of `proxies`; anyone else's X-Forwarded-For is ignored."""

    def __init__(self, app: Any, hops: int, proxies: Iterable[str]) -> None:
        self.app = app
        self.fixed = ProxyFix(app, x_for=hops, x_proto=0, x_host=0, x_port=0, x_prefix=0)
        self.proxies = frozenset(proxies)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("REMOTE_ADDR") in self.proxies:
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)


def trust_proxy(app: Flask, settings: Settings) -> None:
    """With LOAXA_PROXY_HOPS set, request.remote_addr is the client nginx saw, not nginx itself."""
    if settings.proxy_hops > 0:
        app.wsgi_app = TrustedProxy(app.wsgi_app, settings.proxy_hops, settings.proxy_from)  # type: ignore[method-assign]


def install(app: Flask, settings: Settings) -> None:
    trust_proxy(app, settings)
    policy = content_security_policy(settings)

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
