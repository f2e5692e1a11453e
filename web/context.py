"""Per-request access to the settings, the database session and the injected clock."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, g
from sqlalchemy.orm import Session

from scheduler.settings import Settings


def settings() -> Settings:
    return current_app.extensions["loaxa"]["settings"]


def now() -> datetime:
    return current_app.extensions["loaxa"]["clock"]()


def db() -> Session:
    """One session per request, closed at teardown (see blueprints.register)."""
    if "db" not in g:
        g.db = current_app.extensions["loaxa"]["sessions"]()
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()
