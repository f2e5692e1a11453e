"""build_week glue: database rows -> planner -> stored programmes, versions bumped only on change."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import Result
from sqlalchemy import select, text
from sqlalchemy.orm import Session, selectinload, sessionmaker

from scheduler.db.models import AudioAsset, Bulletin, Programme, ProgrammeItem, Station
from scheduler.db.session import transaction
from scheduler.domain import IsoWeek
from scheduler.imports import import_stations
from scheduler.programmes import BuildResult, build_week, current_weeks, dry_run
from scheduler.settings import Settings
from tests.fake_clock import FakeClock

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WEEK = IsoWeek(2026, 48)  # Monday 23 Nov 2026; the clock fixture starts at 05:00 that day
STATIONS = """code,name,commune,area,province,languages,windows,lat,lon,speakers
IAGRAI-01,Cụm loa thôn Plei Ơi,Ia Grai,,Gia Lai,vi,T2-CN 05:30-06:00; T2-CN 17:00-17:30,,,4
IAGRAI-02,Cụm loa làng Bàu,Ia Grai,,Gia Lai,vi,T2-CN 05:30-06:00; T2-CN 17:00-17:30,,,3
CHUPAH-01,Cụm loa trung tâm,Chư Păh,,Gia Lai,vi,T2-CN 05:30-06:00,,,2
"""
TITLES = {
    "MC-01": "Tuyên truyền cơ chế một cửa, một cửa liên thông trong giải quyết thủ tục hành chính.",
    "DVC-01": "Hướng dẫn người dân nộp hồ sơ dịch vụ công trực tuyến mức độ 3, 4.",
    "CHISO-01": "Kết quả các chỉ số PAR INDEX, SIPAS năm 2023 của tỉnh Gia Lai.",
    "UT-01": "Thông báo lịch tiếp công dân của Chủ tịch UBND xã tháng 11.",
}


def add_bulletin(
    session: Session, code: str, now: datetime, *, targets: tuple[str, ...] = ("*",), plays: int = 4,
    priority: str = "thuong", status: str = "da_duyet", with_audio: bool = True, seconds: int = 120,
) -> Bulletin:
    audio = None
    if with_audio:
        sha = hashlib.sha256(code.encode()).hexdigest()
        audio = AudioAsset(sha256=sha, file_name=f"audio/{sha}.mp3", duration_ms=seconds * 1000, engine="test",
                           created_at=now)
    bulletin = Bulletin(
        code=code, title=TITLES.get(code, code), text=TITLES.get(code, code), topic="mot_cua", priority=priority,
        status=status, valid_from=date(2026, 11, 1), valid_to=date(2026, 12, 31), plays_per_week=plays,
        targets=list(targets), audio=audio, created_at=now, updated_at=now,
    )
    session.add(bulletin)
    session.flush()
    return bulletin


@pytest.fixture
def world(sessions: sessionmaker[Session], clock: FakeClock) -> sessionmaker[Session]:
    with transaction(sessions) as session:
        import_stations(session, STATIONS)
        add_bulletin(session, "MC-01", clock())
        add_bulletin(session, "DVC-01", clock(), seconds=150)
    return sessions


def build(sessions: sessionmaker[Session], now: datetime, station: str | None = None, horizon: int = 30) -> BuildResult:
    with transaction(sessions) as session:
        return build_week(session, WEEK, now, TZ, horizon, station_code=station)


def versions(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as s:
        rows = s.execute(select(Station.code, Programme.version).join(Programme).where(Programme.week == str(WEEK)))
        return {code: version for code, version in rows}


def items(sessions: sessionmaker[Session], station: str) -> list[ProgrammeItem]:
    with sessions() as s:
        programme = s.scalars(
            select(Programme).join(Station).options(selectinload(Programme.items))
            .where(Station.code == station, Programme.week == str(WEEK))
        ).one()
        return sorted(programme.items, key=lambda i: i.start)


def test_first_build_stores_version_one_for_every_active_station(world: sessionmaker[Session], clock: FakeClock) -> None:
    result = build(world, clock())
    assert sorted(result.changed) == ["CHUPAH-01", "IAGRAI-01", "IAGRAI-02"]
    assert versions(world) == {"CHUPAH-01": 1, "IAGRAI-01": 1, "IAGRAI-02": 1}
    planned = items(world, "IAGRAI-01")
    assert {i.bulletin_code for i in planned} == {"MC-01", "DVC-01"}
    assert all(i.topic == "mot_cua" and i.duration_ms in (120_000, 150_000) for i in planned)
    week_start = datetime(2026, 11, 23, tzinfo=TZ)
    assert all(week_start <= i.start < week_start + timedelta(days=7) for i in planned)


def test_rebuild_without_changes_keeps_every_version(world: sessionmaker[Session], clock: FakeClock) -> None:
    build(world, clock())
    before = [(i.start, i.bulletin_code) for i in items(world, "IAGRAI-01")]
    clock.advance(minutes=10)
    result = build(world, clock())
    assert result.changed == [] and sorted(result.unchanged) == ["CHUPAH-01", "IAGRAI-01", "IAGRAI-02"]
    assert versions(world) == {"CHUPAH-01": 1, "IAGRAI-01": 1, "IAGRAI-02": 1}
    assert [(i.start, i.bulletin_code) for i in items(world, "IAGRAI-01")] == before


def test_a_bulletin_for_one_commune_bumps_only_that_communes_stations(world: sessionmaker[Session], clock: FakeClock) -> None:
    build(world, clock())
    with transaction(world) as s:
        add_bulletin(s, "CHISO-01", clock(), targets=("Chư Păh",), plays=2)
    result = build(world, clock())
    assert result.changed == ["CHUPAH-01"]
    assert versions(world) == {"CHUPAH-01": 2, "IAGRAI-01": 1, "IAGRAI-02": 1}
    assert "CHISO-01" in {i.bulletin_code for i in items(world, "CHUPAH-01")}


def test_building_one_station_leaves_the_others_alone(world: sessionmaker[Session], clock: FakeClock) -> None:
    result = build(world, clock(), station="IAGRAI-02")
    assert result.changed == ["IAGRAI-02"]
    assert versions(world) == {"IAGRAI-02": 1}
    with pytest.raises(ValueError, match="KHONG-CO"):
        build(world, clock(), station="KHONG-CO")


def test_only_approved_bulletins_with_audio_are_planned(world: sessionmaker[Session], clock: FakeClock) -> None:
    with transaction(world) as s:
        add_bulletin(s, "NHAP-01", clock(), status="nhap")
        add_bulletin(s, "CAM-01", clock(), with_audio=False)
        add_bulletin(s, "KC-01", clock(), priority="khan_cap")
    build(world, clock())
    assert {i.bulletin_code for i in items(world, "IAGRAI-01")} == {"MC-01", "DVC-01"}


def test_a_pinned_item_survives_a_rebuild(world: sessionmaker[Session], clock: FakeClock) -> None:
    build(world, clock())
    # Pin DVC-01 on Wednesday evening at 17:10, as an operator would from the programme page.
    pin_at = datetime(2026, 11, 25, 17, 10, tzinfo=TZ).astimezone(UTC)
    with transaction(world) as s:
        programme = s.scalars(select(Programme).join(Station).where(Station.code == "IAGRAI-01")).one()
        item = next(i for i in programme.items if i.bulletin_code == "DVC-01" and i.start > pin_at)
        item.start, item.end, item.locked = pin_at, pin_at + timedelta(seconds=150), True
    with transaction(world) as s:
        add_bulletin(s, "UT-01", clock(), priority="uu_tien", plays=7)
    build(world, clock())
    after = items(world, "IAGRAI-01")
    pinned = [i for i in after if i.locked]
    assert [(i.bulletin_code, i.start) for i in pinned] == [("DVC-01", pin_at)]
    assert "UT-01" in {i.bulletin_code for i in after}
    for a, b in zip(after, after[1:], strict=False):
        assert a.end <= b.start


def test_items_inside_the_no_change_horizon_stay_as_they_are(world: sessionmaker[Session], clock: FakeClock) -> None:
    build(world, clock())
    first_session = datetime(2026, 11, 23, 5, 30, tzinfo=TZ)
    soon = [(i.start, i.bulletin_code) for i in items(world, "IAGRAI-01")
            if i.start < first_session + timedelta(minutes=30)]
    assert soon, "the Monday morning session should have items"
    clock.current = (first_session - timedelta(minutes=15)).astimezone(UTC)  # 05:15: inside the 30 min horizon
    with transaction(world) as s:
        add_bulletin(s, "UT-01", clock(), priority="uu_tien", plays=7)
    result = build(world, clock())
    assert "IAGRAI-01" in result.changed
    after = items(world, "IAGRAI-01")
    assert [(i.start, i.bulletin_code) for i in after if i.start < first_session + timedelta(minutes=30)] == soon
    evening = [i for i in after if i.start.astimezone(TZ).date() == date(2026, 11, 23) and i.start.astimezone(TZ).hour == 17]
    assert evening and evening[0].bulletin_code == "UT-01"  # priority bulletins open the session


def test_the_dry_run_takes_no_row_locks_and_writes_nothing(
    world: sessionmaker[Session], clock: FakeClock, backend: str
) -> None:
    build(world, clock())
    with transaction(world) as s:
        add_bulletin(s, "CHISO-01", clock(), targets=("Chư Păh",))  # a rebuild would change CHUPAH-01
    with world() as holder:
        # Another transaction (an emergency, a build) holds every programme row of the week.
        holder.execute(select(Programme).where(Programme.week == str(WEEK)).with_for_update()).all()
        with world() as s:
            if backend == "postgresql":
                s.execute(text("SET lock_timeout = '2s'"))  # a lock wait fails the test instead of hanging
            result = dry_run(s, WEEK, clock(), TZ)
            assert result.changed == ["CHUPAH-01"] and result.stale == ["CHUPAH-01"]
            assert not (s.new or s.dirty or s.deleted)
    assert versions(world) == {"CHUPAH-01": 1, "IAGRAI-01": 1, "IAGRAI-02": 1}


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (datetime(2026, 11, 29, 16, 59, 59, tzinfo=UTC), ("2026-W48", "2026-W49")),  # Sunday 23:59:59 local
        (datetime(2026, 11, 29, 17, 0, tzinfo=UTC), ("2026-W49", "2026-W50")),  # Monday 00:00 local
        (datetime(2026, 12, 27, 17, 0, tzinfo=UTC), ("2026-W53", "2027-W01")),  # a 53-week year
    ],
)
def test_weeks_turn_at_monday_midnight_local_time(instant: datetime, expected: tuple[str, str]) -> None:
    this_week, next_week = current_weeks(instant, TZ)
    assert (str(this_week), str(next_week)) == expected


# --- the `loaxa programme build|explain` commands (real clock: a week far ahead keeps them independent of it) ---

FAR_WEEK = IsoWeek.parse("2031-W10")


def _far_world(sessions: sessionmaker[Session], now: datetime) -> None:
    with transaction(sessions) as s:
        for code, plays in (("MC-01", 3), ("DVC-01", 40)):  # 40 plays cannot fit: a shortfall to explain
            row = add_bulletin(s, code, now, plays=plays)
            row.valid_from, row.valid_to = date(2031, 1, 1), date(2031, 12, 31)


def _invoke(settings: Settings, *args: str) -> Result:
    from click.testing import CliRunner

    from web.cli import main

    env = {"LOAXA_DATABASE_URL": settings.database_url, "LOAXA_DATA_DIR": str(settings.data_dir),
           "LOAXA_MEDIA_DIR": str(settings.media_dir)}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_programme_build_command_reports_new_and_unchanged_stations(
    sessions: sessionmaker[Session], settings: Settings, clock: FakeClock
) -> None:
    with transaction(sessions) as s:
        import_stations(s, STATIONS)
    _far_world(sessions, clock())
    first = _invoke(settings, "programme", "build", "--week", str(FAR_WEEK))
    assert first.exit_code == 0, first.output
    assert f"{FAR_WEEK.label}: 3 đài có lịch mới, 0 đài không đổi." in first.output
    assert "thiếu lượt phát" in first.output
    again = _invoke(settings, "programme", "build", "--week", str(FAR_WEEK), "--station", "CHUPAH-01")
    assert f"{FAR_WEEK.label}: 0 đài có lịch mới, 1 đài không đổi." in again.output
    wrong = _invoke(settings, "programme", "build", "--week", "2031-48")
    assert wrong.exit_code == 2 and "2026-W47" in wrong.output


def test_programme_explain_command_shows_quota_planned_and_why_short(
    sessions: sessionmaker[Session], settings: Settings, clock: FakeClock
) -> None:
    import json

    with transaction(sessions) as s:
        import_stations(s, STATIONS)
    _far_world(sessions, clock())
    result = _invoke(settings, "programme", "explain", "--week", str(FAR_WEEK), "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {(r["station"], r["bulletin"]): r for r in json.loads(result.output)["rows"]}
    assert set(rows) == {(st, b) for st in ("CHUPAH-01", "IAGRAI-01", "IAGRAI-02") for b in ("DVC-01", "MC-01")}
    assert rows[("IAGRAI-01", "MC-01")]["planned"] == rows[("IAGRAI-01", "MC-01")]["quota"] == 3
    short = rows[("CHUPAH-01", "DVC-01")]
    assert short["quota"] == 40 and short["planned"] < 40 and short["codes"]
    text = _invoke(settings, "programme", "explain", "--week", str(FAR_WEEK), "--station", "CHUPAH-01")
    assert "THIẾU" in text.output and short["reasons"] in text.output
    with sessions() as s:  # explaining never stores anything
        assert s.scalar(select(Programme.id).limit(1)) is None
