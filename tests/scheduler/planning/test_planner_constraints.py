"""Hard constraints of plan_week, one behaviour per test."""

from __future__ import annotations

from datetime import UTC, date, timedelta

from scheduler.domain import Policy, Priority
from scheduler.planning import plan_week
from scheduler.planning.verify import find_violations
from tests.scheduler.planning.builders import (
    QUIET_FREE,
    at,
    bulletin,
    bulletins_of,
    day,
    local,
    plays,
    request,
    station,
)

URL = "https://vov.vn/live/vov1"


def test_every_item_lies_inside_a_window_and_no_two_items_overlap() -> None:
    req = request(
        [station(spec="T2-CN 05:30-05:45; T2-T6 17:00-17:20")],
        [bulletin(f"B{i}", plays=2 + i % 5, seconds=40 + 25 * i) for i in range(10)],
    )
    plan = plan_week(req)
    items = plan.items["S1"]
    assert len(bulletins_of(plan, "S1")) > 20
    for prev, item in zip(items, items[1:], strict=False):
        assert prev.end <= item.start
    for item in items:
        start, end = local(item.start), local(item.end)
        weekday = start.weekday()
        morning = start.strftime("%H:%M") >= "05:30" and end.strftime("%H:%M:%S") <= "05:45:00"
        evening = weekday < 5 and start.strftime("%H:%M") >= "17:00" and end.strftime("%H:%M:%S") <= "17:20:00"
        assert morning or evening, item
    assert find_violations(plan, req) == []


def test_relay_block_airs_at_its_exact_times_with_its_stream_and_nothing_inside() -> None:
    spec = f"T2-T6 17:00-17:30; T2-T6 17:00-17:10 tiep-song={URL}"
    plan = plan_week(request([station(spec=spec)], [bulletin(f"B{i}", plays=5) for i in range(6)]))
    relays = [i for i in plan.items["S1"] if i.kind == "relay"]
    assert [
        (local(r.start).date(), local(r.start).strftime("%H:%M"), local(r.end).strftime("%H:%M")) for r in relays
    ] == [(day(d), "17:00", "17:10") for d in range(5)]
    assert all(r.stream_url == URL for r in relays)
    for item in bulletins_of(plan, "S1"):
        assert local(item.start).strftime("%H:%M:%S") >= "17:10:02"


def test_language_segment_takes_only_bulletins_of_its_language() -> None:
    spec = "T2-T6 17:00-17:30; T2-T6 17:10-17:20 lang=jra"
    s1 = station(spec=spec, languages=("vi", "jra"))
    vi = [bulletin(f"V{i}", plays=5, seconds=90) for i in range(4)]
    jra = [bulletin(f"J{i}", plays=5, seconds=120, language="jra") for i in range(2)]
    plan = plan_week(request([s1], vi + jra))
    for item in bulletins_of(plan, "S1"):
        start, end = local(item.start).strftime("%H:%M:%S"), local(item.end).strftime("%H:%M:%S")
        inside = start >= "17:10:00" and end <= "17:20:00"
        assert inside == (item.language == "jra"), item
    assert len(plays(plan, "S1", "J0")) == 5 and len(plays(plan, "S1", "V0")) == 5


def test_session_language_defaults_to_the_stations_first_language() -> None:
    khmer_first = station(spec="T2-CN 17:00-17:30", languages=("km", "vi"))
    plan = plan_week(request([khmer_first], [bulletin("KM", language="km"), bulletin("VI", language="vi")]))
    assert len(plays(plan, "S1", "KM")) == 3
    assert plays(plan, "S1", "VI") == []
    (shortfall,) = plan.shortfalls
    assert (shortfall.bulletin, shortfall.reasons) == ("VI", ("language",))


def test_window_language_overrides_the_station_default_for_that_session() -> None:
    s1 = station(spec="T2-CN 05:30-06:00; T2-CN 17:00-17:30 lang-buoi=km", languages=("vi", "km"))
    plan = plan_week(request([s1], [bulletin("KM", language="km", plays=7)]))
    assert {local(i.start).hour for i in plays(plan, "S1", "KM")} == {17}


def test_bulletin_airs_only_within_its_validity_dates() -> None:
    wednesday, thursday = day(2), day(3)
    b = bulletin("HL", plays=7, valid=(wednesday, thursday))
    plan = plan_week(request([station()], [b]))
    dates = sorted(local(i.start).date() for i in plays(plan, "S1", "HL"))
    assert dates == [wednesday, wednesday, thursday, thursday]
    (shortfall,) = plan.shortfalls
    assert shortfall.reasons == ("no_window_in_validity",) and shortfall.planned == 4


def test_bulletin_reaches_only_its_target_stations() -> None:
    stations = [station("S1"), station("S2"), station("S3")]
    plan = plan_week(request(stations, [bulletin("ONLY", stations=("S1", "S3"))]))
    assert len(plays(plan, "S1", "ONLY")) == 3 and len(plays(plan, "S3", "ONLY")) == 3
    assert plays(plan, "S2", "ONLY") == []
    assert plan.shortfalls == []


def test_bulletin_plays_at_most_once_per_session() -> None:
    plan = plan_week(request([station()], [bulletin("MANY", plays=20, seconds=30)]))
    starts = [local(i.start) for i in plays(plan, "S1", "MANY")]
    assert len(starts) == 14
    sessions = {(s.date(), s.hour) for s in starts}
    assert len(sessions) == 14
    assert plan.shortfalls[0].reasons == ("no_window_in_validity",)


def test_priority_bulletins_play_before_normal_ones_in_every_session() -> None:
    # Codes chosen so that sorting by code alone would put the normal bulletins first.
    normal = [bulletin(f"A{i}", plays=7, seconds=45) for i in range(3)]
    urgent = [bulletin(f"Z{i}", plays=7, seconds=45, priority=Priority.PRIORITY) for i in range(2)]
    plan = plan_week(request([station()], normal + urgent))
    by_session: dict[tuple[date, int], list[Priority]] = {}
    for item in bulletins_of(plan, "S1"):
        start = local(item.start)
        by_session.setdefault((start.date(), start.hour), []).append(item.priority)
    assert len(by_session) == 14
    for order in by_session.values():
        assert order == sorted(order, key=lambda p: p.rank)
        assert order[0] == Priority.PRIORITY


def test_jingles_open_and_close_the_session_and_gaps_separate_items() -> None:
    policy = Policy(quiet_before=None, quiet_after=None, jingle_ms=10_000, gap_ms=2_000)
    s1 = station(spec="T2 05:30-05:45", policy=policy)
    plan = plan_week(request([s1], [bulletin("B1", plays=1, seconds=60), bulletin("B2", plays=1, seconds=30)]))
    monday = day(0)
    assert [(i.kind, i.bulletin, i.start, i.end) for i in plan.items["S1"]] == [
        ("jingle", None, at(monday, 5, 30, 0), at(monday, 5, 30, 10)),
        ("bulletin", "B1", at(monday, 5, 30, 12), at(monday, 5, 31, 12)),
        ("bulletin", "B2", at(monday, 5, 31, 14), at(monday, 5, 31, 44)),
        ("jingle", None, at(monday, 5, 31, 46), at(monday, 5, 31, 56)),
    ]


def test_jingles_and_gaps_count_against_the_session_length() -> None:
    # 60 s session, 10 s jingles and 2 s gaps leave 36 s: a 36 s bulletin fits, a 37 s one does not.
    policy = Policy(quiet_before=None, quiet_after=None, jingle_ms=10_000, gap_ms=2_000)
    s1 = station(spec="T2 05:30-05:31", policy=policy)
    fits = plan_week(request([s1], [bulletin("FIT", plays=1, seconds=36)]))
    assert len(plays(fits, "S1", "FIT")) == 1
    assert fits.items["S1"][-1].end == at(day(0), 5, 31)
    too_long = plan_week(request([s1], [bulletin("LONG", plays=1, seconds=37)]))
    assert too_long.items["S1"] == []
    assert too_long.shortfalls[0].reasons == ("too_long_for_window",)


def test_session_with_only_a_relay_gets_no_jingles() -> None:
    policy = Policy(quiet_before=None, quiet_after=None, jingle_ms=10_000, gap_ms=2_000)
    s1 = station(spec=f"T2 17:00-17:30; T2 17:00-17:30 tiep-song={URL}", policy=policy)
    plan = plan_week(request([s1], [bulletin("B1", plays=1)]))
    assert [i.kind for i in plan.items["S1"]] == ["relay"]


def test_emergency_bulletins_are_not_planned_and_get_no_shortfall() -> None:
    storm = bulletin("BAO", priority=Priority.EMERGENCY, plays=14, title="Cảnh báo bão số 9")
    plan = plan_week(request([station()], [storm, bulletin("B1")]))
    assert plays(plan, "S1", "BAO") == []
    assert plan.shortfalls == []
    assert ("S1", "BAO") not in plan.planned_counts


def test_bulletin_with_zero_plays_is_ignored() -> None:
    plan = plan_week(request([station()], [bulletin("ZERO", plays=0)]))
    assert plan.items["S1"] == [] and plan.shortfalls == []


def test_planned_counts_match_the_items() -> None:
    stations = [station("S1"), station("S2", spec="T2-T6 06:00-06:10")]
    plan = plan_week(request(stations, [bulletin(f"B{i}", plays=4, stations=("S1", "S2")) for i in range(5)]))
    for (code, bulletin_code), count in plan.planned_counts.items():
        assert count == len(plays(plan, code, bulletin_code))


def test_all_instants_are_aware_utc() -> None:
    plan = plan_week(request([station()], [bulletin("B1")]))
    assert all(i.start.tzinfo is UTC and i.end.tzinfo is UTC for i in plan.items["S1"])
    slot = plan.sessions["S1"][0]
    assert slot.start.tzinfo is UTC and slot.start == at(day(0), 5, 30)
    assert slot.end - slot.start == timedelta(minutes=30)


def test_default_policy_fixture_is_quiet_free() -> None:
    # Guard for the builders: most tests assume no quiet hours.
    assert QUIET_FREE.quiet_before is None and QUIET_FREE.quiet_after is None
