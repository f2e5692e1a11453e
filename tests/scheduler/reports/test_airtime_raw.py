"""Airtime figures from the raw rows: what counts as planned, aired and missed."""

from __future__ import annotations

from datetime import date, timedelta

from airtime_fixture import FIRST_DAY, NOW, TZ, build_world, local, oracle
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.models import PlayLog
from scheduler.db.session import transaction
from scheduler.reports.figures import Fact, Figures
from scheduler.reports.periods import Period, day_bounds
from scheduler.reports.raw import raw_facts, raw_missed
from scheduler.reports.scope import Scope


def _by_key(facts: list[Fact]) -> dict[tuple[str, ...], tuple[int, ...]]:
    return {
        f.key: (f.figures.planned_items, f.figures.planned_ms, f.figures.aired_items, f.figures.aired_ms,
                f.figures.missed_items, f.figures.emergency_items)
        for f in facts
    }  # fmt: skip


def _total(facts: list[Fact]) -> Figures:
    total = Figures()
    for fact in facts:
        total.add(fact.figures)
    return total


def test_raw_figures_match_an_independent_python_count(sessions: sessionmaker[Session]) -> None:
    build_world(sessions)
    start, end = Period.custom(FIRST_DAY, date(2026, 11, 22)).utc_bounds(TZ)
    with sessions() as s:
        expected = oracle(s, start, end)
        assert _by_key(raw_facts(s, start, end)) == {k: v.as_tuple() for k, v in expected.by_key.items()}
        assert expected.total().planned_items > 100  # the fixture is not trivially empty
        missed = raw_missed(s, start, end)
        assert [(m.scheduled_start, m.station_code, m.title, m.reason or "") for m in missed] == [
            (when, code, title, reason) for when, code, title, reason in expected.missed
        ]


def test_partial_play_counts_only_its_played_ms(sessions: sessionmaker[Session]) -> None:
    build_world(sessions)
    with sessions() as s:
        partial = s.scalars(select(PlayLog).where(PlayLog.result == "partial").order_by(PlayLog.id)).first()
        assert partial is not None and partial.scheduled_start is not None
        start = partial.scheduled_start
        facts = raw_facts(s, start, start + timedelta(seconds=1), Scope("station", partial.station_code))
    assert _total(facts).aired_ms == partial.played_ms == partial.scheduled_ms // 3
    assert _total(facts).aired_items == 1 and _total(facts).missed_items == 0


def test_agent_log_and_manual_confirmation_of_one_item_count_once(sessions: sessionmaker[Session]) -> None:
    build_world(sessions)
    with sessions() as s:
        manual = s.scalars(select(PlayLog).where(PlayLog.source == "manual").order_by(PlayLog.id)).all()
        agent_ids = {
            (p.station_code, p.scheduled_start)
            for p in s.scalars(select(PlayLog).where(PlayLog.source == "agent"))
        }
        both = next(p for p in manual if (p.station_code, p.scheduled_start) in agent_ids)
        only_manual = next(p for p in manual if (p.station_code, p.scheduled_start) not in agent_ids
                           and p.kind == "bulletin")
        for play, source in ((both, "own"), (only_manual, "manual")):
            assert play.scheduled_start is not None
            facts = raw_facts(s, play.scheduled_start, play.scheduled_start + timedelta(seconds=1),
                              Scope("station", play.station_code))
            assert len(facts) == 1
            assert facts[0].get("source") == source
            assert (facts[0].figures.planned_items, facts[0].figures.aired_items) == (1, 1)
            assert facts[0].figures.aired_ms == play.scheduled_ms


def test_play_with_stale_item_id_matches_by_station_and_scheduled_start(sessions: sessionmaker[Session]) -> None:
    build_world(sessions)
    start = local(date(2026, 11, 19), 11, 0)
    with sessions() as s:
        facts = raw_facts(s, start, start + timedelta(minutes=1), Scope("station", "ISA-01"))
    assert [(f.get("kind"), f.figures.planned_items, f.figures.aired_items, f.figures.missed_items)
            for f in facts] == [("bulletin", 1, 1, 0)]


def test_jingles_are_neither_planned_nor_aired(sessions: sessionmaker[Session]) -> None:
    build_world(sessions)
    start, end = day_bounds(date(2026, 11, 18), TZ)
    with sessions() as s:
        facts = raw_facts(s, start, end)
    assert all(f.get("kind") != "jingle" for f in facts)
    # ISA-01 played a jingle on 18 Nov at 05:30 (logged); nothing at 05:30 is counted.
    at_530 = raw_facts(sessions(), local(date(2026, 11, 18), 5, 30), local(date(2026, 11, 18), 5, 31))
    assert at_530 == []


def test_unplanned_emergency_counts_as_aired_and_as_emergency(sessions: sessionmaker[Session]) -> None:
    build_world(sessions)
    start = local(date(2026, 11, 21), 14, 0)
    with sessions() as s:
        facts = raw_facts(s, start, start + timedelta(hours=1), Scope("station", "ILY-01"))
    assert len(facts) == 1
    fig = facts[0].figures
    assert (fig.planned_items, fig.aired_items, fig.aired_ms, fig.emergency_items) == (0, 1, 120000, 1)
    assert fig.ratio is None  # nothing planned: no ratio rather than a division by zero


def test_planned_emergency_aired_counts_once_as_emergency(sessions: sessionmaker[Session]) -> None:
    build_world(sessions)
    start = local(date(2026, 11, 20), 9, 0)
    with sessions() as s:
        facts = raw_facts(s, start, start + timedelta(minutes=1))
    assert [(f.get("station_code"), f.get("kind"), f.figures.planned_items, f.figures.emergency_items)
            for f in facts] == [("IGR-01", "emergency", 1, 1)]


def test_items_belong_to_the_local_day_of_their_start(sessions: sessionmaker[Session]) -> None:
    """23:50 on 21 Nov and 00:10 on 22 Nov are both 21 Nov in UTC; locally they are two days."""
    build_world(sessions)
    ily = Scope("station", "ILY-01")
    with sessions() as s:
        day21 = _total(raw_facts(s, *day_bounds(date(2026, 11, 21), TZ), ily))
        day22 = _total(raw_facts(s, *day_bounds(date(2026, 11, 22), TZ), ily))
        day20 = _total(raw_facts(s, *day_bounds(date(2026, 11, 20), TZ), ily))
    # an ordinary day: a relay and three bulletins; the 21st and 22nd each get one more
    assert (day20.planned_items, day21.planned_items, day22.planned_items) == (4, 5, 5)


def test_play_after_midnight_answers_the_plan_of_its_scheduled_day(sessions: sessionmaker[Session]) -> None:
    build_world(sessions)
    ily = Scope("station", "ILY-01")
    with sessions() as s:
        late = _total(raw_facts(s, local(date(2026, 11, 21), 23, 50), local(date(2026, 11, 21), 23, 51), ily))
        after_midnight = raw_facts(s, local(date(2026, 11, 22), 0, 0), local(date(2026, 11, 22), 0, 5), ily)
    assert (late.planned_items, late.aired_items, late.aired_ms) == (1, 1, 240000)
    assert after_midnight == []  # played at 00:01, but it belongs to 23:50 the day before


def test_missed_list_gives_the_reason_of_a_skipped_play(sessions: sessionmaker[Session]) -> None:
    build_world(sessions)
    start, end = Period.custom(FIRST_DAY, date(2026, 11, 22)).utc_bounds(TZ)
    with sessions() as s:
        skipped = s.scalars(select(PlayLog).where(PlayLog.result == "skipped").order_by(PlayLog.id)).first()
        assert skipped is not None
        missed = raw_missed(s, start, end)
    row = next(m for m in missed if m.station_code == skipped.station_code
               and m.scheduled_start == skipped.scheduled_start)
    assert (row.result, row.reason) == ("skipped", skipped.reason)
    assert any(m.result == "" and m.reason == "" for m in missed)  # planned, no log at all
    unplanned = next(m for m in missed if m.title == "Bản tin cũ")
    assert (unplanned.result, unplanned.reason) == ("failed", "không tìm thấy tệp")


def test_items_not_yet_started_are_not_missed(sessions: sessionmaker[Session]) -> None:
    build_world(sessions)
    day_start, _ = day_bounds(date(2026, 11, 23), TZ)
    with sessions() as s:
        before_now = raw_facts(s, day_start, NOW)
    # at 05:00 on 23 Nov nothing of the day has started yet (first relay 05:31)
    assert before_now == []


def test_a_miss_an_operator_reported_reads_as_reported_by_hand_raw_and_rolled_up(
        sessions: sessionmaker[Session]) -> None:
    from scheduler.db.models import AirtimeMissed, ProgrammeItem
    from scheduler.reports import rollup_day
    from scheduler.reports.exports.table import missed_cells
    from scheduler.reports.figures import MANUAL_MISS

    build_world(sessions)
    day = date(2026, 11, 22)
    start, end = day_bounds(day, TZ)
    with sessions.begin() as s:
        agent_skip = s.scalars(select(PlayLog).where(PlayLog.result == "skipped", PlayLog.scheduled_start >= start,
                                                     PlayLog.scheduled_start < end).order_by(PlayLog.id)).first()
        assert agent_skip is not None and agent_skip.scheduled_start is not None
        skipped_at = (agent_skip.station_code, agent_skip.scheduled_start)
        answered = {p.programme_item_id for p in s.scalars(select(PlayLog)) if p.programme_item_id is not None}
        silent = s.scalars(select(ProgrammeItem).where(ProgrammeItem.start >= start, ProgrammeItem.end < end,
                                                       ProgrammeItem.id.not_in(answered))
                           .order_by(ProgrammeItem.id)).first()
        assert silent is not None
        for n, (station_id, code, item_id, when, why) in enumerate((
            (agent_skip.station_id, agent_skip.station_code, agent_skip.programme_item_id, agent_skip.scheduled_start,
             "Mất điện: cả thôn mất điện"),
            (silent.programme.station_id, silent.programme.station.code, silent.id, silent.start, "Hỏng thiết bị"),
        )):
            s.add(PlayLog(play_id=f"tay-{n}", station_id=station_id, station_code=code, programme_item_id=item_id,
                          scheduled_start=when, actual_start=when, kind="bulletin", result="skipped", source="manual",
                          reason=why, played_ms=0, received_at=NOW))
    whole, _ = Period.custom(FIRST_DAY, day).utc_bounds(TZ)
    with sessions() as s:
        raw = {(m.station_code, m.scheduled_start): m for m in raw_missed(s, whole, end)}
    reported = raw[skipped_at]
    assert (reported.result, reported.reason) == (MANUAL_MISS, "Mất điện: cả thôn mất điện")  # the operator wins
    assert (raw[(silent.programme.station.code, silent.start)].result,
            raw[(silent.programme.station.code, silent.start)].reason) == (MANUAL_MISS, "Hỏng thiết bị")
    assert any(m.result == "skipped" for m in raw.values())  # the agent's own skips still read «Bỏ qua»
    cells = missed_cells([reported], TZ)[0]
    assert cells[-2:] == ["Báo tay", "Mất điện: cả thôn mất điện"]
    with transaction(sessions) as s:
        rollup_day(s, day, TZ, NOW)
    with sessions() as s:
        rolled = {(m.station_code, m.scheduled_start): (m.result, m.reason) for m in s.scalars(select(AirtimeMissed))}
    assert rolled[skipped_at] == (MANUAL_MISS, "Mất điện: cả thôn mất điện")
