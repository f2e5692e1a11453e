"""Proof of an emergency, station by station: the tracking board.

Each target station has one EmergencyStation row. Its state moves forward only, for the play
(`airing`) it belongs to; a later play starts the row again:

    cho_gui → da_gui → da_nhan → dang_phat → da_phat | loi | da_dung | khong_toi

- da_gui: the broker confirmed the play-now command (via mqtt), or the station was handed it
  over HTTP on its next contact (via http);
- da_nhan / dang_phat / da_phat / loi / da_dung: what the station itself reported (over MQTT at
  once and over HTTP always — scheduler.wire.EmergencyReport); dang_phat carries the
  actual start;
- khong_toi (unreachable): nothing came back before the play expired (shown, not stored), or
  the station got it too late and did not air it (stored, with the reason).
The same board is the page /khan-cap/<id>, its export and `loaxa emergency status ID --format json`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, selectinload

from scheduler import access
from scheduler.db.models import Bulletin, Emergency, EmergencyStation, Station, User
from scheduler.delivery.commands import announce_emergency, emergency_command, emergency_stop_command
from scheduler.delivery.publisher import MqttPublisher
from scheduler.emergencies.rules import MAX_SPAN
from scheduler.reports.exports.inert import inert_text
from scheduler.settings import Settings
from scheduler.wire import Command, EmergencyReport

QUEUED, SENT, RECEIVED, PLAYING = "cho_gui", "da_gui", "da_nhan", "dang_phat"
PLAYED, FAILED, STOPPED, UNREACHABLE = "da_phat", "loi", "da_dung", "khong_toi"
STATES: tuple[str, ...] = (QUEUED, SENT, RECEIVED, PLAYING, PLAYED, FAILED, STOPPED, UNREACHABLE)
LABELS: dict[str, str] = {
    QUEUED: "Chờ gửi",
    SENT: "Đã gửi",
    RECEIVED: "Đã nhận",
    PLAYING: "Đang phát",
    PLAYED: "Đã phát",
    FAILED: "Lỗi",
    STOPPED: "Đã dừng",
    UNREACHABLE: "Không liên lạc được",
}
RANK: dict[str, int] = {QUEUED: 0, SENT: 1, RECEIVED: 2, PLAYING: 3, PLAYED: 4, FAILED: 4, STOPPED: 4, UNREACHABLE: 4}
FROM_REPORT: dict[str, str] = {
    "received": RECEIVED, "playing": PLAYING, "played": PLAYED, "failed": FAILED, "stopped": STOPPED,
    "expired": UNREACHABLE,
}
RUNNING, HELD, CANCELLED, PENDING = "dang_chay", "tam_dung", "da_huy", "cho_duyet"


def plays_of(emergency: Emergency) -> list[datetime]:
    return [datetime.fromisoformat(a) for a in emergency.airings]


def ensure_rows(session: Session, emergency: Emergency, stations: Sequence[Station], now: datetime) -> None:
    """One board row per target station (kept when it exists: a resume does not forget what aired)."""
    have = set(session.scalars(select(EmergencyStation.station_code)
                               .where(EmergencyStation.emergency_id == emergency.id)))
    rows = [dict(emergency_id=emergency.id, station_id=s.id, station_code=s.code, commune=s.commune.name,
                 state=QUEUED, airing=0, via="", plays=0, reason="", updated_at=now)
            for s in stations if s.code not in have]
    if rows:  # one multi-row INSERT: a province has thousands of stations
        session.execute(insert(EmergencyStation), rows)


def board_stations(session: Session, emergency: Emergency) -> list[Station]:
    """The stations on the emergency's board (with their communes), whether active or not."""
    return list(session.scalars(
        select(Station).options(selectinload(Station.commune))
        .join(EmergencyStation, EmergencyStation.station_id == Station.id)
        .where(EmergencyStation.emergency_id == emergency.id).order_by(Station.code)
    ))


def unplayed_codes(session: Session, emergency: Emergency) -> set[str]:
    return set(session.scalars(select(EmergencyStation.station_code).where(
        EmergencyStation.emergency_id == emergency.id, EmergencyStation.plays == 0)))


def current_airing(emergency: Emergency, now: datetime) -> int | None:
    """The play stations may still start now: the latest one due, until it expires."""
    expiry = timedelta(minutes=emergency.expires_minutes)
    due = [n for n, at in enumerate(plays_of(emergency)) if at <= now < at + expiry]
    return due[-1] if due else None


def airing_of(emergency: Emergency, scheduled: datetime) -> int:
    """Which play a programme item scheduled at `scheduled` is (the nearest; placing may shift it by seconds)."""
    plays = plays_of(emergency)
    if not plays:
        return 0
    return min(range(len(plays)), key=lambda n: abs(plays[n] - scheduled))


def _restart(row: EmergencyStation, airing: int) -> None:
    row.airing = airing
    row.state = SENT if row.sent_at else QUEUED
    row.received_at = row.started_at = row.ended_at = None
    row.reason = ""


def apply_report(row: EmergencyStation, emergency: Emergency, report: EmergencyReport, now: datetime) -> bool:
    """Move the row forward by what the station reported; False if it told nothing new."""
    if report.airing is not None:
        airing = report.airing
    elif report.scheduled:
        airing = airing_of(emergency, datetime.fromisoformat(report.scheduled))
    else:
        airing = row.airing
    if airing < row.airing:
        return False
    if airing > row.airing:
        _restart(row, airing)
    state = FROM_REPORT[report.state]
    retried = row.state in (FAILED, UNREACHABLE) and state in (PLAYING, PLAYED)  # the box tried again
    if RANK[state] <= RANK[row.state] and not retried:
        return False
    at = datetime.fromisoformat(report.at)
    if row.sent_at is None:
        row.sent_at = at  # the box answered before the broker's acknowledgement was recorded
    if row.received_at is None and state != UNREACHABLE:
        row.received_at = at
    if state == PLAYING:
        row.started_at, row.ended_at = at, None
    if RANK[state] == RANK[PLAYED]:
        row.ended_at = at
        if state == PLAYED:
            row.plays += 1
    row.state = state
    row.reason = report.reason
    row.updated_at = now
    return True


def record_report(session: Session, station: Station, report: EmergencyReport, now: datetime) -> bool:
    """Store a station's report on an emergency aimed at it; False if unknown to the board or not news."""
    row = session.scalar(
        select(EmergencyStation)
        .where(EmergencyStation.emergency_id == report.emergency, EmergencyStation.station_code == station.code)
        .with_for_update()
    )
    if row is None:
        return False
    emergency = session.get(Emergency, report.emergency)
    assert emergency is not None
    return apply_report(row, emergency, report, now)


def mark_sent(session: Session, emergency: Emergency, confirmed: Mapping[str, bool], airing: int, via: str,
              now: datetime) -> int:
    """Rows of the stations the command reached (broker confirmed, or handed over HTTP) become da_gui."""
    codes = [code for code, ok in confirmed.items() if ok]
    if not codes:
        return 0
    ours = (EmergencyStation.emergency_id == emergency.id) & EmergencyStation.station_code.in_(codes)
    waiting = (EmergencyStation.airing == airing) & (EmergencyStation.state == QUEUED)
    changed = 0
    for row in session.scalars(select(EmergencyStation).where(ours & ~waiting)):
        if airing > row.airing:
            _restart(row, airing)
        if airing == row.airing and row.state == QUEUED:
            row.state, row.sent_at, row.via, row.updated_at = SENT, now, via, now
            changed += 1
        elif airing == row.airing and via not in row.via.split(","):  # it went out both ways
            row.via, row.updated_at = ",".join(filter(None, [row.via, via])), now
    session.flush()
    # The usual case, every row still waiting for this play, is one UPDATE (not one per station).
    result = session.execute(
        update(EmergencyStation).where(ours & waiting)
        .values(state=SENT, sent_at=now, via=via, updated_at=now)
        .execution_options(synchronize_session="fetch")
    )
    changed += getattr(result, "rowcount", 0) or 0
    return changed


def dispatch(settings: Settings | None, session: Session, emergency: Emergency, station_codes: Sequence[str],
             now: datetime, publisher: MqttPublisher | None = None) -> dict[str, bool]:
    """Send the current play's play-now over MQTT (QoS 1) and mark the rows the broker confirmed.

    Call after the emergency is committed: a station told to play must find it on the server.
    Never raises for a broker problem; stations it misses get the play on their next HTTP contact.
    """
    airing = current_airing(emergency, now)
    if airing is None or not station_codes:
        return {}
    if publisher is None and (settings is None or not settings.mqtt_url):
        return {}
    command = emergency_command(emergency, airing, plays_of(emergency)[airing],
                                secret=settings.secret_key if settings is not None else None)
    confirmed = announce_emergency(settings, emergency, station_codes, command, publisher)
    mark_sent(session, emergency, confirmed, airing, "mqtt", now)
    return confirmed


def stop_playing(settings: Settings | None, session: Session, emergency: Emergency, now: datetime,
                 publisher: MqttPublisher | None = None) -> dict[str, bool]:
    """Tell the stations airing it (or told to) to stop it; HTTP-only ones learn it on their next contact."""
    rows = list(session.scalars(select(EmergencyStation).where(
        EmergencyStation.emergency_id == emergency.id,
        EmergencyStation.state.in_([SENT, RECEIVED, PLAYING]))))
    if not rows or (publisher is None and (settings is None or not settings.mqtt_url)):
        return {}
    airing = max(r.airing for r in rows)
    return announce_emergency(settings, emergency, [r.station_code for r in rows],
                              emergency_stop_command(emergency, airing, now), publisher)


def station_commands(session: Session, station: Station, now: datetime) -> list[Command]:
    """What a station learns on an HTTP contact: the current play of each running emergency aimed at it
    that it has not finished, and a stop for one held or cancelled while it airs. Rows handed a play
    this way become da_gui (via http)."""
    pairs = session.execute(
        select(EmergencyStation, Emergency)
        .join(Emergency, EmergencyStation.emergency_id == Emergency.id)
        .options(selectinload(Emergency.bulletin).selectinload(Bulletin.audio))
        .where(EmergencyStation.station_id == station.id, Emergency.state.in_([RUNNING, HELD, CANCELLED]),
               Emergency.started_at >= now - MAX_SPAN - timedelta(days=1))
    ).all()
    commands: list[Command] = []
    for row, emergency in pairs:
        if emergency.state == RUNNING:
            airing = current_airing(emergency, now)
            # Handed until the station says it has it (or the play expires): it obeys a command id once.
            if airing is None or airing < row.airing or (airing == row.airing and RANK[row.state] >= RANK[RECEIVED]):
                continue
            try:
                commands.append(emergency_command(emergency, airing, plays_of(emergency)[airing]))
            except ValueError:
                continue
            if airing > row.airing:
                _restart(row, airing)
            if row.state == QUEUED:
                row.state, row.sent_at, row.via, row.updated_at = SENT, now, "http", now
            elif "http" not in row.via.split(","):  # the broker took it, the box had no live link: HTTP too
                row.via, row.updated_at = ",".join(filter(None, [row.via, "http"])), now
        elif row.state in (SENT, RECEIVED, PLAYING):
            commands.append(emergency_stop_command(emergency, row.airing, now))
    return commands


@dataclass(frozen=True)
class BoardRow:
    station: str
    name: str
    commune: str
    state: str
    label: str
    via: str
    airing: int
    sent_at: str | None
    received_at: str | None
    started_at: str | None
    ended_at: str | None
    plays: int
    reason: str


@dataclass(frozen=True)
class Board:
    emergency: int
    state: str
    title: str
    total: int
    played: int
    counts: dict[str, int]
    airings: list[str]
    rows: list[BoardRow] = field(default_factory=list)

    @property
    def headline(self) -> str:
        return f"{self.played}/{self.total} đài đã phát"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["headline"] = self.headline
        data["labels"] = LABELS
        return data


def shown_state(row: EmergencyStation, emergency: Emergency, now: datetime) -> str:
    """The stored state, or khong_toi once the row's play expired with nothing back from the station."""
    if emergency.state == RUNNING and RANK[row.state] <= RANK[SENT]:
        plays = plays_of(emergency)
        if row.airing < len(plays) and now >= plays[row.airing] + timedelta(minutes=emergency.expires_minutes):
            return UNREACHABLE
    return row.state


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def aimed_within(user: User | None) -> Any:
    """SQL: the emergency has a target station inside the user's scope (scheduler.access): what they see."""
    return Emergency.id.in_(
        select(EmergencyStation.emergency_id).join(Station, EmergencyStation.station_id == Station.id)
        .where(access.station_clause(user))
    )


def visible_to(session: Session, emergency: Emergency, user: User | None) -> bool:
    if access.scope_of(user).everywhere:
        return True
    return session.scalar(select(Emergency.id).where(Emergency.id == emergency.id, aimed_within(user))) is not None


def board(session: Session, emergency: Emergency, now: datetime, user: User | None = None,
          summary_only: bool = False) -> Board:
    """Every target station's state; with `user`, only the stations inside their scope (an operator
    sees their commune's). `summary_only` keeps the counts and drops the rows (lists of emergencies)."""
    query = (
        select(EmergencyStation, Station.name)
        .outerjoin(Station, EmergencyStation.station_id == Station.id)
        .where(EmergencyStation.emergency_id == emergency.id)
        .order_by(EmergencyStation.commune, EmergencyStation.station_code)
    )
    if not access.scope_of(user).everywhere:
        query = query.where(access.station_clause(user))
    rows: list[BoardRow] = []
    for row, name in session.execute(query):
        state = shown_state(row, emergency, now)
        rows.append(BoardRow(
            station=row.station_code, name=name or "", commune=row.commune, state=state, label=LABELS[state],
            via=row.via, airing=row.airing, sent_at=_iso(row.sent_at), received_at=_iso(row.received_at),
            started_at=_iso(row.started_at), ended_at=_iso(row.ended_at), plays=row.plays, reason=row.reason,
        ))
    counts = {state: 0 for state in STATES}
    for r in rows:
        counts[r.state] += 1
    return Board(
        emergency=emergency.id, state=emergency.state, title=emergency.bulletin.title, total=len(rows),
        played=sum(1 for r in rows if r.plays > 0), counts=counts, airings=list(emergency.airings),
        rows=[] if summary_only else rows,
    )


CSV_HEADER = ("Mã đài", "Tên đài", "Xã", "Trạng thái", "Đường gửi", "Lượt", "Gửi lúc", "Nhận lúc",
              "Bắt đầu phát lúc", "Kết thúc lúc", "Số lượt đã phát", "Lý do")


def board_csv(result: Board, tz: Any) -> bytes:
    """The board as CSV (UTF-8 with BOM, local times), one row per station."""
    def local_time(value: str | None) -> str:
        return datetime.fromisoformat(value).astimezone(tz).strftime("%d/%m/%Y %H:%M:%S") if value else ""

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([f"Lệnh khẩn cấp số {result.emergency}: {inert_text(result.title)}", result.headline])
    writer.writerow(CSV_HEADER)
    for r in result.rows:
        writer.writerow([inert_text(r.station), inert_text(r.name), inert_text(r.commune), r.label, r.via, r.airing + 1,
                         local_time(r.sent_at), local_time(r.received_at), local_time(r.started_at),
                         local_time(r.ended_at), r.plays, inert_text(r.reason)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
