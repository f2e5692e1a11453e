"""Main pages run a fixed number of SQL statements however many rows they show (no N+1 queries)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker
from web_pages import World, make_bulletin

from scheduler import audit
from scheduler.db.models import Commune, Programme, ProgrammeItem, Station, User
from scheduler.domain import BulletinStatus
from tests.fake_clock import FakeClock

PAGES = ("/", "/ban-tin/", "/dai/", "/ban-do/", "/lich-phat/?xa={commune}", "/nhat-ky/", "/nguoi-dung/", "/khan-cap/")


@contextmanager
def counting(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = app.extensions["loaxa"]["engine"]

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def page_queries(app: Flask, client: Any, world: World) -> dict[str, int]:
    result = {}
    for template in PAGES:
        url = template.format(commune=world.communes["Xã Ia Dêr"])
        with counting(app) as statements:
            assert client.get(url).status_code == 200, url
        result[url] = len(statements)
    return result


def grow(sessions: sessionmaker[Session], clock: FakeClock, n: int, prefix: str) -> None:
    """n more stations (each with a week's programme), bulletins, audit rows and accounts."""
    now = clock()
    with sessions.begin() as s:
        commune = s.scalars(select(Commune).where(Commune.name == "Xã Ia Dêr")).one()
        admin = s.scalars(select(User).where(User.username == "quantri")).one()
        for i in range(n):
            station = Station(code=f"IADER-{prefix}{i:03d}", name=f"Cụm loa số {i}", commune=commune, status={})
            s.add(station)
            programme = Programme(station=station, week="2026-W48", version=2, acked_version=1, built_at=now)
            s.add(programme)
            for k in range(3):
                start = now + timedelta(hours=1 + k)
                programme.items.append(
                    ProgrammeItem(start=start, end=start + timedelta(minutes=2), kind="bulletin", title=f"Tin {k}")
                )
            s.add(User(username=f"bt{prefix}{i:03d}", role="editor", password_hash="x", created_at=now))
            audit.record(s, now, admin, "station.update", "station", station.code, {"name": "a"}, {"name": "b"})
    for i in range(n):
        make_bulletin(sessions, now, code=f"BT-{prefix}{i:03d}", status=BulletinStatus.SUBMITTED)


def test_page_query_counts_do_not_grow_with_the_data(app: Flask, as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], clock: FakeClock, world: World) -> None:
    client = as_user("quantri")
    grow(sessions, clock, 1, "A")
    small = page_queries(app, client, world)
    grow(sessions, clock, 30, "B")
    large = page_queries(app, client, world)
    assert large == small
