"""Airtime report speed on PostgreSQL: roll-ups against the raw SQL aggregate over the same rows.

Generates a year of programmes and play logs for N stations straight in PostgreSQL
(generate_series), rolls every day up (the nightly job's backfill), then times side by side:
  report   build_report for a province-wide six-month period (roll-ups; what users wait for),
  raw      the same figures straight from programme_item + play_log (one SQL aggregate with
           plan/play matching: scheduler.reports.raw.raw_facts over the six months),
  naive    the cheapest possible raw aggregate: plays per station, no matching (a lower bound),
and checks that report and raw agree to the millisecond.

    python benchmarks/bench_reports.py [--quick | --stations N --days D] [--repeat R] [--keep | --reuse URL]

Default: 1,000 stations × 365 days (about 3 M items and plays; ten minutes or so here).

Needs the PostgreSQL server of the test suite (LOAXA_TEST_PG_URL, default postgres@127.0.0.1/test);
works in a throw-away database. Figures go to docs/benchmarks.md ("Reports").
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from scheduler.db.models import AirtimeDaily, AirtimeSummary, PlayLog, ProgrammeItem  # noqa: E402
from scheduler.db.session import make_engine, make_session_factory, upgrade_schema  # noqa: E402
from scheduler.reports import (  # noqa: E402
    Period,
    ReportRequest,
    Scope,
    build_report,
    named_period,
    rollup_day,
    rollup_pending,
)
from scheduler.reports.figures import Fact, Figures  # noqa: E402
from scheduler.reports.raw import raw_facts  # noqa: E402

PG_ADMIN_URL = os.environ.get("LOAXA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
YEAR = 2025
TOPICS = ("the_che", "tthc", "bo_may", "cong_vu", "tai_chinh_cong", "chinh_phu_so", "mot_cua", "dvc_truc_tuyen",
          "chi_so", "duong_day_nong", "mo_hinh_hay", "ket_qua", "thong_tin_khac")
# (slot, local minute of day, kind, duration ms): two sessions a day, each a relay then three bulletins.
SLOTS = ((0, 330, "relay", 900_000), (1, 346, "bulletin", 240_000), (2, 351, "bulletin", 180_000),
         (3, 355, "bulletin", 300_000), (4, 1020, "relay", 900_000), (5, 1036, "bulletin", 240_000),
         (6, 1041, "bulletin", 180_000), (7, 1045, "bulletin", 300_000))  # fmt: skip


def generate(engine: Engine, stations: int, days: int) -> None:
    """Province, areas, communes, stations, weekly programmes, items and play logs, in SQL."""
    communes = max(1, stations // 10)
    areas = max(1, communes // 30)
    first = date(YEAR, 1, 1)
    last = first + timedelta(days=days - 1)
    slots = ", ".join(f"({n}, {m}, '{k}', {d})" for n, m, k, d in SLOTS)
    topics = "ARRAY[" + ", ".join(f"'{t}'" for t in TOPICS) + "]"
    steps = [
        ("tỉnh, khu vực, xã, đài", f"""
            INSERT INTO province (id, name, reading_variant, timezone, default_windows, policy)
                VALUES (1, 'Gia Lai', 'north', 'Asia/Ho_Chi_Minh', '', '{{}}');
            INSERT INTO area (id, province_id, name)
                SELECT g, 1, 'Khu vực ' || g FROM generate_series(1, {areas}) g;
            INSERT INTO commune (id, province_id, area_id, name, default_windows, policy)
                SELECT g, 1, 1 + g % {areas}, 'Xã ' || g, '', '{{}}' FROM generate_series(1, {communes}) g;
            INSERT INTO station (id, code, name, commune_id, languages, windows, lat, lon, speakers, active, status)
                SELECT g, 'ST-' || lpad(g::text, 5, '0'), 'Cụm loa ' || g, 1 + g % {communes}, 'vi', '',
                       13 + (g % 100) / 100.0, 108 + (g % 77) / 100.0, 1 + g % 8, true, '{{}}'
                FROM generate_series(1, {stations}) g;
            SELECT setval('station_id_seq', {stations});
        """),
        ("lịch tuần", f"""
            INSERT INTO programme (station_id, week, version, built_at, content_hash, notified_version, acked_version)
                SELECT s.id, w.week, 1, now(), '', 1, 1 FROM station s
                CROSS JOIN (SELECT DISTINCT to_char(d, 'IYYY-"W"IW') AS week
                            FROM generate_series('{first}'::date, '{last}'::date, interval '1 day') d) w;
        """),
        ("mục lịch phát", f"""
            INSERT INTO programme_item (programme_id, start, "end", kind, bulletin_code, title, topic, language,
                                        priority, duration_ms, locked)
            SELECT p.id, t.at, t.at + slot.ms * interval '1 millisecond', slot.kind,
                   CASE WHEN slot.kind = 'bulletin' THEN 'BT-' || (h % 40) END,
                   CASE WHEN slot.kind = 'relay' THEN 'Tiếp sóng VOV' ELSE 'Bản tin ' || (h % 40) END,
                   CASE WHEN slot.kind = 'relay' THEN '' ELSE ({topics})[1 + h % {len(TOPICS)}] END,
                   CASE WHEN slot.n = 7 AND s.id % 5 = 0 THEN 'jra' ELSE 'vi' END,
                   CASE WHEN h % 10 = 0 THEN 'uu_tien' ELSE 'thuong' END, slot.ms, false
            FROM station s
            CROSS JOIN generate_series('{first}'::date, '{last}'::date, interval '1 day') d
            CROSS JOIN (VALUES {slots}) AS slot(n, minute, kind, ms)
            CROSS JOIN LATERAL (
                SELECT (d::date + slot.minute * interval '1 minute') AT TIME ZONE 'Asia/Ho_Chi_Minh' AS at,
                       abs(hashtext(s.id || '/' || d::date || '/' || slot.n)) AS h) t
            JOIN programme p ON p.station_id = s.id AND p.week = to_char(d, 'IYYY-"W"IW');
        """),
        ("nhật ký phát", """
            INSERT INTO play_log (play_id, station_id, station_code, commune, area, programme_item_id, week,
                                  programme_version, kind, bulletin_code, title, topic, language, priority,
                                  scheduled_start, scheduled_ms, actual_start, played_ms, result, reason, source,
                                  received_at)
            SELECT 'p' || i.id, s.id, s.code, c.name, a.name, i.id, p.week, 1, i.kind, i.bulletin_code, i.title,
                   i.topic, i.language, i.priority, i.start, i.duration_ms, i.start + interval '2 seconds',
                   CASE WHEN r < 85 THEN i.duration_ms WHEN r < 90 THEN i.duration_ms / 2 ELSE 0 END,
                   CASE WHEN r < 85 THEN 'played' WHEN r < 90 THEN 'partial' ELSE 'skipped' END,
                   CASE WHEN r < 85 THEN '' WHEN r < 90 THEN 'mất điện giữa chừng' ELSE 'mất kết nối 4G' END,
                   CASE WHEN r % 37 = 0 THEN 'manual' ELSE 'agent' END, i.start + interval '1 hour'
            FROM (SELECT pi.*, abs(hashtext('r' || pi.id)) % 100 AS r FROM programme_item pi) i
            JOIN programme p ON p.id = i.programme_id
            JOIN station s ON s.id = p.station_id
            JOIN commune c ON c.id = s.commune_id
            JOIN area a ON a.id = c.area_id
            WHERE i.r < 95;
        """),
        ("phát khẩn cấp ngoài lịch", f"""
            INSERT INTO play_log (play_id, station_id, station_code, commune, area, week, programme_version, kind,
                                  title, topic, language, priority, scheduled_ms, actual_start, played_ms, result,
                                  reason, source, received_at)
            SELECT 'e' || s.id || '-' || g, s.id, s.code, c.name, a.name, '', 0, 'emergency', 'Cảnh báo bão',
                   'khan_cap', 'vi', 'khan_cap', 120000,
                   ('{first}'::date + (s.id * 7 + g * 31) % {days} + interval '14 hours')
                       AT TIME ZONE 'Asia/Ho_Chi_Minh',
                   120000, 'played', '', 'agent', now()
            FROM station s JOIN commune c ON c.id = s.commune_id JOIN area a ON a.id = c.area_id
            CROSS JOIN generate_series(1, 3) g WHERE s.id % 4 = 0;
        """),
        ("ANALYZE", "ANALYZE"),
    ]
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL synchronous_commit = off"))
        for label, sql in steps:
            started = time.perf_counter()
            for statement in (s for s in sql.split(";\n") if s.strip()):
                conn.execute(text(statement))
            print(f"  {label}: {time.perf_counter() - started:.1f} s", flush=True)


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def total_of(facts: list[Fact]) -> Figures:
    total = Figures()
    for fact in facts:
        total.add(fact.figures)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--quick", action="store_true", help="200 stations, 190 days")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--reuse", metavar="URL", help="a database kept by --keep: skip generating rows")
    parser.add_argument("--rebuild", action="store_true", help="with --reuse: roll every day up again")
    args = parser.parse_args()
    if args.quick:
        args.stations, args.days = 200, 190
    if args.reuse:
        engine = make_engine(args.reuse)
        try:
            run(engine, args, generated=True)
        finally:
            engine.dispose()
        return
    name = f"loaxa_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    try:
        run(engine, args)
    finally:
        engine.dispose()
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            print(f"database kept: {url}")
        admin.dispose()


def run(engine: Engine, args: argparse.Namespace, generated: bool = False) -> None:
    upgrade_schema(engine)
    sessions = make_session_factory(engine)
    if generated:
        with engine.begin() as conn:
            if args.rebuild:
                for table in ("airtime_daily", "airtime_summary", "airtime_missed", "airtime_rollup_day"):
                    conn.execute(text(f"TRUNCATE {table}"))
            args.stations = conn.execute(text("SELECT count(*) FROM station")).scalar_one()
            first, last = conn.execute(text("SELECT min(start), max(start) FROM programme_item")).one()
            args.days = (last - first).days + 1
        gen_s = 0.0
    else:
        print(f"generating {args.stations} stations × {args.days} days …", flush=True)
        gen_s, _ = timed(lambda: generate(engine, args.stations, args.days))
    with sessions() as s:
        items = s.scalar(select(func.count()).select_from(ProgrammeItem))
        plays = s.scalar(select(func.count()).select_from(PlayLog))
    print(f"  {items:,} programme items, {plays:,} play logs in {gen_s:.0f} s")

    now = datetime.combine(date(YEAR, 1, 1) + timedelta(days=args.days), datetime.min.time(),
                           tzinfo=TZ).astimezone(UTC) + timedelta(hours=1)
    with sessions.begin() as s:
        backfill_s, result = timed(lambda: rollup_pending(s, now, TZ))
    days_rolled = len(result.days)  # type: ignore[attr-defined]
    with sessions.begin() as s:
        nightly_s, _ = timed(lambda: rollup_day(s, date(YEAR, 3, 10), TZ, now))
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    with sessions() as s:
        daily_rows = s.scalar(select(func.count()).select_from(AirtimeDaily))
        summary_rows = s.scalar(select(func.count()).select_from(AirtimeSummary))
    per_day = f" ({backfill_s / days_rolled * 1000:.0f} ms/day)" if days_rolled else " (all rolled up already)"
    print(f"roll-up backfill: {days_rolled} days in {backfill_s:.1f} s{per_day}; "
          f"one night (rollup_day incl. month refresh): {nightly_s:.2f} s")
    print(f"  airtime_daily {daily_rows:,} rows, airtime_summary {summary_rows:,} rows")

    half = named_period("6thang", YEAR, 1) if args.days >= 181 else named_period("thang", YEAR, 1)
    march = named_period("thang", YEAR, 3)
    start, end = half.utc_bounds(TZ)
    province, commune_scope = Scope(), Scope("commune", "Xã 1")

    def report(scope: Scope = province, period: Period = half) -> Figures:
        with sessions() as s:
            return build_report(s, ReportRequest(period, scope=scope), now, TZ).totals

    def raw() -> Figures:
        with sessions() as s:
            return total_of(raw_facts(s, start, end))

    def naive() -> int:
        with sessions() as s:
            rows = s.execute(
                select(PlayLog.station_code, func.count(), func.sum(PlayLog.played_ms))
                .where(PlayLog.actual_start >= start, PlayLog.actual_start < end)
                .group_by(PlayLog.station_code)
            ).all()
            return len(rows)

    cases: dict[str, Callable[[], object]] = {
        "report (roll-ups)": report,
        "report, one commune": lambda: report(commune_scope),
        "report, March (daily trend)": lambda: report(period=march),
        "raw SQL aggregate (matching)": raw,
        "naive raw aggregate": naive,
    }
    times: dict[str, list[float]] = {k: [] for k in cases}
    values: dict[str, object] = {}
    for round_no in range(args.repeat):
        order = list(cases) if round_no % 2 == 0 else list(reversed(cases))
        for label in order:
            seconds, value = timed(cases[label])
            times[label].append(seconds)
            values[label] = value
    assert values["report (roll-ups)"] == values["raw SQL aggregate (matching)"], "roll-ups disagree with raw rows"
    base = statistics.median(times["report (roll-ups)"])
    print(f"\n{half.label}, province-wide ({args.stations} stations), median of {args.repeat} rounds, interleaved:")
    print(f"{'case':<32}{'median s':>10}{'best s':>9}{'× report':>10}")
    for label, samples in times.items():
        med = statistics.median(samples)
        print(f"{label:<32}{med:>10.3f}{min(samples):>9.3f}{med / base:>10.1f}")
    totals = values["report (roll-ups)"]
    print(f"\nfigures agree: {totals}")


if __name__ == "__main__":
    main()
