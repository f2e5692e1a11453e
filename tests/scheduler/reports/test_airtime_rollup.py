"""Roll-ups: idempotent, closed days only, late logs re-roll, deleted stations keep their snapshot."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from airtime_fixture import FIRST_DAY, NOW, TZ, build_world, local, oracle
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.models import (
    AirtimeDaily,
    AirtimeMissed,
    AirtimeRollupDay,
    AirtimeSummary,
    Bulletin,
    PlayLog,
    Programme,
    ProgrammeItem,
    Station,
)
from scheduler.db.session import transaction
from scheduler.reports import Period, ReportRequest, build_report, rollup_day, rollup_pending
from scheduler.reports.figures import MEASURES
from scheduler.reports.periods import day_bounds

WEEK = Period.custom(FIRST_DAY, date(2026, 11, 22))


def _daily_rows(s: Session, day: date) -> list[tuple[object, ...]]:
    cols = [getattr(AirtimeDaily, c) for c in ("station_code", "topic", "source", "kind", *MEASURES)]
    return sorted(tuple(r) for r in s.execute(select(*cols).where(AirtimeDaily.day == day)))


def test_rollup_day_is_idempotent(sessions: sessionmaker[Session], clock: object) -> None:
    build_world(sessions)
    day = date(2026, 11, 19)
    with transaction(sessions) as s:
        rollup_day(s, day, TZ, NOW)
    with sessions() as s:
        first = _daily_rows(s, day)
        missed_first = s.scalar(select(func.count()).select_from(AirtimeMissed))
    with transaction(sessions) as s:
        rollup_day(s, day, TZ, NOW)
    with sessions() as s:
        assert _daily_rows(s, day) == first
        assert s.scalar(select(func.count()).select_from(AirtimeMissed)) == missed_first
        assert len(first) > 5


def test_daily_rollup_holds_the_same_figures_as_the_raw_rows(sessions: sessionmaker[Session]) -> None:
    build_world(sessions)
    day = date(2026, 11, 20)
    with transaction(sessions) as s:
        rollup_day(s, day, TZ, NOW)
    with sessions() as s:
        expected = oracle(s, *day_bounds(day, TZ))
        stored = {
            (r.station_code, r.commune, r.area, r.topic, r.language, r.priority, r.source, r.kind):
                tuple(getattr(r, m) for m in MEASURES)
            for r in s.scalars(select(AirtimeDaily).where(AirtimeDaily.day == day))
        }  # fmt: skip
        assert stored == {k: v.as_tuple() for k, v in expected.by_key.items()}
        missed = s.scalar(select(func.count()).select_from(AirtimeMissed).where(AirtimeMissed.day == day))
        assert missed == len(expected.missed)


def test_rollup_pending_rolls_every_closed_day_but_not_today(sessions: sessionmaker[Session]) -> None:
    build_world(sessions)
    with transaction(sessions) as s:
        result = rollup_pending(s, NOW, TZ)
    assert result.days == [FIRST_DAY + timedelta(days=i) for i in range(7)]  # 16..22 Nov; 23 Nov is today
    assert result.months == [date(2026, 11, 1)]
    with transaction(sessions) as s:
        again = rollup_pending(s, NOW, TZ)
    assert again.days == []


def test_late_play_log_re_rolls_its_day_only(sessions: sessionmaker[Session]) -> None:
    build_world(sessions)
    with transaction(sessions) as s:
        rollup_pending(s, NOW, TZ)
        missing = s.scalars(
            select(ProgrammeItem).where(
                ProgrammeItem.kind == "bulletin",
                ProgrammeItem.start >= local(date(2026, 11, 18), 0),
                ProgrammeItem.start < local(date(2026, 11, 19), 0),
                ProgrammeItem.id.not_in(select(PlayLog.programme_item_id).where(PlayLog.programme_item_id.is_not(None))),
            )
        ).first()
        assert missing is not None
        station = s.get(Station, missing.programme.station_id)
        assert station is not None
        before = build_report(s, ReportRequest(WEEK), NOW, TZ).totals
        # The station was offline; its log for 18 Nov arrives two days later.
        s.add(PlayLog(play_id="late-1", station_id=station.id, station_code=station.code,
                      commune=station.commune.name, area="", programme_item_id=missing.id, kind="bulletin",
                      scheduled_start=missing.start, scheduled_ms=missing.duration_ms, actual_start=missing.start,
                      played_ms=missing.duration_ms, result="played", received_at=NOW, title=missing.title))
        s.flush()
        result = rollup_pending(s, NOW + timedelta(hours=1), TZ)
        assert result.days == [date(2026, 11, 18)]
        after = build_report(s, ReportRequest(WEEK), NOW + timedelta(hours=1), TZ).totals
    assert after.aired_items == before.aired_items + 1
    assert after.missed_items == before.missed_items - 1
    assert after.aired_ms == before.aired_ms + missing.duration_ms


def test_summaries_add_up_to_the_daily_rollup(sessions: sessionmaker[Session]) -> None:
    build_world(sessions)
    with transaction(sessions) as s:
        rollup_pending(s, NOW, TZ)
    with sessions() as s:
        for measure in MEASURES:
            daily = int(s.scalar(select(func.sum(getattr(AirtimeDaily, measure)))) or 0)
            for grain in ("day", "month"):
                for dimension in ("station", "topic", "language", "priority", "source", "kind"):
                    summed = s.scalar(select(func.sum(getattr(AirtimeSummary, measure))).where(
                        AirtimeSummary.grain == grain, AirtimeSummary.dimension == dimension))
                    assert int(summed or 0) == daily, (measure, grain, dimension)
        stations = s.scalar(select(func.count()).select_from(AirtimeSummary).where(
            AirtimeSummary.grain == "month", AirtimeSummary.dimension == "station"))
        assert stations == 5  # one row per station for the month


def test_report_stays_as_it_was_after_edits_and_a_station_deletion(sessions: sessionmaker[Session]) -> None:
    build_world(sessions)
    with transaction(sessions) as s:
        s.add(Bulletin(code="BT-tthc", title="Tuyên truyền cải cách thủ tục hành chính năm 2026", topic="tthc",
                       valid_from=date(2026, 11, 1), valid_to=date(2026, 12, 1), created_at=NOW, updated_at=NOW))
        rollup_pending(s, NOW, TZ)
        before = build_report(s, ReportRequest(WEEK), NOW, TZ)
    later = NOW + timedelta(days=3)
    with transaction(sessions) as s:
        # The bulletin is retitled, moved to another topic, then deleted; a station is removed for good.
        bulletin = s.scalar(select(Bulletin).where(Bulletin.code == "BT-tthc"))
        assert bulletin is not None
        bulletin.title, bulletin.topic = "Đã đổi tên", "the_che"
        s.flush()
        s.delete(bulletin)
        gone = s.scalar(select(Station).where(Station.code == "ISA-01"))
        assert gone is not None
        s.execute(delete(ProgrammeItem).where(ProgrammeItem.programme_id.in_(
            select(Programme.id).where(Programme.station_id == gone.id))))
        s.execute(delete(Programme).where(Programme.station_id == gone.id))
        s.delete(gone)
        s.flush()
        # A late, unscheduled log from another station makes the 19th re-roll after the deletion.
        igr = s.scalar(select(Station).where(Station.code == "IGR-02"))
        assert igr is not None
        s.add(PlayLog(play_id="late-2", station_code="IGR-02", station_id=igr.id, commune="Xã Ia Grai",
                      area="Khu vực Ia Grai", kind="bulletin", actual_start=local(date(2026, 11, 19), 12, 0),
                      played_ms=60000, result="played", received_at=later, title="Phát bổ sung", topic="tthc"))
        s.flush()
        # (23–25 Nov have closed meanwhile and are rolled for the first time)
        assert rollup_pending(s, later, TZ).days == [date(2026, 11, d) for d in (19, 23, 24, 25)]
        after = build_report(s, ReportRequest(WEEK), later, TZ)
    isa_before = next(r for r in before.rows if r.key == "ISA-01")
    isa_after = next(r for r in after.rows if r.key == "ISA-01")
    assert isa_after.figures == isa_before.figures  # frozen at its last snapshot
    assert isa_after.station is None and "đã xóa" in isa_after.label
    assert after.totals.planned_items == before.totals.planned_items
    assert after.totals.aired_items == before.totals.aired_items + 1  # only the late play is new
    topics_before = {r.key: r.figures for r in before.breakdowns["topic"]}
    topics_after = {r.key: r.figures for r in after.breakdowns["topic"]}
    assert topics_after.keys() == topics_before.keys()  # no "the_che" appeared
    assert topics_after["tthc"].aired_items == topics_before["tthc"].aired_items + 1


def test_rollup_records_the_watermark_and_time(sessions: sessionmaker[Session]) -> None:
    build_world(sessions)
    with transaction(sessions) as s:
        rollup_day(s, date(2026, 11, 17), TZ, NOW)
    with sessions() as s:
        record = s.get(AirtimeRollupDay, date(2026, 11, 17))
        assert record is not None
        assert record.computed_at == NOW.astimezone(UTC)
        assert record.play_log_watermark == s.scalar(select(func.max(PlayLog.id)))
        assert isinstance(record.computed_at, datetime)
