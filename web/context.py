"""Per-request access to the settings, the database session and the injected clock."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, g
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from scheduler.delivery.acks import AckGroups
from scheduler.delivery.poll_cache import PollCache
from scheduler.liveness import ContactStamps
from scheduler.manifest import ManifestBodies
from scheduler.settings import Settings


def settings() -> Settings:
    found: Settings = current_app.extensions["loaxa"]["settings"]
    return found


def now() -> datetime:
    instant: datetime = current_app.extensions["loaxa"]["clock"]()
    return instant


def db() -> Session:
    """One session per request, closed at teardown (see blueprints.register)."""
    if "db" not in g:
        g.db = current_app.extensions["loaxa"]["sessions"]()
    session: Session = g.db
    return session


def reads() -> Engine:
    """The database for read-only answers: autocommit, no transaction to open or roll back
    (scheduler.db.session.read runs work on it)."""
    engine: Engine = current_app.extensions["loaxa"]["reads"]
    return engine


def contacts() -> ContactStamps:
    """Manifest-poll contact stamps, written behind the polls (scheduler.liveness.ContactStamps)."""
    stamps: ContactStamps = current_app.extensions["loaxa"]["contacts"]
    return stamps


def ack_groups() -> AckGroups:
    """Acknowledgements written in groups, one statement for the acks arriving together
    (scheduler.delivery.acks.AckGroups)."""
    groups: AckGroups = current_app.extensions["loaxa"]["ack_groups"]
    return groups


def manifest_bodies() -> ManifestBodies:
    """Manifests rendered once per version and kept in memory (scheduler.manifest.ManifestBodies)."""
    bodies: ManifestBodies = current_app.extensions["loaxa"]["manifest_bodies"]
    return bodies


def poll_cache() -> PollCache:
    """Poll answers kept in memory, never older than a bound (scheduler.delivery.poll_cache)."""
    cache: PollCache = current_app.extensions["loaxa"]["poll_cache"]
    return cache


def close_db(_exc: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()
