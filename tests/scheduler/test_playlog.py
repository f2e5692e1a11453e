"""Play-log ingest: a batch sent twice is stored once; a bad row rejects the whole batch."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.models import Area, Commune, PlayLog, Province, Station
from scheduler.db.session import transaction
from scheduler.playlog import ingest

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def _station(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as s:
        province = Province(name="Gia Lai", policy={})
        commune = Commune(name="Xã Ia Grai", province=province, policy={})
        s.add(province)
        s.flush()
        area = Area(name="Khu vực Ia Grai", province_id=province.id)
        commune.area = area
        s.add(Station(code="IGR-01", name="Cụm loa", commune=commune, status={}))


def _row(play_id: str, **extra: object) -> dict[str, object]:
    return {"play_id": play_id, "actual_start": "2026-11-23T05:30:02+07:00", "played_ms": 30000,
            "title": "Bản tin một cửa", "bulletin": "B1", "result": "played", **extra}


def test_duplicate_batch_is_stored_once(sessions: sessionmaker[Session]) -> None:
    _station(sessions)
    batch = [_row("a"), _row("b")]
    with transaction(sessions) as s:
        first = ingest(s, s.scalars(select(Station)).one(), batch, NOW)
    with transaction(sessions) as s:
        second = ingest(s, s.scalars(select(Station)).one(), batch + [_row("c")], NOW)
    assert (first.stored, first.duplicates) == (2, 0)
    assert (second.stored, second.duplicates) == (1, 2)
    with sessions() as s:
        rows = s.scalars(select(PlayLog).order_by(PlayLog.play_id)).all()
        assert [r.play_id for r in rows] == ["a", "b", "c"]
        assert rows[0].commune == "Xã Ia Grai" and rows[0].area == "Khu vực Ia Grai"
        assert rows[0].actual_start == datetime(2026, 11, 22, 22, 30, 2, tzinfo=UTC)
        assert s.scalars(select(Station)).one().last_log_at == NOW


@pytest.mark.parametrize(
    "bad",
    [
        {"play_id": "x", "actual_start": "2026-11-23T05:30:02"},  # no zone
        {"play_id": "x", "actual_start": "hôm qua"},
        {"play_id": "x", "actual_start": "2026-11-23T05:30:02+07:00", "result": "ok"},
        {"actual_start": "2026-11-23T05:30:02+07:00"},
    ],
)
def test_bad_row_rejects_whole_batch(sessions: sessionmaker[Session], bad: dict[str, object]) -> None:
    _station(sessions)
    with pytest.raises(ValueError, match="Bản ghi thứ 2"), transaction(sessions) as s:
        ingest(s, s.scalars(select(Station)).one(), [_row("good"), bad], NOW)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(PlayLog)) == 0


def test_two_stations_may_use_the_same_play_id(sessions: sessionmaker[Session]) -> None:
    _station(sessions)
    with transaction(sessions) as s:
        first = s.scalars(select(Station)).one()
        s.add(Station(code="IGR-02", name="Cụm loa thôn 2", commune=first.commune, status={}))
    with transaction(sessions) as s:
        a, b = s.scalars(select(Station).order_by(Station.code)).all()
        stored_a = ingest(s, a, [_row("trung")], NOW)
        stored_b = ingest(s, b, [_row("trung", title="Thông báo tiêm chủng")], NOW)
    assert (stored_a.stored, stored_b.stored, stored_b.duplicates) == (1, 1, 0)
    with transaction(sessions) as s:  # each station's resend is still a duplicate of its own row only
        again = ingest(s, s.scalars(select(Station).where(Station.code == "IGR-02")).one(), [_row("trung")], NOW)
    assert (again.stored, again.duplicates) == (0, 1)
    with sessions() as s:
        rows = s.execute(select(PlayLog.station_code, PlayLog.title).where(PlayLog.play_id == "trung")
                         .order_by(PlayLog.station_code)).all()
        assert [tuple(r) for r in rows] == [("IGR-01", "Bản tin một cửa"), ("IGR-02", "Thông báo tiêm chủng")]
