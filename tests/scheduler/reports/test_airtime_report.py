"""The airtime report: every grouping equals an independent count, from roll-ups or raw rows alike."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from airtime_fixture import FIRST_DAY, NOW, STATIONS, TZ, Expected, build_world, oracle
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.session import transaction
from scheduler.reports import Period, ReportRequest, Scope, build_report, rollup_days, rollup_pending
from scheduler.reports.airtime import AirtimeReport
from scheduler.reports.figures import Figures
from scheduler.reports.periods import named_period

WEEK = Period.custom(FIRST_DAY, date(2026, 11, 22))
# key of a grouping in the oracle's (station, commune, area, topic, language, priority, source, kind)
ORACLE_KEYS = {
    "station": lambda k: (k[0],),
    "commune": lambda k: (k[1],),
    "area": lambda k: (k[2],),
    "topic": lambda k: (k[3],),
    "language": lambda k: (k[4],),
    "priority": lambda k: (k[5],),
    "source": lambda k: (k[6],),
}


def _fig(f: Figures | Expected) -> tuple[int, ...]:
    return (f.planned_items, f.planned_ms, f.aired_items, f.aired_ms, f.missed_items, f.emergency_items)


def _assert_matches_oracle(report: AirtimeReport, s: Session, stations: list[str] | None = None) -> None:
    start, end = report.request.period.utc_bounds(TZ)
    expected = oracle(s, start, end, stations, now=report.generated_at)
    assert _fig(report.totals) == _fig(expected.total())
    for grouping, key_of in ORACLE_KEYS.items():
        got = {(r.key,): _fig(r.figures) for r in report.breakdowns[grouping]}
        assert got == {k: _fig(v) for k, v in expected.group(key_of).items()}, grouping


@pytest.mark.parametrize("rolled", [False, True], ids=["raw", "rollups"])
def test_every_grouping_matches_an_independent_count(sessions: sessionmaker[Session], rolled: bool) -> None:
    build_world(sessions)
    if rolled:
        with transaction(sessions) as s:
            rollup_pending(s, NOW, TZ)
    with sessions() as s:
        report = build_report(s, ReportRequest(Period.custom(FIRST_DAY, date(2026, 11, 30))), NOW, TZ)
        assert (report.rollup_days, report.raw_days) == ((7, 2) if rolled else (0, 9))  # 23 and 24 Nov: raw
        _assert_matches_oracle(report, s)


def test_report_from_rollups_equals_report_from_raw_rows(sessions: sessionmaker[Session]) -> None:
    build_world(sessions)
    with sessions() as s:
        raw = build_report(s, ReportRequest(WEEK), NOW, TZ)
    with transaction(sessions) as s:
        rollup_pending(s, NOW, TZ)
    with sessions() as s:
        rolled = build_report(s, ReportRequest(WEEK), NOW, TZ)
    assert rolled.rollup_days == 7 and raw.rollup_days == 0
    for grouping in raw.breakdowns:
        assert [(r.key, r.label, r.figures) for r in rolled.breakdowns[grouping]] == [
            (r.key, r.label, r.figures) for r in raw.breakdowns[grouping]
        ], grouping
    assert rolled.trend == raw.trend
    assert rolled.missed == raw.missed


def test_station_rows_carry_speakers_place_and_coordinates(sessions: sessionmaker[Session]) -> None:
    build_world(sessions)
    with sessions() as s:
        report = build_report(s, ReportRequest(WEEK), NOW, TZ)
    rows = {r.key: r for r in report.rows}
    assert set(rows) == {code for code, *_ in STATIONS}
    for code, name, commune, area, speakers, lat, lon in STATIONS:
        row = rows[code]
        assert row.station is not None
        assert (row.station.name, row.commune, row.area, row.station.speakers) == (name, commune, area, speakers)
        assert (row.station.lat, row.station.lon) == (lat, lon)


def test_commune_rows_count_their_stations_and_speakers(sessions: sessionmaker[Session]) -> None:
    build_world(sessions)
    with sessions() as s:
        report = build_report(s, ReportRequest(WEEK, by="commune"), NOW, TZ)
    grai = next(r for r in report.rows if r.key == "Xã Ia Grai")
    assert (grai.stations, grai.speakers, grai.area) == (2, 9, "Khu vực Ia Grai")


@pytest.mark.parametrize(
    ("scope", "stations"),
    [
        (Scope("commune", "Xã Ia Grai"), ["IGR-01", "IGR-02"]),
        (Scope("area", "Khu vực Ia Grai"), ["IGR-01", "IGR-02", "ISA-01"]),
        (Scope("station", "ILY-01"), ["ILY-01"]),
    ],
)
def test_scope_limits_the_report_to_one_place(sessions: sessionmaker[Session], scope: Scope,
                                              stations: list[str]) -> None:
    build_world(sessions)
    with sessions() as s:
        report = build_report(s, ReportRequest(WEEK, scope=scope), NOW, TZ)
        assert sorted(r.key for r in report.rows) == stations
        _assert_matches_oracle(report, s, stations)
        assert {m.station_code for m in report.missed} <= set(stations)


def test_a_current_period_counts_everything_planned_but_misses_only_what_is_over(
    sessions: sessionmaker[Session],
) -> None:
    build_world(sessions)
    month = named_period("thang", 2026, 11)
    with sessions() as s:
        report = build_report(s, ReportRequest(month), NOW, TZ)
        week = build_report(s, ReportRequest(WEEK), NOW, TZ)
        start, end = month.utc_bounds(TZ)
        every_item = oracle(s, start, end)  # as if it were all over
        _assert_matches_oracle(report, s)
    assert report.as_of == NOW
    # 23–24 Nov are planned (5 stations, 4–5 items a day each, relays included) but none of it is over.
    assert report.totals.planned_items == every_item.total().planned_items > week.totals.planned_items
    assert report.totals.aired_items == week.totals.aired_items
    assert report.totals.missed_items == week.totals.missed_items < every_item.total().missed_items


def test_a_future_period_counts_its_planned_items_and_nothing_missed(sessions: sessionmaker[Session]) -> None:
    build_world(sessions)
    with sessions() as s:
        report = build_report(s, ReportRequest(Period.custom(date(2026, 11, 24), date(2026, 11, 24))), NOW, TZ)
    assert report.totals.planned_items == 5 * 4 + 1  # a relay and three bulletins a station; IGR-01 has a fourth
    assert (report.totals.aired_items, report.totals.missed_items) == (0, 0) and report.missed == []


def test_daily_trend_for_short_periods(sessions: sessionmaker[Session]) -> None:
    build_world(sessions)
    with sessions() as s:
        report = build_report(s, ReportRequest(WEEK), NOW, TZ)
        expected = [oracle(s, *Period.custom(d, d).utc_bounds(TZ)).total() for d in WEEK.each_day()]
    assert report.trend_unit == "day"
    assert [p.start for p in report.trend] == WEEK.each_day()
    assert [p.label for p in report.trend][:2] == ["16/11", "17/11"]
    assert [_fig(p.figures) for p in report.trend] == [_fig(e) for e in expected]


@pytest.mark.parametrize(
    ("period", "unit", "trend"),
    [
        (named_period("quy", 2026, 4), "month", ["10/2026", "11/2026", "12/2026"]),  # every month, aired or not
        (named_period("thang", 2026, 11), "day", None),
    ],
    ids=["quarter", "month"],
)
def test_whole_months_read_the_monthly_summary(sessions: sessionmaker[Session], period: Period, unit: str,
                                               trend: list[str] | None) -> None:
    build_world(sessions)
    later = NOW + timedelta(days=10)  # 3 Dec: November is closed
    with transaction(sessions) as s:
        rollup_days(s, named_period("thang", 2026, 11).each_day(), TZ, later)
    with sessions() as s:
        report = build_report(s, ReportRequest(period), later, TZ)
        assert (report.rollup_months, report.trend_unit) == (1, unit)
        if trend is not None:
            assert [p.label for p in report.trend] == trend
        else:
            # Every day of November is a point; only 16–24 Nov had a programme, the rest are zero.
            assert [p.start.day for p in report.trend] == list(range(1, 31))
            busy = [p.start.day for p in report.trend if p.figures.planned_ms or p.figures.aired_ms]
            assert busy and set(busy) <= set(range(16, 25))
        _assert_matches_oracle(report, s)


def test_missed_list_is_capped_but_the_count_is_not(sessions: sessionmaker[Session]) -> None:
    build_world(sessions)
    with sessions() as s:
        full = build_report(s, ReportRequest(WEEK), NOW, TZ)
        capped = build_report(s, ReportRequest(WEEK, missed_limit=5), NOW, TZ)
    assert len(full.missed) == full.totals.missed_items and full.missed_shown_all
    assert capped.missed == full.missed[:5] and not capped.missed_shown_all
    assert capped.totals == full.totals


def test_unknown_grouping_is_refused_in_vietnamese() -> None:
    with pytest.raises(ValueError, match="Không nhóm báo cáo theo «tuan»"):
        ReportRequest(WEEK, by="tuan")


def test_scope_without_a_name_is_refused() -> None:
    with pytest.raises(ValueError, match="cần tên"):
        Scope("commune", " ")


def test_issuing_unit_comes_from_the_province(sessions: sessionmaker[Session]) -> None:
    build_world(sessions)
    with sessions() as s:
        report = build_report(s, ReportRequest(WEEK), NOW, TZ)
        named = build_report(s, ReportRequest(WEEK, issuing_unit="TRUNG TÂM VĂN HÓA TỈNH"), NOW, TZ)
    assert report.issuing_unit == "UBND TỈNH GIA LAI"
    assert named.issuing_unit == "TRUNG TÂM VĂN HÓA TỈNH"
