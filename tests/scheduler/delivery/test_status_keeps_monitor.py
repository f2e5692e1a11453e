"""An agent's status report must not erase what the server itself keeps in Station.status."""

from __future__ import annotations

from datetime import UTC, datetime

from scheduler.db.models import Station
from scheduler.delivery.station_api import record_status


def test_status_upload_keeps_the_silence_monitor_state() -> None:
    station = Station(code="IGR-01", status={"monitor": {"online": True, "since": "2026-11-23T05:00:00+07:00"},
                                             "volume": 40})
    now = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    status = record_status(station, {"volume": 80, "agent_version": "0.1.0"}, now)
    assert status["volume"] == 80
    assert station.status["monitor"] == {"online": True, "since": "2026-11-23T05:00:00+07:00"}
    assert station.last_status_at == now
