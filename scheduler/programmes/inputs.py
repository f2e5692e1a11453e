"""What the planner reads from the database: stations with their windows and policy, and bulletins.

The one home of these rules: a station's windows are its own, else its commune's, else its
province's; its policy is the province's overlaid by the commune's; a bulletin's targets are
station codes, commune names or "*"; a week's bulletins are the approved, non-emergency ones valid
on some day of it, each on the targeted stations whose commune airs it (scheduler.commune_choice:
a commune choosing its content from above holds back what it has not accepted). `inputs_digest`
condenses one station's inputs, so a programme built from other inputs than today's is seen as
stale (scheduler.programmes.staleness).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import time, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from scheduler.calendar_vn import holiday_windows
from scheduler.commune_choice import own_communes, withheld
from scheduler.db.models import Bulletin, Commune, Station
from scheduler.domain import BulletinInput, BulletinStatus, IsoWeek, Policy, Priority, StationInput
from scheduler.planning.windows import format_windows, parse_windows


def _time(value: Any) -> time | None:
    return time.fromisoformat(value) if isinstance(value, str) and value else None


def policy_for(station: Station) -> Policy:
    """Province policy overlaid by the commune's; see docs/planner.md for the keys."""
    merged: dict[str, Any] = {**(station.commune.province.policy or {}), **(station.commune.policy or {})}
    return Policy(
        quiet_before=_time(merged.get("quiet_before", "05:00")),
        quiet_after=_time(merged.get("quiet_after", "21:30")),
        max_sessions_per_day=merged.get("max_sessions_per_day"),
        max_session_minutes=merged.get("max_session_minutes"),
        jingle_ms=int(merged.get("jingle_ms", 0)),
        gap_ms=int(merged.get("gap_ms", 2000)),
        holidays=holiday_windows(merged.get("holidays", {})),
        own_priority_first=station.commune.priority_order == "xa-truoc",
    )


def windows_spec(station: Station) -> str:
    """A station's own windows, else its commune's, else its province's defaults."""
    return station.windows or station.commune.default_windows or station.commune.province.default_windows


def station_input(station: Station) -> StationInput:
    spec = windows_spec(station)
    return StationInput(
        code=station.code,
        languages=station.language_list,
        windows=parse_windows(spec) if spec else (),
        commune=station.commune.name,
        policy=policy_for(station),
    )


def targets_station(targets: Iterable[str], station: Station) -> bool:
    """Whether a bulletin's or emergency's targets name this station (by code, commune name or "*")."""
    wanted = set(targets)
    return "*" in wanted or station.code in wanted or station.commune.name in wanted


def target_codes(targets: Sequence[str], stations: Sequence[Station]) -> frozenset[str]:
    """The codes of the `stations` that `targets` name."""
    return frozenset(s.code for s in stations if targets_station(targets, s))


def week_bulletins(week: IsoWeek, *, rendered: bool) -> Select[Bulletin]:
    """Approved, non-emergency bulletins valid at some point of the week, with (or still without) audio, by code."""
    first, last = week.monday(), week.monday() + timedelta(days=6)
    return (
        select(Bulletin)
        .where(
            Bulletin.status == BulletinStatus.APPROVED.value,
            Bulletin.audio_asset_id.is_not(None) if rendered else Bulletin.audio_asset_id.is_(None),
            Bulletin.priority != Priority.EMERGENCY.value,
            Bulletin.valid_from <= last,
            Bulletin.valid_to >= first,
        )
        .order_by(Bulletin.code)
    )


def bulletin_inputs(session: Session, week: IsoWeek, stations: Sequence[Station]) -> list[BulletinInput]:
    """Approved, rendered, non-emergency bulletins valid at some point of the week, on the targeted
    stations whose commune airs them."""
    rows = list(session.scalars(week_bulletins(week, rendered=True).options(selectinload(Bulletin.audio))))
    targeted = {b.id: target_codes(b.targets, stations) for b in rows}
    held = withheld(session, rows, stations, targeted)
    own = own_communes(session, rows)
    return [
        BulletinInput(
            code=b.code,
            title=b.title,
            language=b.language,
            priority=Priority(b.priority),
            valid_from=b.valid_from,
            valid_to=b.valid_to,
            plays_per_week=b.plays_per_week,
            duration_ms=b.audio.duration_ms if b.audio else 0,
            stations=targeted[b.id] - held.get(b.id, frozenset()),
            audio_sha256=b.audio.sha256 if b.audio else None,
            topic=b.topic,
            own_commune=own.get(b.id, ""),
        )
        for b in rows
    ]


def load_stations(session: Session, station_code: str | None = None) -> list[Station]:
    """Active stations (or the one with `station_code`) with their commune and province, by code."""
    query = (
        select(Station)
        .options(selectinload(Station.commune).selectinload(Commune.province))
        .where(Station.active)
        .order_by(Station.code)
    )
    if station_code:
        query = query.where(Station.code == station_code)
    return list(session.scalars(query))


def _policy_fields(policy: Policy, week: IsoWeek) -> list[Any]:
    # Only holidays that can shape this week: its own days and the week before (a Sunday session
    # of that week may run into this Monday).
    first, last = week.monday() - timedelta(days=7), week.monday() + timedelta(days=6)
    holidays = [[d.isoformat(), format_windows(w)] for d, w in sorted(policy.holidays.items()) if first <= d <= last]
    fields: list[Any] = [
        str(policy.quiet_before), str(policy.quiet_after), policy.max_sessions_per_day, policy.max_session_minutes,
        policy.jingle_ms, policy.gap_ms, holidays,
    ]  # fmt: skip
    return fields + ["own_priority_first"] if policy.own_priority_first else fields  # digests stay as they were


def inputs_digest(station: StationInput, bulletins: Sequence[BulletinInput], week: IsoWeek) -> str:
    """A hash of everything the planner reads for `station` in `week`: equal digests, equal programmes."""
    mine = [
        [b.code, b.title, b.language, b.priority.value, b.valid_from.isoformat(), b.valid_to.isoformat(),
         b.plays_per_week, b.duration_ms, b.audio_sha256, b.topic] + ([b.own_commune] if b.own_commune else [])
        for b in sorted(bulletins, key=lambda b: b.code)
        if station.code in b.stations
    ]  # fmt: skip
    data = [str(week), station.code, list(station.languages), format_windows(station.windows),
            _policy_fields(station.policy, week), mine]  # fmt: skip
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()
