"""Which blueprints make up the application."""

from __future__ import annotations

from flask import Blueprint, Flask

from web import api, health, open_api, reports, views
from web.context import close_db
from web.views import (
    alerts,
    auditlog,
    bulletins,
    choices,
    emergencies,
    fleetmap,
    live,
    programmes,
    stations,
    today,
    users,
)

# Each area owns its module and its blueprint.
BLUEPRINTS: tuple[Blueprint, ...] = (
    api.bp,
    open_api.bp,
    views.bp,
    today.bp,
    today.listen_bp,
    bulletins.bp,
    programmes.bp,
    stations.bp,
    fleetmap.bp,
    emergencies.bp,
    live.bp,
    choices.bp,
    auditlog.bp,
    users.bp,
    alerts.bp,
    health.bp,
    reports.bp,
)


def register(app: Flask) -> None:
    app.teardown_appcontext(close_db)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
