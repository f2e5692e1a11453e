"""scheduler.fleet: each station's map state from liveness and item states, today's tally, now playing."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.models import Station
from scheduler.db.session import transaction
from scheduler.fleet import MapState, glance, map_state, station_query
from tests.fake_clock import FakeClock
from tests.scheduler.fleet_world import TZ, seed_fleet


def test_map_state_rule_offline_then_playing_then_missed_then_online() -> None:
    expected = {
        # (online, playing, any missed today) -> state, written out rather than derived
        (False, False, False): MapState.OFFLINE, (False, True, False): MapState.OFFLINE,
        (False, False, True): MapState.OFFLINE, (False, True, True): MapState.OFFLINE,
        (True, True, False): MapState.PLAYING, (True, True, True): MapState.PLAYING,
        (True, False, True): MapState.MISSED, (True, False, False): MapState.ONLINE,
    }
    for online, playing, missed in itertools.product((False, True), (False, True), (0, 1, 3)):
        assert map_state(online, playing, missed) == expected[(online, playing, missed > 0)], (online, playing, missed)


def test_each_station_gets_its_state_tally_and_what_it_plays(sessions: sessionmaker[Session], clock: FakeClock) -> None:
    now = clock()
    with transaction(sessions) as s:
        seed_fleet(s, now)
    with sessions() as s:
        stations = list(s.scalars(station_query([Station.active.is_(True)])))
        seen = {g.code: g for g in glance(s, stations, now, TZ, silent_minutes=15)}
    assert {code: g.state for code, g in seen.items()} == {
        "A-01": MapState.PLAYING, "B-01": MapState.MISSED, "C-01": MapState.OFFLINE,
        "D-01": MapState.ONLINE, "E-01": MapState.PLAYING,
    }
    a = seen["A-01"]
    assert (a.today.planned, a.today.aired, a.today.missed, a.today.upcoming) == (3, 1, 0, 1)
    assert a.now_playing is not None and a.now_playing.title == "Tiếp sóng Đài tỉnh"
    assert a.now_playing.source == "schedule"
    assert a.area == "Khu vực Chư Sê" and a.commune == "Xã Ia Dêr"
    b = seen["B-01"]  # the 00:10 local item belongs to today although its UTC date is the 22nd
    assert (b.today.planned, b.today.missed, b.today.upcoming) == (2, 1, 1)
    d = seen["D-01"]  # yesterday's miss (23:50 local) is not today's
    assert (d.today.planned, d.today.aired, d.today.missed) == (1, 1, 0)
    e = seen["E-01"]
    assert e.now_playing is not None and (e.now_playing.title, e.now_playing.source) == ("Thời sự VOV", "box")
    assert not e.has_position and e.today.planned == 0
    c = seen["C-01"]
    assert not c.online and c.today.missed == 1 and c.contacts["status"] is not None and c.contacts["log"] is None


def test_a_box_that_fell_silent_is_not_believed_to_play(sessions: sessionmaker[Session], clock: FakeClock) -> None:
    with transaction(sessions) as s:
        seed_fleet(s, clock())
    later = clock.advance(minutes=30)  # every station is now silent for more than 15 minutes
    with sessions() as s:
        seen = {g.code: g for g in glance(s, list(s.scalars(station_query([]))), later, TZ, silent_minutes=15)}
    assert {g.state for g in seen.values()} == {MapState.OFFLINE}
    assert seen["E-01"].now_playing is None  # the box's last word is stale
    assert seen["A-01"].now_playing is None  # 05:30: the relay ended at 05:08


def test_chunks_give_the_same_answer_as_one_pass(sessions: sessionmaker[Session], clock: FakeClock,
                                                 monkeypatch: object) -> None:
    import scheduler.fleet as fleet

    with transaction(sessions) as s:
        seed_fleet(s, clock())
    with sessions() as s:
        stations = list(s.scalars(station_query([])))
        whole = [(g.code, g.state, g.today) for g in glance(s, stations, clock(), TZ, 15)]
        setattr(fleet, "CHUNK", 2)  # noqa: B010
        try:
            chunked = [(g.code, g.state, g.today) for g in glance(s, stations, clock(), TZ, 15)]
        finally:
            setattr(fleet, "CHUNK", 400)  # noqa: B010
    assert chunked == whole
