"""Stored programmes of consecutive weeks never overlap, whatever changed between their builds.

A Sunday session runs past midnight into the next week's Monday; edits between builds, emergencies
near midnight and hand moves must all leave the two weeks' items apart (scheduler.programmes.store).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from test_programmes import add_bulletin

from scheduler.db.models import Programme, ProgrammeItem, Station
from scheduler.db.session import transaction
from scheduler.domain import IsoWeek
from scheduler.emergencies import RepeatRule, start_emergency
from scheduler.imports import import_stations
from scheduler.programmes import build_week, edits

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
THIS, NEXT = IsoWeek(2026, 48), IsoWeek(2026, 49)
NOW = datetime(2026, 11, 22, 22, 0, tzinfo=UTC)  # Monday 23/11 05:00 in Hà Nội
STATION = "code,name,commune,area,province,languages,windows,lat,lon,speakers\nS1,Cụm loa,Ia Grai,,Gia Lai,vi,{},,,1\n"


def world(sessions: sessionmaker[Session], windows: str) -> None:
    with transaction(sessions) as s:
        import_stations(s, STATION.format(windows))
        s.scalars(select(Station)).one().commune.policy = {"quiet_before": "", "quiet_after": ""}
        for i in range(14):  # enough to fill a session and run past midnight
            add_bulletin(s, f"B{i:02d}", NOW, plays=2, seconds=240)


def set_windows(sessions: sessionmaker[Session], windows: str) -> None:
    with transaction(sessions) as s:
        s.scalars(select(Station)).one().windows = windows


def build(sessions: sessionmaker[Session], week: IsoWeek, now: datetime = NOW) -> None:
    with transaction(sessions) as s:
        build_week(s, week, now, TZ)


def week_items(sessions: sessionmaker[Session], week: IsoWeek) -> list[tuple[datetime, datetime, str]]:
    with sessions() as s:
        rows = s.execute(
            select(ProgrammeItem.start, ProgrammeItem.end, ProgrammeItem.kind)
            .join(Programme).where(Programme.week == str(week)).order_by(ProgrammeItem.start)
        )
        return [(a, b, k) for a, b, k in rows]


def clashes(sessions: sessionmaker[Session]) -> list[tuple[object, object]]:
    this, nxt = week_items(sessions, THIS), week_items(sessions, NEXT)
    return [(a, b) for a in this for b in nxt if a[0] < b[1] and b[0] < a[1]]


def local(day: date, hh: int, mm: int) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=TZ).astimezone(UTC)


def test_an_edit_between_builds_never_makes_two_weeks_overlap(sessions: sessionmaker[Session]) -> None:
    world(sessions, "T2 00:00-00:40")
    build(sessions, NEXT)  # next week built first, with a session at Monday 00:00
    assert week_items(sessions, NEXT)[0][0] == local(date(2026, 11, 30), 0, 0)
    set_windows(sessions, "CN 23:30-00:30")  # now Sunday runs past midnight
    build(sessions, THIS)
    assert clashes(sessions) == []
    build(sessions, NEXT)  # and rebuilding next week keeps them apart too
    assert clashes(sessions) == []


def test_a_holiday_monday_session_gives_way_to_sundays_session(sessions: sessionmaker[Session]) -> None:
    world(sessions, "CN 23:30-00:30")
    with transaction(sessions) as s:
        s.scalars(select(Station)).one().commune.policy = {
            "quiet_before": "", "quiet_after": "", "holidays": {"2026-11-30": "T2 00:00-00:30"}}
    build(sessions, THIS)
    build(sessions, NEXT)
    assert week_items(sessions, THIS)[-1][1] > local(date(2026, 11, 30), 0, 0)  # Sunday's session spills
    assert clashes(sessions) == []


def test_an_emergency_late_on_sunday_clears_room_in_next_weeks_programme(sessions: sessionmaker[Session]) -> None:
    world(sessions, "T2-CN 00:00-00:40")
    build(sessions, THIS)
    build(sessions, NEXT)
    late = local(date(2026, 11, 29), 23, 58)  # Sunday 23:58: a 5-minute warning ends Monday 00:03
    with transaction(sessions) as s:
        warning = add_bulletin(s, "BAO-01", late, plays=0, seconds=300, priority="khan_cap")
        start_emergency(s, warning, ["S1"], RepeatRule(), None, late)
    emergency = [a for a in week_items(sessions, THIS) if a[2] == "emergency"]
    assert emergency and emergency[0][1] == local(date(2026, 11, 30), 0, 3)
    assert clashes(sessions) == []


def test_a_move_into_the_next_weeks_items_is_refused(sessions: sessionmaker[Session]) -> None:
    world(sessions, "T2-CN 00:00-00:40")
    build(sessions, THIS)
    build(sessions, NEXT)
    with transaction(sessions) as s:
        programme = s.scalars(select(Programme).where(Programme.week == str(THIS))).one()
        item = next(i for i in programme.items if i.kind == "bulletin" and i.start > NOW + timedelta(hours=1))
        with pytest.raises(edits.EditRefused, match="trùng với"):
            edits.move_item(s, item, local(date(2026, 11, 29), 23, 59), None, edits.Horizon(NOW, 30, TZ))
    assert clashes(sessions) == []
