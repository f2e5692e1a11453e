"""Emergencies (khẩn cấp): from typed words (or a recording, or an approved bulletin) to every target
loudspeaker at once, repeated by a rule, pre-empting the programme, with proof per station.

- rules: when it plays (pure); targets: where; placing: its plays in the programmes;
- lifecycle: request → start/release → hold/resume → cancel, audited;
- compose: words or a recording into a khẩn cấp bulletin with audio, rendered at once;
- tracking: the per-station board, the stations' reports, what they learn over MQTT and HTTP;
- cap: CAP 1.2 alerts in (pending emergencies) and out.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import object_session

from scheduler.db.models import Emergency
from scheduler.emergencies.lifecycle import (
    CANCELLED,
    HELD,
    PENDING,
    RUNNING,
    STATE_LABELS,
    cancel_emergency,
    emergency_ends_at,
    emergency_plays,
    hold_emergency,
    is_over,
    list_active,
    list_pending,
    may_start,
    release_emergency,
    release_refusal,
    request_emergency,
    resume_emergency,
    start_emergency,
    state_label,
)
from scheduler.emergencies.placing import station_zone
from scheduler.emergencies.rules import MAX_PLAYS, MAX_SPAN, MIN_EVERY_MINUTES, RepeatRule, plays_for
from scheduler.emergencies.targets import target_stations
from scheduler.emergencies.tracking import dispatch, stop_playing

log = logging.getLogger(__name__)

__all__ = [
    "CANCELLED", "HELD", "MAX_PLAYS", "MAX_SPAN", "MIN_EVERY_MINUTES", "PENDING", "RUNNING", "STATE_LABELS",
    "RepeatRule", "announce", "cancel_emergency", "dispatch", "emergency_ends_at", "emergency_plays",
    "hold_emergency", "is_over", "list_active", "list_pending", "may_start", "plays_for", "release_emergency",
    "release_refusal", "request_emergency", "resume_emergency", "start_emergency", "state_label", "station_zone",
    "stop_playing", "target_stations",
]


def announce(settings: Any, emergency: Emergency, stations: Sequence[str], now: datetime) -> bool:
    """Tell stations over MQTT to play the emergency now and flush the board rows the broker confirmed;
    True if the broker took it for any station. Call after the commit, then commit again.

    Never raises: the emergency is already in the programmes and in the stations' HTTP answers.
    """
    session = object_session(emergency)
    if session is None:
        return False
    try:
        confirmed = dispatch(settings, session, emergency, stations, now)
    except Exception:  # a broker outage must not undo an emergency already in the programmes
        log.exception("không gửi được lệnh phát ngay cho lệnh khẩn cấp %s qua MQTT", emergency.id)
        return False
    return any(confirmed.values())
