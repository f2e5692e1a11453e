"""Which blueprints make up the application."""

from __future__ import annotations

from flask import Blueprint, Flask

from web import api, health, open_api, reports, views
from web.context import close_db
from web.views import auditlog, bulletins, emergencies, fleetmap, programmes, stations, users

# Each area owns its module and its blueprint.
BLUEPRINTS: tuple[Blueprint, ...] = (
    api.bp,
    open_api.bp,
    views.bp,
    bulletins.bp,
    programmes.bp,
    stations.bp,
    fleetmap.bp,
    emergencies.bp,
    auditlog.bp,
    users.bp,
    health.bp,
    reports.bp,
)


def register(app: Flask) -> None:
    app.teardown_appcontext(close_db)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
