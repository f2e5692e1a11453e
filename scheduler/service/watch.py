"""Detect changes to what the planner reads, cheaply, so the watcher only looks closer when needed.

The fingerprint is a hash of every planning input row (bulletins, stations, communes, provinces,
emergencies, the communes' answers to content from above) and of the programmes marked for a
rebuild, for the weeks being watched. Any edit, approval, window or policy change shows, whichever
screen or command made it; which stations it concerns is then found by
scheduler.programmes.staleness (each programme keeps the digest of its own inputs), so only those
are rebuilt, within a tick of the watcher.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.db.models import Bulletin, Commune, CommuneDecision, Emergency, Programme, Province, Station
from scheduler.domain import IsoWeek


def planning_fingerprint(session: Session, weeks: Sequence[IsoWeek] = ()) -> str:
    """A hash of the rows the weekly planner depends on, and of the `weeks`' programmes awaiting a rebuild."""
    queries: list[Any] = [
        select(Bulletin.id, Bulletin.status, Bulletin.updated_at, Bulletin.audio_asset_id, Bulletin.priority,
               Bulletin.valid_from, Bulletin.valid_to, Bulletin.plays_per_week, Bulletin.targets,
               Bulletin.language, Bulletin.title).order_by(Bulletin.id),
        select(Station.id, Station.code, Station.active, Station.windows, Station.languages,
               Station.commune_id).order_by(Station.id),
        select(Commune.id, Commune.name, Commune.default_windows, Commune.policy, Commune.upstream_mode,
               Commune.priority_order).order_by(Commune.id),
        select(CommuneDecision.id, CommuneDecision.decision, CommuneDecision.decided_at).order_by(CommuneDecision.id),
        select(Province.id, Province.default_windows, Province.policy, Province.timezone).order_by(Province.id),
        select(Emergency.id, Emergency.cancelled_at, Emergency.state).order_by(Emergency.id),
        select(Programme.id, Programme.week).where(
            Programme.week.in_([str(w) for w in weeks]), Programme.inputs_hash.is_(None)
        ).order_by(Programme.id),
    ]
    digest = hashlib.sha256(json.dumps([str(w) for w in weeks]).encode())
    for query in queries:
        for row in session.execute(query):
            digest.update(json.dumps(list(row), default=str, sort_keys=True).encode())
        digest.update(b"|")
    return digest.hexdigest()
