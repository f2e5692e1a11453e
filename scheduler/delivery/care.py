"""Remote care of a station from the centre: restart the agent, reboot the box, amplifier on/off, volume,
resync, update the agent. Each command is stored (StationCommand), published on the station's MQTT cmd
topic, handed over HTTP on the station's status answers until the box reports on it, and closed by
the box's own CareResult (wire.CareResult, in its status)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import audit
from scheduler.db.models import AgentPackage, Station, StationCommand, User
from scheduler.delivery.commands import send_command
from scheduler.delivery.publisher import MqttPublisher
from scheduler.settings import Settings
from scheduler.wire import AMPLIFIER_STATES, CARE_KINDS, CareResult, Command, agent_package_path

CARE_TTL = timedelta(minutes=30)  # a box offline longer than this does not obey the command later
LABELS: dict[str, str] = {
    "restart": "Khởi động lại phần mềm",
    "reboot": "Khởi động lại đầu thu",
    "amplifier": "Bật/tắt ampli",
    "volume": "Đặt âm lượng",
    "resync": "Đồng bộ lại lịch và âm thanh",
    "update": "Cập nhật phần mềm đầu thu",
}
RESULT_LABELS: dict[str, str] = {"": "Chờ đầu thu trả lời", "running": "Đang làm", "ok": "Xong", "failed": "Lỗi"}


def care_command(kind: str, now: datetime, settings: Settings, *, volume: int | None = None,
                 state: str | None = None, package: AgentPackage | None = None) -> Command:
    """The wire command for `kind`; ValueError (Vietnamese) for a bad kind or argument."""
    if kind not in CARE_KINDS:
        raise ValueError(f"Lệnh «{kind}» không có; dùng một trong: {', '.join(CARE_KINDS)}.")
    if kind == "volume":
        if volume is None or not 0 <= volume <= 100:
            raise ValueError(f"Âm lượng «{volume}» không hợp lệ; dùng số nguyên từ 0 đến 100.")
        return Command.make("volume", now, CARE_TTL, volume=volume, title=f"Âm lượng {volume}")
    if kind == "amplifier":
        if state not in AMPLIFIER_STATES:
            raise ValueError(f"Trạng thái ampli «{state}» không hợp lệ; dùng on (bật) hoặc off (tắt).")
        title = "Bật ampli" if state == "on" else "Tắt ampli"
        return Command.make("amplifier", now, CARE_TTL, state=state, title=title)
    if kind == "update":
        if package is None:
            raise ValueError("Chưa có gói phần mềm đầu thu nào được phát hành. "
                             "Dùng: loaxa agent-package publish TỆP.whl")
        return Command.make("update", now, CARE_TTL, sha256=package.sha256, version=package.version,
                            package_url=settings.public_url + agent_package_path(package.sha256),
                            title=f"Cập nhật lên phiên bản {package.version}")
    return Command.make(kind, now, CARE_TTL, title=LABELS[kind])  # type: ignore[arg-type]  # checked above


def send_care(session: Session, settings: Settings, station: Station, command: Command, user: User | None,
              now: datetime, publisher: MqttPublisher | None = None) -> StationCommand:
    """Store the command, publish it over MQTT (when a broker is configured) and audit it."""
    row = StationCommand(command_id=command.id, station_id=station.id, kind=command.kind, payload=command.to_dict(),
                         created_at=now, expires_at=datetime.fromisoformat(command.expires_at),
                         created_by=user.username if user is not None else "", via="", result="", message="")
    session.add(row)
    session.flush()
    if (settings.mqtt_url or publisher is not None) and send_command(station, command, settings, publisher):
        row.via = "mqtt"
    audit.record(session, now, user, f"station.care.{command.kind}", "station", station.id,
                 after={"command": command.id, "volume": command.volume, "state": command.state,
                        "version": command.version, "via": row.via or "http"})
    return row


def pending_commands(session: Session, station: Station, now: datetime) -> list[Command]:
    """Commands the box has not answered yet and that have not expired: handed over HTTP on its status."""
    rows = list(session.scalars(
        select(StationCommand).where(StationCommand.station_id == station.id, StationCommand.result == "",
                                     StationCommand.expires_at > now).order_by(StationCommand.id)
    ))
    for row in rows:
        row.via = row.via or "http"
    return [Command(**row.payload) for row in rows]


def record_results(session: Session, station: Station, results: Any, now: datetime) -> int:
    """Apply the box's CareResults (its status `care`) to this station's commands; malformed entries are
    skipped. Returns how many rows changed."""
    if not isinstance(results, list):
        return 0
    parsed: dict[str, CareResult] = {}
    for entry in results[:50]:
        try:
            result = CareResult.from_dict(entry)
        except ValueError:
            continue
        parsed.setdefault(result.id, result)
    if not parsed:
        return 0
    changed = 0
    for row in session.scalars(select(StationCommand).where(StationCommand.station_id == station.id,
                                                            StationCommand.command_id.in_(list(parsed)))):
        result = parsed[row.command_id]
        at = datetime.fromisoformat(result.at)
        if (row.result, row.message) != (result.result, result.message):
            row.result, row.message, row.result_at = result.result, result.message, at
            changed += 1
    return changed


def recent_commands(session: Session, station: Station, limit: int = 10) -> Sequence[StationCommand]:
    return list(session.scalars(select(StationCommand).where(StationCommand.station_id == station.id)
                                .order_by(StationCommand.id.desc()).limit(limit)))


def latest_package(session: Session) -> AgentPackage | None:
    return session.scalar(select(AgentPackage).order_by(AgentPackage.id.desc()).limit(1))
