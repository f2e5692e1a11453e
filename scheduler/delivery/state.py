"""Delivery state per station for the admin page: latest version, pushed, delivered, last contacts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler.db.models import Commune, Programme, Station
from scheduler.liveness import is_online
from scheduler.settings import DEFAULT_SILENT_MINUTES


@dataclass(frozen=True)
class DeliveryRow:
    station: str
    name: str
    commune: str
    week: str
    latest_version: int  # 0: no programme for this week
    notified_version: int  # pushed over MQTT
    acked_version: int  # held by the station with all its audio
    acked_at: datetime | None
    last_manifest_at: datetime | None
    last_status_at: datetime | None
    last_log_at: datetime | None
    online: bool | None  # None when `now` was not given

    @property
    def delivered(self) -> bool:
        return self.latest_version > 0 and self.acked_version >= self.latest_version

    @property
    def state_label(self) -> str:
        if self.latest_version == 0:
            return "Chưa có lịch"
        if self.delivered:
            return "Đã nhận đủ"
        if self.acked_version == 0:
            return "Chưa nhận"
        return f"Đang giữ phiên bản {self.acked_version}"


def delivery_status(session: Session, weeks: Sequence[str] | None = None, now: datetime | None = None,
                    silent_minutes: int = DEFAULT_SILENT_MINUTES) -> list[DeliveryRow]:
    """One row per active station and week (default: the two latest weeks that have programmes)."""
    if weeks is None:
        weeks = list(session.scalars(
            select(Programme.week).distinct().order_by(Programme.week.desc()).limit(2)
        ))[::-1]
    stations = list(session.scalars(
        select(Station).options(selectinload(Station.commune).selectinload(Commune.province))
        .where(Station.active).order_by(Station.code)
    ))
    programmes = {(p.station_id, p.week): p for p in session.scalars(
        select(Programme).where(Programme.week.in_(list(weeks)))
    )}
    rows = []
    for station in stations:
        online = None
        if now is not None:
            online = is_online(station, now, silent_minutes)
        for week in weeks:
            p = programmes.get((station.id, week))
            rows.append(DeliveryRow(
                station=station.code, name=station.name, commune=station.commune.name, week=week,
                latest_version=p.version if p else 0, notified_version=p.notified_version if p else 0,
                acked_version=p.acked_version if p else 0, acked_at=p.acked_at if p else None,
                last_manifest_at=station.last_manifest_at, last_status_at=station.last_status_at,
                last_log_at=station.last_log_at, online=online,
            ))
    return rows
