"""Which blueprints make up the application."""

from __future__ import annotations

import importlib

from flask import Flask

from web.context import close_db

# module:attribute of each blueprint; each area owns its module.
BLUEPRINTS = (
    "web.api:bp",
    "web.views:bp",
    "web.views.bulletins:bp",
    "web.views.programmes:bp",
    "web.views.stations:bp",
    "web.views.emergencies:bp",
    "web.views.auditlog:bp",
    "web.views.users:bp",
    "web.health:bp",
    "web.reports:bp",
)


def register(app: Flask) -> None:
    app.teardown_appcontext(close_db)
    for target in BLUEPRINTS:
        module_name, attr = target.split(":")
        app.register_blueprint(getattr(importlib.import_module(module_name), attr))
