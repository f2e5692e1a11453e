"""What the alert rules read, gathered in a few queries: stations with their communes and areas,
their liveness (scheduler.liveness), self-reported disk and clock, latest relay plays, and the fate of
recent emergencies (scheduler.emergencies.tracking.shown_state)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler.alerts.rules import EmergencyFact, StationFacts
from scheduler.db.models import Commune, Emergency, EmergencyStation, PlayLog, Station
from scheduler.emergencies.tracking import FAILED, PLAYED, UNREACHABLE, shown_state
from scheduler.liveness import is_online, last_contact, storage_full

RELAY_LOOKBACK = timedelta(days=1)
EMERGENCY_LOOKBACK = timedelta(days=1)
MAX_RELAYS = 50  # the relay rule's largest threshold (rules.RULE_KINDS)


def active_stations(session: Session) -> list[Station]:
    return list(session.scalars(
        select(Station).options(selectinload(Station.commune).selectinload(Commune.area))
        .where(Station.active).order_by(Station.code)
    ))


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _fault(value: object) -> str | None:
    """The relay watchdog's report (scheduler.agent: `stream_fault`), as the reason shown in the alert."""
    if not isinstance(value, dict):
        return None
    return f"«{value.get('title') or ''}» — {value.get('reason') or 'không rõ lý do'}"


def gather(session: Session, stations: list[Station], now: datetime,
           silent_thresholds: Iterable[int]) -> list[StationFacts]:
    """The facts of each station in `stations`, for the rules as configured."""
    ids = [s.id for s in stations]
    relays: dict[int, list[tuple[str, str]]] = defaultdict(list)  # station id -> (result, reason), latest first
    if ids:
        # Plain rows, not entities: a national fleet has a relay play per station and day.
        for station_id, result, reason in session.execute(
            select(PlayLog.station_id, PlayLog.result, PlayLog.reason)
            .where(PlayLog.kind == "relay", PlayLog.actual_start >= now - RELAY_LOOKBACK,
                   PlayLog.station_id.is_not(None))
            .order_by(PlayLog.station_id, PlayLog.actual_start.desc())
        ):
            if station_id is not None and len(relays[station_id]) < MAX_RELAYS:
                relays[station_id].append((result, reason))
    emergencies: dict[int, list[EmergencyFact]] = defaultdict(list)
    if ids:
        rows = session.execute(
            select(EmergencyStation, Emergency)
            .join(Emergency, Emergency.id == EmergencyStation.emergency_id)
            .options(selectinload(Emergency.bulletin))
            .where(EmergencyStation.station_id.in_(ids), Emergency.started_at.is_not(None),
                   Emergency.started_at >= now - EMERGENCY_LOOKBACK)
        ).all()
        for board_row, emergency in rows:
            assert board_row.station_id is not None
            state = shown_state(board_row, emergency, now)
            emergencies[board_row.station_id].append(EmergencyFact(
                emergency=emergency.id, title=emergency.bulletin.title, failed=state in (FAILED, UNREACHABLE),
                played=state == PLAYED or board_row.plays > 0, reason=board_row.reason,
            ))
    thresholds = sorted(set(silent_thresholds))
    out = []
    for s in stations:
        status = s.status or {}
        mine = relays.get(s.id, [])
        out.append(StationFacts(
            code=s.code,
            last_contact=last_contact(s),
            online_within={m: is_online(s, now, m) for m in thresholds},
            disk_free_mb=_int(status.get("disk_free_mb")),
            disk_full=storage_full(s) if "storage" in status else None,
            clock_offset_ms=_int(status.get("clock_offset_ms")),
            relay_results=[result for result, _ in mine],
            relay_reason=mine[0][1] if mine and mine[0][0] in ("failed", "skipped") else "",
            stream_fault=_fault(status.get("stream_fault")),
            stream_watched="stream_fault" in status,
            emergencies=sorted(emergencies.get(s.id, []), key=lambda e: e.emergency),
        ))
    return out
