"""Detect changes to what the planner reads, and decide when a debounced rebuild is due.

The fingerprint is a hash of every planning input row (bulletins, stations, communes, provinces,
emergencies), so any edit, approval, window or policy change shows, whichever screen or command
made it; no other code has to remember to mark anything "dirty".
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.db.models import Bulletin, Commune, Emergency, Province, Station


def planning_fingerprint(session: Session) -> str:
    """A hash of the rows the weekly planner depends on."""
    queries: list[Any] = [
        select(Bulletin.id, Bulletin.status, Bulletin.updated_at, Bulletin.audio_asset_id, Bulletin.priority,
               Bulletin.valid_from, Bulletin.valid_to, Bulletin.plays_per_week, Bulletin.targets,
               Bulletin.language, Bulletin.title).order_by(Bulletin.id),
        select(Station.id, Station.code, Station.active, Station.windows, Station.languages,
               Station.commune_id).order_by(Station.id),
        select(Commune.id, Commune.name, Commune.default_windows, Commune.policy).order_by(Commune.id),
        select(Province.id, Province.default_windows, Province.policy, Province.timezone).order_by(Province.id),
        select(Emergency.id, Emergency.cancelled_at, Emergency.state).order_by(Emergency.id),
    ]
    digest = hashlib.sha256()
    for query in queries:
        for row in session.execute(query):
            digest.update(json.dumps(list(row), default=str, sort_keys=True).encode())
        digest.update(b"|")
    return digest.hexdigest()


@dataclass(frozen=True)
class WatchDecision:
    rebuild: bool
    state: dict[str, Any]  # the bookkeeping to store for the next poll
    reason: str  # unchanged | settling | quiet | overdue


def decide(
    state: dict[str, Any], fingerprint: str, now: datetime, quiet: timedelta, max_wait: timedelta
) -> WatchDecision:
    """Debounce: rebuild once the fingerprint has stayed put for `quiet`, or `max_wait` after the first change.

    `state` keys: built (fingerprint of the last rebuild), pending (latest unbuilt fingerprint),
    pending_since (when `pending` was first seen), first_change (first unbuilt change).
    """
    if fingerprint == state.get("built"):
        return WatchDecision(False, {"built": fingerprint}, "unchanged")
    first = datetime.fromisoformat(state["first_change"]) if state.get("first_change") else now
    since = now if fingerprint != state.get("pending") else datetime.fromisoformat(state["pending_since"])
    pending = {"built": state.get("built"), "pending": fingerprint, "pending_since": since.isoformat(),
               "first_change": first.isoformat()}
    if now - since >= quiet:
        return WatchDecision(True, pending, "quiet")
    if now - first >= max_wait:
        return WatchDecision(True, pending, "overdue")
    return WatchDecision(False, pending, "settling")
