"""Passwords are hashed and checked; station tokens rotate."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from scheduler import accounts
from scheduler.db.models import Commune, Province, Station
from scheduler.db.session import transaction

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def test_password_hash_checks_only_the_right_password() -> None:
    stored = accounts.hash_password("mật-khẩu-đúng")
    assert "mật-khẩu-đúng" not in stored
    assert accounts.check_password(stored, "mật-khẩu-đúng")
    assert not accounts.check_password(stored, "mật-khẩu-sai")
    assert accounts.hash_password("mật-khẩu-đúng") != stored  # salted


def test_operator_needs_a_commune_and_names_are_unique(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(ValueError, match="phải gắn với một xã"), transaction(sessions) as s:
        accounts.create_user(s, "vh", "operator", "mat-khau-dai", NOW)
    with transaction(sessions) as s:
        accounts.create_user(s, "bt", "editor", "mat-khau-dai", NOW)
    with pytest.raises(ValueError, match="đã có người dùng"), transaction(sessions) as s:
        accounts.create_user(s, "bt", "viewer", "mat-khau-dai", NOW)
    with pytest.raises(ValueError, match="Vai trò"), transaction(sessions) as s:
        accounts.create_user(s, "x", "boss", "mat-khau-dai", NOW)


def test_new_station_token_revokes_the_old_one(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as s:
        province = Province(name="Gia Lai", policy={})
        commune = Commune(name="Xã Ia Grai", province=province, policy={})
        s.add(Station(code="IGR-01", name="Cụm loa", commune=commune, status={}))
    with transaction(sessions) as s:
        station = s.query(Station).one()
        first = accounts.issue_station_token(station, NOW)
    with transaction(sessions) as s:
        assert accounts.station_for_token(s, first) is not None
        second = accounts.issue_station_token(s.query(Station).one(), NOW)
    with sessions() as s:
        assert accounts.station_for_token(s, first) is None
        found = accounts.station_for_token(s, second)
        assert found is not None and found.code == "IGR-01"
        assert accounts.station_for_token(s, "") is None
