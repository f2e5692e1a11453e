"""Per-station delivery state for the admin page."""

from __future__ import annotations

from datetime import timedelta

from delivery_world import add_programme, add_station
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.session import transaction
from scheduler.delivery.state import delivery_status
from tests.fake_clock import FakeClock


def test_delivery_status_shows_latest_pushed_and_delivered_versions_per_station(
        sessions: sessionmaker[Session], clock: FakeClock) -> None:
    now = clock()
    with transaction(sessions) as s:
        a, _ = add_station(s, "GL-A", now)
        b, _ = add_station(s, "GL-B", now)
        held = add_programme(s, a, "2026-W48", [], now, version=3)
        held.acked_version, held.notified_version, held.acked_at = 3, 3, now
        behind = add_programme(s, b, "2026-W48", [], now, version=2)
        behind.acked_version, behind.notified_version = 1, 2
        add_programme(s, a, "2026-W49", [], now)
        a.last_status_at = now - timedelta(minutes=2)
        b.last_status_at = now - timedelta(hours=3)
    with sessions() as s:
        rows = {(r.station, r.week): r for r in delivery_status(s, now=now)}
    assert rows[("GL-A", "2026-W48")].delivered and rows[("GL-A", "2026-W48")].state_label == "Đã nhận đủ"
    assert not rows[("GL-B", "2026-W48")].delivered
    assert rows[("GL-B", "2026-W48")].state_label == "Đang giữ phiên bản 1"
    assert rows[("GL-B", "2026-W49")].state_label == "Chưa có lịch"
    assert rows[("GL-A", "2026-W49")].state_label == "Chưa nhận"
    assert rows[("GL-A", "2026-W48")].online and not rows[("GL-B", "2026-W48")].online
