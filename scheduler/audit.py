"""The audit log: who changed what, when, with the state before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from scheduler.db.models import AuditLog, User


def record(
    session: Session,
    now: datetime,
    user: User | None,
    action: str,
    entity: str,
    entity_id: object = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor: str | None = None,
) -> None:
    """Add an audit row in the caller's transaction, so it commits or rolls back with the change.

    Without a user the row names `actor` (e.g. «nguồn STTTT-GL», an upstream source), else «hệ thống»."""
    session.add(
        AuditLog(
            at=now,
            user_id=user.id if user else None,
            username=user.username if user else (actor or "hệ thống")[:80],
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            before=before,
            after=after,
        )
    )
