"""scheduler.stations: editing windows and languages, and rotating tokens, with audit and clean refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.accounts import station_for_token
from scheduler.db.models import AuditLog, Commune, Province, Station, User
from scheduler.db.session import transaction
from scheduler.stations import StationEdit, StationInvalid, StationRefused, rotate_token, update_station

NOW = datetime(2026, 11, 22, 22, 0, tzinfo=UTC)


@pytest.fixture
def seeded(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as s:
        province = Province(name="Quảng Trị", policy={})
        s.add(province)
        s.flush()
        hai_lang = Commune(province_id=province.id, name="Xã Hải Lăng", policy={})
        cam_lo = Commune(province_id=province.id, name="Xã Cam Lộ", policy={})
        s.add_all([hai_lang, cam_lo])
        s.add(Station(code="HL-01", name="Cụm loa thôn 1", commune=hai_lang, status={}))
        s.add(Station(code="CL-01", name="Cụm loa thôn 2", commune=cam_lo, status={}))
        s.flush()
        s.add_all(
            [
                User(username="qt", role="admin", password_hash="x", created_at=NOW),
                User(username="vh", role="operator", commune=hai_lang, password_hash="x", created_at=NOW),
                User(username="bt", role="editor", password_hash="x", created_at=NOW),
            ]
        )


def get(s: Session, model: type, **where: str):  # type: ignore[no-untyped-def]
    return s.scalars(select(model).filter_by(**where)).one()


def test_windows_are_stored_in_canonical_form_and_audited(sessions: sessionmaker[Session], seeded: None) -> None:
    with transaction(sessions) as s:
        saved = update_station(
            s, get(s, Station, code="HL-01"),
            StationEdit(name="Cụm loa thôn 1", languages=["vi"], windows="T2 - T6 05:30-06:00;T7,CN 17:00-17:30",
                        speakers=4),
            get(s, User, username="qt"), NOW,
        )  # fmt: skip
        assert saved.station.windows == "T2-T6 05:30-06:00; T7,CN 17:00-17:30"
        assert saved.warnings == []
    with sessions() as s:
        log = get(s, AuditLog, action="station.update")
        assert log.entity_id == "HL-01" and log.after["speakers"] == 4


def test_a_relay_outside_every_session_is_saved_with_a_warning(sessions: sessionmaker[Session], seeded: None) -> None:
    with transaction(sessions) as s:
        saved = update_station(
            s, get(s, Station, code="HL-01"),
            StationEdit(name="Cụm loa thôn 1", languages=["vi"],
                        windows="T2-CN 05:30-06:00; T2-CN 18:00-18:15 tiep-song=https://vov.vn/live"),
            get(s, User, username="qt"), NOW,
        )  # fmt: skip
        assert len(saved.warnings) == 1 and "không nằm trọn trong buổi phát" in saved.warnings[0]


def test_overlaps_and_bad_fields_are_refused_without_any_change(sessions: sessionmaker[Session], seeded: None) -> None:
    with pytest.raises(StationInvalid) as failed, transaction(sessions) as s:
        update_station(
            s, get(s, Station, code="HL-01"),
            StationEdit(name=" ", languages=["xx"], windows="T2-CN 05:30-06:00; CN 05:45-06:30", speakers=-3),
            get(s, User, username="qt"), NOW,
        )  # fmt: skip
    assert set(failed.value.errors) == {"name", "languages", "windows", "speakers"}
    assert "trùng giờ" in failed.value.errors["windows"]
    with sessions() as s:
        assert get(s, Station, code="HL-01").name == "Cụm loa thôn 1"
        assert s.scalar(select(func.count()).select_from(AuditLog)) == 0


def test_only_admins_edit_stations(sessions: sessionmaker[Session], seeded: None) -> None:
    with pytest.raises(StationRefused), transaction(sessions) as s:
        update_station(s, get(s, Station, code="HL-01"), StationEdit("X", ["vi"], ""), get(s, User, username="vh"), NOW)


def test_operators_rotate_tokens_only_in_their_commune(sessions: sessionmaker[Session], seeded: None) -> None:
    with transaction(sessions) as s:
        token = rotate_token(s, get(s, Station, code="HL-01"), get(s, User, username="vh"), NOW)
    with sessions() as s:
        station = station_for_token(s, token)
        assert station is not None and station.code == "HL-01"
        log = get(s, AuditLog, action="station.token")
        assert token not in f"{log.before}{log.after}"
    for station_code, username in (("CL-01", "vh"), ("HL-01", "bt")):
        with pytest.raises(StationRefused), transaction(sessions) as s:
            rotate_token(s, get(s, Station, code=station_code), get(s, User, username=username), NOW)
