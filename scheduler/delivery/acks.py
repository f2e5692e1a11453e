"""Acknowledgements — "this station holds version V of week W with all its audio" — and their one rule.

The rule, written once (`recordable`): an ack of `version` is recorded when the server holds that version
or a newer one and the station has not acknowledged a newer one; then `acked_version = version` and
`acked_at` is the ack's time. Anything else is refused or left as it was, and `explain` says which:
no such active station (None: 401), no programme for the week (LookupError: 404), a version the server
never had (ValueError: 400), or a newer ack already recorded (the current state, answered 200: acks may
arrive out of order).

A programme change makes every station acknowledge within seconds, so acks are written in groups
(`AckGroups`): the acks arriving while one group's statement runs wait and go together in the next one,
ONE autocommit UPDATE (one round trip, one WAL flush) for all of them. Each request is answered only after
the statement holding its ack has returned, i.e. committed: an ack answered 200 is stored.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, TypedDict, cast

from sqlalchemy import Integer, String, Table, and_, bindparam, select, union_all, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.dml import Update

from scheduler.accounts import hash_token
from scheduler.db.models import Programme, Station
from scheduler.db.session import again_if_transient
from scheduler.db.types import UTCDateTime
from scheduler.domain import IsoWeek


class AckResult(TypedDict):
    """The answer to POST /api/v1/ack."""

    week: str
    version: int
    acked_version: int


@dataclass(frozen=True)
class Ack:
    """One station's acknowledgement, as parsed from its request."""

    token_hash: str
    week: str
    version: int
    at: datetime


def parse_ack(body: Any) -> tuple[str, int]:
    """The week and version an acknowledgement names; ValueError (Vietnamese) for a malformed one."""
    if not isinstance(body, dict):
        raise ValueError("Nội dung xác nhận phải là đối tượng JSON dạng {\"week\": \"2026-W48\", \"version\": 3}.")
    week = str(IsoWeek.parse(str(body.get("week", ""))))
    version = body.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"Phiên bản «{version}» không hợp lệ; cần số nguyên dương.")
    return week, version


def ack_of(token: str, week: str, version: int, at: datetime) -> Ack:
    return Ack(hash_token(token), week, version, at)


MAX_GROUP = 100  # acks per statement (SQLite allows 500 SELECTs in one UNION ALL)


def record(conn: Connection, acks: Sequence[Ack]) -> dict[tuple[str, str], AckResult]:
    """Record every ack the rule accepts, in ONE statement (commit it, or run it on an autocommit
    connection); the answers of the recorded ones by (token_hash, week). At most one ack per (token_hash,
    week), at most MAX_GROUP."""
    params: dict[str, Any] = {}
    for n, ack in enumerate(acks):
        params |= {f"token_hash_{n}": ack.token_hash, f"week_{n}": ack.week, f"version_{n}": ack.version,
                   f"at_{n}": ack.at}
    return {(token, week): {"week": week, "version": version, "acked_version": acked}
            for token, week, version, acked in conn.execute(record_statement(len(acks)), params)}


@cache
def record_statement(size: int) -> Update:
    """The statement recording `size` acks: WITH acks AS (SELECT :token_hash_0, :week_0, ... UNION ALL ...)
    UPDATE programme ... FROM station, acks ... RETURNING. Built once per size and kept, so SQLAlchemy's cache
    of compiled statements serves it (a `values()` construct is compiled again on every use: ~1 ms of CPU)."""
    if not 1 <= size <= MAX_GROUP:
        raise ValueError(f"a group holds 1 to {MAX_GROUP} acks, not {size}")
    rows = [select(bindparam(f"token_hash_{n}", type_=String()).label("token_hash"),
                   bindparam(f"week_{n}", type_=String()).label("week"),
                   bindparam(f"version_{n}", type_=Integer()).label("version"),
                   bindparam(f"at_{n}", type_=UTCDateTime()).label("at")) for n in range(size)]
    given = (rows[0] if size == 1 else union_all(*rows)).cte("acks")
    # Core tables: no ORM layer on every ack.
    programme, station = cast(Table, Programme.__table__), cast(Table, Station.__table__)
    owner = station.alias("owner")
    # SQLite's RETURNING sees only the updated table: the token comes back through a subquery.
    token_hash = select(owner.c.token_hash).where(owner.c.id == programme.c.station_id).scalar_subquery()
    return (
        update(programme)
        .where(station.c.token_hash == given.c.token_hash, station.c.active, programme.c.station_id == station.c.id,
               programme.c.week == given.c.week, recordable(programme, given.c.version))
        .values(acked_version=given.c.version, acked_at=given.c.at)
        .returning(token_hash, programme.c.week, programme.c.version, programme.c.acked_version)
    )


def recordable(programme: Any, version: Any) -> Any:
    """THE RULE, in SQL: an ack of `version` is recorded when the server holds that version or a newer one
    and no newer ack is recorded."""
    return and_(programme.c.version >= version, programme.c.acked_version <= version)


def explain(conn: Connection, ack: Ack) -> AckResult | None:
    """Why `record` left `ack` out: None (no such active station), LookupError (no programme for the week),
    ValueError (a version the server never had), or the current state (a newer ack is already recorded).
    Raises `Changed` when none applies (the programme changed since): record it again."""
    row = conn.execute(
        select(Station.code, Programme.version, Programme.acked_version)
        .select_from(Station)
        .outerjoin(Programme, and_(Programme.station_id == Station.id, Programme.week == ack.week))
        .where(Station.token_hash == ack.token_hash, Station.active)
    ).first()
    if row is None:
        return None
    code, version, acked = row
    if version is None:
        raise LookupError(f"Đài {code} không có lịch phát tuần {ack.week}.")
    if ack.version > version:
        raise ValueError(f"Đài xác nhận phiên bản {ack.version} của tuần {ack.week} nhưng máy chủ mới có "
                         f"phiên bản {version}.")
    if acked > ack.version:
        return {"week": ack.week, "version": version, "acked_version": acked}
    raise Changed


class Changed(Exception):
    """The programme changed between recording an ack and explaining why it was not recorded."""


@dataclass(eq=False)
class _Waiter:
    ack: Ack
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # this request's thread writes the next group
    answer: AckResult | None = None
    error: BaseException | None = None


class AckGroups:
    """Acks recorded in groups, per process: the first ack to arrive writes at once; the acks arriving
    while a group is being written wait, and the first of them writes them all as the next group (no
    timer: an ack alone is written at once). Each thread returns once its group is committed.
    `engine`: autocommit (scheduler.db.session.autocommit), so a group is one round trip."""

    def __init__(self, engine: Engine, write: Callable[[Connection, Sequence[Ack]],
                                                       dict[tuple[str, str], AckResult]] = record) -> None:
        self.engine = engine
        self._write = write
        self._lock = threading.Lock()
        self._queue: list[_Waiter] = []
        self._writing = False

    def waiting(self) -> int:
        """How many acks wait for the group being written."""
        with self._lock:
            return len(self._queue)

    def record(self, ack: Ack) -> AckResult | None:
        """The answer once `ack`'s group is committed; None when the rule left it out (see `explain`)."""
        waiter = _Waiter(ack)
        with self._lock:
            self._queue.append(waiter)
            if not self._writing:
                self._writing = waiter.lead = True
        if not waiter.lead:
            waiter.done.wait()
        if waiter.lead:
            self._write_group()
        if waiter.error is not None:
            raise waiter.error
        return waiter.answer

    def _write_group(self) -> None:
        with self._lock:
            group = self._take()
        try:
            answers = self._with_retry(group)
        except BaseException as exc:  # every ack of the group fails with it: none was stored
            for waiter in group:
                waiter.error = exc
        else:
            for waiter in group:
                waiter.answer = answers.get((waiter.ack.token_hash, waiter.ack.week))
        with self._lock:
            if self._queue:  # the first ack that arrived meanwhile writes the next group
                self._queue[0].lead = True
                self._queue[0].done.set()
            else:
                self._writing = False
        for waiter in group:
            waiter.lead = False
            waiter.done.set()

    def _take(self) -> list[_Waiter]:
        """The next group: up to MAX_GROUP queued acks in order, one per station and week (a second ack of
        the same station and week waits for the next group, so each ack meets the rule on its own)."""
        group: dict[tuple[str, str], _Waiter] = {}
        later: list[_Waiter] = []
        for waiter in self._queue:
            key = (waiter.ack.token_hash, waiter.ack.week)
            if key in group or len(group) == MAX_GROUP:
                later.append(waiter)
            else:
                group[key] = waiter
        self._queue = later
        return list(group.values())

    def _with_retry(self, group: Sequence[_Waiter]) -> dict[tuple[str, str], AckResult]:
        """The group's statement, run again when the pooled connection turned out dead or PostgreSQL rolled
        it back for a deadlock (a group of acks meeting push_pending's UPDATE of the same programmes): either
        way nothing of it was stored, so running it again is safe."""
        acks = [waiter.ack for waiter in group]

        def write() -> dict[tuple[str, str], AckResult]:
            with self.engine.connect() as conn:
                return self._write(conn, acks)

        return again_if_transient(write, dead_connection=True)
