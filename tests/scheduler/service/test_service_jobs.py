"""Each service job's body, run directly with an injected `now` on both database backends."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from service_world import add_bulletin
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.models import AuditLog, Bulletin, Programme, Station
from scheduler.db.session import transaction
from scheduler.service import heartbeat
from scheduler.service.jobs import (
    WATCH_KEY,
    JobContext,
    build_next_week,
    expire_bulletins,
    flag_silent_stations,
    push_programmes,
    render_audio,
    rollup_reports,
    watch_changes,
)
from tests.fake_clock import FakeClock

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def programme_versions(sessions: sessionmaker[Session], week: str) -> dict[str, int]:
    with sessions() as s:
        rows = s.execute(select(Station.code, Programme.version).join(Programme).where(Programme.week == week))
        return {code: version for code, version in rows}


# --- expire bulletins --------------------------------------------------------------------------------


def test_bulletins_lapse_just_after_local_midnight_of_their_last_day(
    province: sessionmaker[Session], context: JobContext
) -> None:
    sunday = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    with transaction(province) as s:
        add_bulletin(s, "HET-22", "Lịch tiếp công dân tháng 11.", sunday, valid_to=date(2026, 11, 22))
        add_bulletin(s, "NHAP-22", "Bản nháp cũ.", sunday, valid_to=date(2026, 11, 22), status="nhap")
        add_bulletin(s, "CHO-21", "Chờ duyệt đã quá hạn.", sunday, valid_to=date(2026, 11, 21), status="cho_duyet")
    last_second = datetime(2026, 11, 22, 16, 59, 59, tzinfo=UTC)  # Sunday 23:59:59 in Hà Nội
    assert expire_bulletins(context, last_second) == ["CHO-21"]
    midnight = datetime(2026, 11, 22, 17, 0, tzinfo=UTC)  # Monday 00:00 in Hà Nội
    assert expire_bulletins(context, midnight) == ["HET-22"]
    assert expire_bulletins(context, midnight + timedelta(hours=1)) == []
    with province() as s:
        status = dict(s.execute(select(Bulletin.code, Bulletin.status)).all())
        audits = s.scalars(select(AuditLog).where(AuditLog.action == "bulletin.expire").order_by(AuditLog.id)).all()
        archived = s.scalars(select(Bulletin).where(Bulletin.code == "HET-22")).one()
    assert status == {"MC-01": "da_duyet", "DVC-01": "da_duyet", "HET-22": "luu_tru", "NHAP-22": "nhap",
                      "CHO-21": "luu_tru"}
    assert [(a.before, a.after["status"]) for a in audits] == [  # type: ignore[index]
        ({"status": "cho_duyet"}, "luu_tru"), ({"status": "da_duyet"}, "luu_tru")]
    assert archived.updated_at == midnight


# --- silent stations ---------------------------------------------------------------------------------


def test_stations_that_stop_reporting_are_flagged_and_cleared_when_back(
    province: sessionmaker[Session], context: JobContext, clock: FakeClock
) -> None:
    now = clock()
    with transaction(province) as s:
        stations = {st.code: st for st in s.scalars(select(Station))}
        stations["IAGRAI-01"].last_status_at = now - timedelta(minutes=10)
        stations["IAGRAI-01"].status = {"volume": 80}
        stations["IAGRAI-02"].last_log_at = now - timedelta(minutes=45)
        stations["IAGRAI-02"].last_manifest_at = now - timedelta(hours=3)
    first = flag_silent_stations(context, now)
    assert (first.went_silent, first.never_seen, first.came_back) == (["IAGRAI-02"], ["CHUPAH-01"], ["IAGRAI-01"])
    again = flag_silent_stations(context, now + timedelta(minutes=1))
    assert (again.went_silent, again.never_seen, again.came_back) == ([], [], [])
    with province() as s:
        status = {st.code: st.status for st in s.scalars(select(Station))}
    assert status["IAGRAI-01"] == {"volume": 80, "monitor": {
        "online": True, "since": now.isoformat(), "last_contact": (now - timedelta(minutes=10)).isoformat()}}
    assert status["IAGRAI-02"]["monitor"] == {
        "online": False, "since": now.isoformat(), "last_contact": (now - timedelta(minutes=45)).isoformat()}
    later = now + timedelta(minutes=5)
    with transaction(province) as s:
        s.scalars(select(Station).where(Station.code == "IAGRAI-02")).one().last_status_at = later
    back = flag_silent_stations(context, later)
    assert back.came_back == ["IAGRAI-02"]
    # 30 minutes without contact is still online; the next minute it is not.
    quiet = flag_silent_stations(context, later + timedelta(minutes=30))
    assert quiet.went_silent == ["IAGRAI-01"]


# --- building programmes -----------------------------------------------------------------------------


def test_build_next_week_plans_the_following_local_week_for_every_station(
    province: sessionmaker[Session], context: JobContext
) -> None:
    sunday_night = datetime(2026, 11, 29, 16, 30, tzinfo=UTC)  # Sunday 23:30 in Hà Nội: next week is W49
    result = build_next_week(context, sunday_night)
    assert str(result.week) == "2026-W49"
    assert programme_versions(province, "2026-W49") == {"CHUPAH-01": 1, "IAGRAI-01": 1, "IAGRAI-02": 1}
    monday_morning = datetime(2026, 11, 29, 17, 30, tzinfo=UTC)  # Monday 00:30: next week is W50
    assert str(build_next_week(context, monday_morning).week) == "2026-W50"


def test_a_new_leader_builds_every_station_without_a_programme_at_once(
    province: sessionmaker[Session], context: JobContext, clock: FakeClock
) -> None:
    now = clock()
    done = watch_changes(context, now)
    assert done.reason == "rebuilt" and [str(r.week) for r in done.rebuilt] == ["2026-W48"]
    assert programme_versions(province, "2026-W48") == {"CHUPAH-01": 1, "IAGRAI-01": 1, "IAGRAI-02": 1}
    assert watch_changes(context, now + timedelta(seconds=20)).reason == "unchanged"


def test_an_approval_reaches_only_the_stations_it_targets_at_the_next_tick(
    province: sessionmaker[Session], context: JobContext, clock: FakeClock
) -> None:
    now = clock()
    watch_changes(context, now)
    watch_changes(context, now + timedelta(seconds=20))
    later = now + timedelta(minutes=10)
    with transaction(province) as s:
        add_bulletin(s, "CHISO-01", "Kết quả chỉ số PAR INDEX năm 2023.", later, status="cho_duyet",
                     targets=("Chư Păh",))
    assert watch_changes(context, later).rebuilt == []  # submitted, not approved: nothing to plan
    with transaction(province) as s:
        row = s.scalars(select(Bulletin).where(Bulletin.code == "CHISO-01")).one()
        row.status, row.updated_at = "da_duyet", later + timedelta(seconds=5)
    rebuilt = watch_changes(context, later + timedelta(seconds=20))
    assert rebuilt.reason == "rebuilt" and [r.changed for r in rebuilt.rebuilt] == [["CHUPAH-01"]]
    assert programme_versions(province, "2026-W48") == {"CHUPAH-01": 2, "IAGRAI-01": 1, "IAGRAI-02": 1}
    with province() as s:
        items = s.scalars(select(Programme).join(Station).where(Station.code == "CHUPAH-01")).one().items
        assert "CHISO-01" in {i.bulletin_code for i in items}


def test_an_approved_bulletin_without_audio_is_rendered_and_planned_in_the_same_tick(
    province: sessionmaker[Session], context: JobContext, clock: FakeClock
) -> None:
    now = clock()
    watch_changes(context, now)
    with transaction(province) as s:
        add_bulletin(s, "TTHC-02", "Người dân có thể nộp hồ sơ trực tuyến tại Cổng dịch vụ công.", now,
                     audio=False, targets=("IAGRAI-01",))
    done = watch_changes(context, now + timedelta(seconds=20))
    assert done.rendered == ["TTHC-02"] and [r.changed for r in done.rebuilt] == [["IAGRAI-01"]]


def test_next_week_is_rebuilt_by_the_watcher_only_once_it_exists(
    province: sessionmaker[Session], context: JobContext, clock: FakeClock
) -> None:
    assert [str(r.week) for r in watch_changes(context, clock()).rebuilt] == ["2026-W48"]
    build_next_week(context, clock())
    with transaction(province) as s:
        add_bulletin(s, "CHISO-01", "Kết quả chỉ số PAR INDEX năm 2023.", clock(), targets=("IAGRAI-01",))
    assert [str(r.week) for r in watch_changes(context, clock()).rebuilt] == ["2026-W48", "2026-W49"]
    assert programme_versions(province, "2026-W49")["IAGRAI-01"] == 2


def test_the_watchers_bookkeeping_survives_in_the_heartbeat_row(
    province: sessionmaker[Session], context: JobContext, clock: FakeClock
) -> None:
    watch_changes(context, clock())
    watch_changes(context, clock())
    with province() as s:
        state = heartbeat.load_state(s, WATCH_KEY)
    assert set(state) == {"checked"}
    # A new leader (a fresh context, same database) sees nothing new to do.
    assert watch_changes(replace(context), clock() + timedelta(minutes=2)).reason == "unchanged"


# --- rendering ---------------------------------------------------------------------------------------


def test_render_job_turns_an_approved_bulletin_into_audio(
    province: sessionmaker[Session], context: JobContext, clock: FakeClock
) -> None:
    with transaction(province) as s:
        add_bulletin(s, "TTHC-01", "Người dân có thể nộp hồ sơ trực tuyến tại Cổng dịch vụ công.", clock(),
                     audio=False)
    summary = render_audio(context, clock())
    assert summary.rendered == ["TTHC-01"] and summary.failed == {}
    with province() as s:
        bulletin = s.scalars(select(Bulletin).where(Bulletin.code == "TTHC-01")).one()
        assert bulletin.audio is not None and bulletin.audio.duration_ms > 1000
        assert (context.settings.media_dir / bulletin.audio.file_name).is_file()
        assert s.scalar(select(func.count()).select_from(Bulletin).where(Bulletin.audio_asset_id.is_(None))) == 0


# --- delivery and reports (their own packages, called by the service) -------------------------------


def test_push_job_skips_when_no_broker_is_configured(province: sessionmaker[Session], context: JobContext) -> None:
    offline = replace(context, settings=replace(context.settings, mqtt_url=None))
    build_next_week(offline, offline.clock())
    result = push_programmes(offline, offline.clock())
    assert result is not None and result.skipped and result.published == 0


@pytest.mark.mqtt
def test_push_job_notifies_stations_of_new_programme_versions(
    province: sessionmaker[Session], context: JobContext
) -> None:
    online = replace(context, settings=replace(context.settings, mqtt_url="mqtt://127.0.0.1:1883"))
    now = online.clock()
    watch_changes(online, now)  # this week
    result = push_programmes(online, now)
    assert result.published == 3 and sorted(result.stations) == ["CHUPAH-01", "IAGRAI-01", "IAGRAI-02"]
    with province() as s:
        assert {(p.version, p.notified_version) for p in s.scalars(select(Programme))} == {(1, 1)}
    assert push_programmes(online, now + timedelta(minutes=1)).published == 0  # nothing new to push


def test_nightly_rollup_job_rolls_up_the_days_that_are_over(
    province: sessionmaker[Session], context: JobContext, clock: FakeClock
) -> None:
    watch_changes(context, clock())  # programmes from Monday 23 Nov on
    wednesday_night = datetime(2026, 11, 25, 18, 30, tzinfo=UTC)  # Thursday 01:30 in Hà Nội
    result = rollup_reports(context, wednesday_night)
    assert result is not None and result.days == [date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)]
    assert rollup_reports(context, wednesday_night).days == []  # already rolled up


def test_a_station_whose_stored_windows_no_longer_parse_does_not_hold_up_the_others(
    province: sessionmaker[Session], context: JobContext, clock: FakeClock
) -> None:
    with transaction(province) as s:  # written around the validators, e.g. by an old version
        s.scalars(select(Station).where(Station.code == "CHUPAH-01")).one().windows = "T9 05:30-06:00"
    done = watch_changes(context, clock())
    assert [sorted(r.changed) for r in done.rebuilt] == [["IAGRAI-01", "IAGRAI-02"]]
