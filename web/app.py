"""The Flask application factory: admin pages and the station API on one server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from scheduler.db.session import autocommit, make_engine, make_session_factory
from scheduler.delivery.acks import AckGroups
from scheduler.delivery.poll_cache import PollCache
from scheduler.liveness import ContactStamps
from scheduler.manifest import ManifestBodies
from scheduler.settings import Settings

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def create_app(settings: Settings | None = None, clock: Clock = system_clock, testing: bool = False,
               threads: int | None = None, poll_cache: PollCache | None = None) -> Flask:
    """The application; `threads` is how many requests the server runs at once (sizes the database pool);
    `poll_cache`: injected in tests (its clock, its reading thread)."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=testing,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        MAX_CONTENT_LENGTH=200 * 1024 * 1024,
        JSON_AS_ASCII=False,
    )
    # JSON_AS_ASCII is ignored since Flask 2.3: the provider keeps Vietnamese readable in API answers.
    if isinstance(app.json, DefaultJSONProvider):
        app.json.ensure_ascii = False
    engine = make_engine(settings.database_url, threads=threads)
    app.extensions["loaxa"] = {
        "settings": settings,
        "engine": engine,
        "sessions": make_session_factory(engine),
        "reads": autocommit(engine),
        "contacts": ContactStamps(engine),
        "ack_groups": AckGroups(autocommit(engine)),
        "manifest_bodies": ManifestBodies(),
        "poll_cache": poll_cache or PollCache(settings.database_url),
        "clock": clock,
    }
    from web import blueprints, security

    blueprints.register(app)
    security.install(app, settings)
    return app
