"""The station's side of the emergency proof: what became of each emergency play on this box.

Every report (received, playing, played, failed, stopped, expired; scheduler.wire.EmergencyReport)
is published on the station's MQTT event topic at once when the link is up, and kept in the
agent's store until the server has confirmed it over HTTP (POST /api/v1/emergency-reports): the
broker is the fast path, HTTP the certain one; the server ignores what it already knows.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from scheduler import wire
from scheduler.agent.client import ServerClient
from scheduler.agent.store import Store, iso

log = logging.getLogger("loaxa.agent.emergency")

OUTBOX_KEY = "emergency_reports"
SEEN_KEY = "emergency_seen"
MAX_KEPT = 2000  # a box offline for days keeps its newest reports, not an unbounded list


class EmergencyReports:
    """A small durable outbox of reports (JSON in the store's key-value table), thread-safe."""

    def __init__(self, store: Store, publish: Callable[[bytes], bool], wake: Callable[[], None]) -> None:
        self.store = store
        self._publish = publish
        self._wake = wake
        self._lock = threading.Lock()
        self._seen: set[str] = set((store.get_json(SEEN_KEY) or {}).keys())

    def report(self, emergency: int | None, state: wire.EmergencyState, at: datetime, *,
               airing: int | None = None, scheduled: datetime | None = None, reason: str = "") -> None:
        """Record one report, publish it over MQTT if the link is up, and wake the network side."""
        if emergency is None:
            return
        report = wire.EmergencyReport(
            id=uuid.uuid4().hex, emergency=emergency, state=state, at=iso(at) or "", airing=airing,
            scheduled=iso(scheduled) if scheduled else None, reason=reason[:500],
        )
        with self._lock:
            pending = self.pending()
            pending.append(report.to_dict())
            self.store.set_json(OUTBOX_KEY, pending[-MAX_KEPT:])
        try:
            self._publish(report.to_json())
        except Exception:  # the HTTP path still carries it
            log.exception("không gửi được báo cáo khẩn cấp qua MQTT")
        log.info("Lệnh khẩn cấp số %s: %s", emergency, state)
        self._wake()

    def pending(self) -> list[dict[str, Any]]:
        data = self.store.get_json(OUTBOX_KEY)
        return list(data) if isinstance(data, list) else []

    def flush(self, client: ServerClient) -> int:
        """Send every kept report over HTTP; drop those the server confirmed. Raises ServerUnavailable."""
        batch = self.pending()
        if not batch:
            return 0
        answer = client.post_json(wire.EMERGENCY_REPORTS_PATH, {"reports": batch})
        accepted = {str(x) for x in (answer.get("accepted", []) if isinstance(answer, dict) else [])}
        with self._lock:
            self.store.set_json(OUTBOX_KEY, [r for r in self.pending() if r.get("id") not in accepted])
        return len(accepted)

    def first_sight(self, key: str, at: datetime) -> bool:
        """True the first time this box sees programme item `key` (its emergency is then `received`)."""
        if key in self._seen:
            return False
        with self._lock:
            self._seen.add(key)
            seen = self.store.get_json(SEEN_KEY) or {}
            seen[key] = iso(at)
            # Keep the newest marks only: an item is seen once, near its time.
            self.store.set_json(SEEN_KEY, dict(sorted(seen.items(), key=lambda kv: kv[1])[-MAX_KEPT:]))
            return True
