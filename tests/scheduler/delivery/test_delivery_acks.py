"""Acknowledgements written in groups (scheduler.delivery.acks): through the real server on both databases,
many stations acknowledging at once, each answered by its own outcome and only once it is stored."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from delivery_world import ServerThread, add_programme, add_station
from sqlalchemy import event, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.models import Programme, Station
from scheduler.db.session import autocommit, transaction
from scheduler.delivery.acks import Ack, AckGroups, AckResult, record
from scheduler.settings import Settings
from tests.fake_clock import FakeClock

WEEK = "2026-W48"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _stations(sessions: sessionmaker[Session], now: datetime, n: int, version: int = 1,
              acked: int = 0) -> dict[str, str]:
    """n stations, each holding `version` of WEEK with `acked` acknowledged; code -> token."""
    tokens = {}
    with transaction(sessions) as s:
        for k in range(n):
            station, tokens[f"GL-ACK-{k:02d}"] = add_station(s, f"GL-ACK-{k:02d}", now, commune=f"Xã {k % 3}")
            programme = add_programme(s, station, WEEK, [], now, version=version)
            programme.acked_version = acked
    return tokens


@contextmanager
def held_first_write(server: ServerThread, waiting: int) -> Iterator[dict[str, int]]:
    """Hold the server's first ack statement until `waiting` more acks wait behind it (so they make one
    group), counting the ack statements and the COMMITs the server runs."""
    engine = server.app.extensions["loaxa"]["engine"]
    groups: AckGroups = server.app.extensions["loaxa"]["ack_groups"]
    seen = {"ack statements": 0, "commits": 0}

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "UPDATE programme SET acked_version" not in statement:
            return
        seen["ack statements"] += 1
        if seen["ack statements"] == 1:
            deadline = time.monotonic() + 30
            while groups.waiting() < waiting and time.monotonic() < deadline:
                time.sleep(0.01)

    def on_commit(_conn: Any) -> None:
        seen["commits"] += 1

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "commit", on_commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "commit", on_commit)


def _send_at_once(server: ServerThread, seen: dict[str, int], acks: Sequence[tuple[str, dict[str, Any]]]
                  ) -> list[tuple[int, Any]]:
    """Send the first ack; once its statement runs (held by `held_first_write`), all the others at once."""
    barrier = threading.Barrier(len(acks) - 1)

    def send(ack: tuple[str, dict[str, Any]], together: bool = True) -> tuple[int, Any]:
        token, body = ack
        with requests.Session() as http:
            if together:
                barrier.wait(timeout=30)
            answer = http.post(f"{server.url}/api/v1/ack", json=body, headers=auth(token), timeout=60)
            return answer.status_code, answer.json()

    with ThreadPoolExecutor(len(acks)) as pool:
        first = pool.submit(send, acks[0], False)
        deadline = time.monotonic() + 30
        while not seen["ack statements"] and time.monotonic() < deadline:
            time.sleep(0.01)
        rest = list(pool.map(send, acks[1:]))
        return [first.result(), *rest]


def _acked(sessions: sessionmaker[Session]) -> dict[str, tuple[int, datetime | None]]:
    with sessions() as s:
        return {code: (acked, at) for code, acked, at in s.execute(
            select(Station.code, Programme.acked_version, Programme.acked_at).join(Station))}


def test_acks_arriving_together_are_stored_by_one_statement_and_each_answered_once_stored(
        settings: Settings, clock: FakeClock, sessions: sessionmaker[Session]) -> None:
    tokens = _stations(sessions, clock(), 12)
    body = {"week": WEEK, "version": 1}
    with ServerThread(settings, clock) as server, held_first_write(server, waiting=11) as seen:
        answers = _send_at_once(server, seen, [(token, body) for token in tokens.values()])
    assert answers == [(200, {"week": WEEK, "version": 1, "acked_version": 1})] * 12
    assert _acked(sessions) == {code: (1, clock()) for code in tokens}
    # The first ack alone, then the eleven that arrived while it was written: 2 statements, not 12, each
    # committing itself (autocommit: no COMMIT of a transaction around them).
    assert seen == {"ack statements": 2, "commits": 0}


def test_a_group_of_mixed_acks_answers_each_by_its_own_outcome(
        settings: Settings, clock: FakeClock, sessions: sessionmaker[Session]) -> None:
    now = clock()
    fresh = _stations(sessions, now, 4, version=2)  # GL-ACK-00..03 hold version 2, nothing acked
    with transaction(sessions) as s:
        stale_station, stale = add_station(s, "GL-STALE", now)
        add_programme(s, stale_station, WEEK, [], now, version=3).acked_version = 3
        twice_station, twice = add_station(s, "GL-TWICE", now)
        add_programme(s, twice_station, WEEK, [], now, version=2)
        no_week = add_station(s, "GL-NOWEEK", now)[1]
    acks: list[tuple[str, dict[str, Any]]] = [(token, {"week": WEEK, "version": 2}) for token in fresh.values()]
    acks += [
        (stale, {"week": WEEK, "version": 2}),  # a newer ack is already recorded: left as it is
        (fresh["GL-ACK-00"], {"week": WEEK, "version": 9}),  # a version the server never had
        (twice, {"week": WEEK, "version": 1}),  # the same station twice in one group, the older one first
        (twice, {"week": WEEK, "version": 2}),
        (no_week, {"week": WEEK, "version": 1}),
        ("sai-ma", {"week": WEEK, "version": 1}),
    ]
    clock.advance(minutes=1)
    with ServerThread(settings, clock) as server, held_first_write(server, waiting=len(acks) - 1) as seen:
        answers = _send_at_once(server, seen, acks)
    statuses = [status for status, _ in answers]
    assert statuses == [200] * 4 + [200, 400, 200, 200, 404, 401]
    assert [answer for _, answer in answers[:4]] == [{"week": WEEK, "version": 2, "acked_version": 2}] * 4
    assert answers[4][1] == {"week": WEEK, "version": 3, "acked_version": 3}
    assert "phiên bản 9" in answers[5][1]["error"]
    # The second ack of the same station waits for the next group: each is answered by its own outcome (the
    # 1, written first, is recorded; written after the 2 it is a stale ack, answered with the 2).
    assert answers[6][1] in ({"week": WEEK, "version": 2, "acked_version": 1},
                             {"week": WEEK, "version": 2, "acked_version": 2})
    assert answers[7][1] == {"week": WEEK, "version": 2, "acked_version": 2}
    assert "GL-NOWEEK" in answers[8][1]["error"]
    stored = _acked(sessions)
    assert {code: stored[code] for code in fresh} == {code: (2, clock()) for code in fresh}
    assert stored["GL-STALE"] == (3, None) and stored["GL-TWICE"] == (2, clock())


def test_when_a_groups_statement_fails_every_ack_in_it_fails_and_the_next_group_is_written(
        engine: Any, sessions: sessionmaker[Session], clock: FakeClock) -> None:
    tokens = _stations(sessions, clock(), 6)
    from scheduler.accounts import hash_token

    acks = [Ack(hash_token(token), WEEK, 1, clock()) for token in tokens.values()]
    writes: list[int] = []
    release = threading.Event()

    def write(conn: Connection, group: Sequence[Ack]) -> dict[tuple[str, str], AckResult]:
        writes.append(len(group))
        if len(writes) == 1:
            release.wait(timeout=30)
            raise OperationalError("UPDATE", {}, Exception("the database went away"))
        return record(conn, group)

    groups = AckGroups(autocommit(engine), write=write)

    def send(ack: Ack) -> AckResult | str | None:
        try:
            return groups.record(ack)
        except OperationalError:
            return "failed"

    with ThreadPoolExecutor(6) as pool:
        first = pool.submit(send, acks[0])
        while not writes:
            time.sleep(0.01)
        rest = [pool.submit(send, ack) for ack in acks[1:]]
        while groups.waiting() < 5:
            time.sleep(0.01)
        release.set()
        assert first.result() == "failed"
        assert [f.result() for f in rest] == [{"week": WEEK, "version": 1, "acked_version": 1}] * 5
    assert writes == [1, 5]
    stored = _acked(sessions)
    assert stored.pop("GL-ACK-00") == (0, None)  # its answer was an error: and indeed nothing was stored
    assert set(stored.values()) == {(1, clock())}


@pytest.mark.parametrize("version", [1, 2])
def test_an_ack_of_a_stale_or_current_version_after_a_newer_one_keeps_the_newer(
        settings: Settings, clock: FakeClock, sessions: sessionmaker[Session], version: int) -> None:
    tokens = _stations(sessions, clock(), 1, version=3, acked=3)
    with ServerThread(settings, clock) as server:
        answer = requests.post(f"{server.url}/api/v1/ack", json={"week": WEEK, "version": version},
                               headers=auth(tokens["GL-ACK-00"]), timeout=60)
    assert (answer.status_code, answer.json()) == (200, {"week": WEEK, "version": 3, "acked_version": 3})
    assert _acked(sessions) == {"GL-ACK-00": (3, None)}


def test_the_stored_time_is_each_acks_own(engine: Any, sessions: sessionmaker[Session], clock: FakeClock) -> None:
    tokens = _stations(sessions, clock(), 2)
    from scheduler.accounts import hash_token

    times = [datetime(2026, 11, 23, 1, 2, 3, tzinfo=UTC), datetime(2026, 11, 23, 4, 5, 6, tzinfo=UTC)]
    with autocommit(engine).connect() as conn:
        record(conn, [Ack(hash_token(token), WEEK, 1, at) for token, at in zip(tokens.values(), times, strict=True)])
    assert _acked(sessions) == {"GL-ACK-00": (1, times[0]), "GL-ACK-01": (1, times[1])}


def test_a_groups_statement_is_compiled_once_per_size_and_then_taken_from_the_cache(
        engine: Any, sessions: sessionmaker[Session], clock: FakeClock) -> None:
    tokens = list(_stations(sessions, clock(), 4).values())
    from scheduler.accounts import hash_token

    hits: list[str] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        if "UPDATE programme" in statement:
            hits.append(context.cache_hit.name)  # CACHE_HIT, CACHE_MISS, CACHING_DISABLED…

    event.listen(engine, "after_cursor_execute", on_execute)
    try:
        with autocommit(engine).connect() as conn:
            for group in ([tokens[0]], [tokens[1]], tokens[2:], tokens[:2]):
                record(conn, [Ack(hash_token(token), WEEK, 1, clock()) for token in group])
    finally:
        event.remove(engine, "after_cursor_execute", on_execute)
    # Each size compiled at most once (the first test on this engine compiles; later ones find it cached):
    # compiling the statement cost more than running it.
    assert hits[1] == hits[3] == "CACHE_HIT"
    assert set(hits) <= {"CACHE_MISS", "CACHE_HIT"}


def test_many_threads_acknowledging_at_once_each_get_their_own_answer_and_all_are_stored(
        engine: Any, sessions: sessionmaker[Session], clock: FakeClock) -> None:
    tokens = list(_stations(sessions, clock(), 60, version=2).values())
    from scheduler.accounts import hash_token

    groups = AckGroups(autocommit(engine))
    # Every station acks version 1 and version 2, from different threads; one in three also sends a version
    # the server never had (left out: never stored).
    sends = [(token, version) for token in tokens for version in (1, 2)] + [(t, 5) for t in tokens[::3]]
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda sent: groups.record(Ack(hash_token(sent[0]), WEEK, sent[1], clock())), sends))
    for (_token, version), answer in zip(sends, answers, strict=True):
        if version == 2:
            assert answer == {"week": WEEK, "version": 2, "acked_version": 2}
        elif version == 1:  # recorded, or written after the station's 2 (then left out: a stale ack)
            assert answer in ({"week": WEEK, "version": 2, "acked_version": 1}, None)
        else:
            assert answer is None
    assert set(_acked(sessions).values()) == {(2, clock())}
    assert groups.waiting() == 0


def test_a_group_postgresql_rolled_back_for_a_deadlock_is_written_again_and_other_errors_are_not(
        backend: str, engine: Any, sessions: sessionmaker[Session], clock: FakeClock) -> None:
    if backend != "postgresql":
        pytest.skip("PostgreSQL's deadlock detection (SQLSTATE 40P01)")
    from scheduler.accounts import hash_token

    tokens = list(_stations(sessions, clock(), 2).values())
    writes: list[str] = []

    def write(conn: Connection, group: Sequence[Ack]) -> dict[tuple[str, str], AckResult]:
        writes.append(group[0].token_hash)
        if len(writes) == 1:  # the server's own error, as when the deadlock detector picks this statement
            conn.exec_driver_sql("DO $$ BEGIN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01'; END $$")
        if len(writes) == 3:
            conn.exec_driver_sql("DO $$ BEGIN RAISE EXCEPTION 'disk full' USING ERRCODE = '53100'; END $$")
        return record(conn, group)

    groups = AckGroups(autocommit(engine), write=write)
    first, second = (Ack(hash_token(token), WEEK, 1, clock()) for token in tokens)
    assert groups.record(first) == {"week": WEEK, "version": 1, "acked_version": 1}
    assert writes == [first.token_hash] * 2
    with pytest.raises(OperationalError, match="disk full"):
        groups.record(second)
    assert len(writes) == 3  # not tried again: only a deadlock or a dead connection is
    assert _acked(sessions) == {"GL-ACK-00": (1, clock()), "GL-ACK-01": (0, None)}
