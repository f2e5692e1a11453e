"""The `service_heartbeat` row: the leader writes its beat; /healthz and a standby read it.

The row's `state` carries job bookkeeping (e.g. the rebuild watcher's fingerprints), so a new
leader carries on where the old one stopped.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scheduler.db.models import ServiceHeartbeat

SERVICE = "scheduler"


def beat(session: Session, holder: str, pid: int, started_at: datetime, now: datetime) -> None:
    """Record that `holder` leads and is alive at `now` (creates the row on first use)."""
    row = session.get(ServiceHeartbeat, SERVICE)
    if row is None:
        session.add(ServiceHeartbeat(name=SERVICE, holder=holder, pid=pid, started_at=started_at, beat_at=now,
                                     state={}))
    else:
        # Only these columns: the jobs update `state` from other threads.
        session.execute(
            update(ServiceHeartbeat)
            .where(ServiceHeartbeat.name == SERVICE)
            .values(holder=holder, pid=pid, started_at=started_at, beat_at=now)
        )
    session.flush()


def read(session: Session) -> ServiceHeartbeat | None:
    """The heartbeat row, or None if no scheduler has ever led."""
    return session.scalar(select(ServiceHeartbeat).where(ServiceHeartbeat.name == SERVICE))


def is_alive(row: ServiceHeartbeat | None, now: datetime, max_age: timedelta) -> bool:
    """Whether the last beat is recent enough (for /healthz: use a few poll periods as max_age)."""
    return row is not None and row.beat_at is not None and now - row.beat_at <= max_age


def load_state(session: Session, key: str) -> dict[str, Any]:
    row = read(session)
    value = (row.state or {}).get(key) if row is not None else None
    return dict(value) if isinstance(value, dict) else {}


def save_state(session: Session, key: str, value: dict[str, Any]) -> None:
    """Store one job's bookkeeping under `key` (creates the row if no leader ever beat)."""
    row = session.scalar(select(ServiceHeartbeat).where(ServiceHeartbeat.name == SERVICE).with_for_update())
    if row is None:
        session.add(ServiceHeartbeat(name=SERVICE, holder="", pid=0, state={key: value}))
    else:
        row.state = {**(row.state or {}), key: value}
    session.flush()
