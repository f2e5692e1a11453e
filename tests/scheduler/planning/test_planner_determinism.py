"""Same input, same programme: repeat runs, shuffled input, and grouped stations."""

from __future__ import annotations

import gc
import random
from dataclasses import replace

import pytest

from scheduler.domain import BulletinInput, PlannedItem, Priority, StationInput
from scheduler.planning import PlanRequest, collector_paused, plan_week
from scheduler.planning.planner import _copy_items, _items_for
from tests.scheduler.planning.builders import at, bulletin, day, request, station

SPECS = (
    "T2-CN 05:30-06:00; T2-T6 17:00-17:30",
    "T2-CN 05:30-05:50; T2-CN 17:00-17:40; T2-CN 17:00-17:10 tiep-song=https://r.vn/tinh; T2-T6 17:10-17:17 lang=jra",
)


def _instance(seed: int) -> PlanRequest:
    rng = random.Random(seed)
    stations = [station(f"S{k:02d}", SPECS[k % 2], ("vi", "jra")) for k in range(12)]
    codes = [s.code for s in stations]
    bulletins = [
        bulletin(
            f"B{i:02d}",
            priority=rng.choice([Priority.NORMAL, Priority.NORMAL, Priority.PRIORITY]),
            plays=rng.randint(1, 9),
            seconds=rng.randint(30, 400),
            stations=rng.sample(codes, rng.randint(3, 12)),
            language="jra" if i % 7 == 0 else "vi",
        )
        for i in range(25)
    ]
    return request(stations, bulletins)


def test_the_same_input_twice_gives_the_identical_programme() -> None:
    first = plan_week(_instance(1))
    second = plan_week(_instance(1))
    assert first.items == second.items
    assert first.shortfalls == second.shortfalls
    assert first.planned_counts == second.planned_counts
    assert first.notes == second.notes


def test_input_order_does_not_change_the_programme() -> None:
    req = _instance(2)
    rng = random.Random(7)
    stations: list[StationInput] = list(req.stations)
    bulletins: list[BulletinInput] = [
        replace(b, stations=frozenset(sorted(b.stations, reverse=True))) for b in req.bulletins
    ]
    rng.shuffle(stations)
    rng.shuffle(bulletins)
    assert plan_week(replace(req, stations=stations, bulletins=bulletins)).items == plan_week(req).items


def test_a_station_planned_with_its_twins_gets_the_programme_it_gets_alone() -> None:
    twins = [station(f"S{k}") for k in range(4)]
    bulletins = [
        bulletin(f"B{i}", plays=3 + i, seconds=90 + 30 * i, stations=[s.code for s in twins]) for i in range(6)
    ]
    together = plan_week(request(twins, bulletins, search_steps=50))
    alone = plan_week(request(twins[2:3], bulletins, search_steps=50))
    assert together.items["S2"] == alone.items["S2"]
    assert [replace(i, station="S0") for i in together.items["S3"]] == together.items["S0"]


def test_stations_differing_only_in_targets_are_planned_separately() -> None:
    a, b = station("A"), station("B")
    plan = plan_week(request([a, b], [bulletin("ALL", stations=("A", "B")), bulletin("ONLY_A", stations=("A",))]))
    assert {i.bulletin for i in plan.items["A"] if i.kind == "bulletin"} == {"ALL", "ONLY_A"}
    assert {i.bulletin for i in plan.items["B"] if i.kind == "bulletin"} == {"ALL"}


def test_copied_items_equal_items_built_with_the_constructor() -> None:
    start, end = at(day(0), 5, 30), at(day(0), 5, 31)
    fields = {
        "start": start,
        "end": end,
        "kind": "bulletin",
        "bulletin": "B1",
        "title": "Cải cách thủ tục hành chính",
        "language": "vi",
        "priority": Priority.PRIORITY,
        "stream_url": None,
        "audio_sha256": "ab" * 32,
        "locked": False,
    }
    (filled,) = _items_for("S9", [fields])
    (copied,) = _copy_items("S7", [filled])
    built = PlannedItem(station="S9", **fields)  # type: ignore[arg-type]
    assert filled == built and hash(filled) == hash(built) and repr(filled) == repr(built)
    other = PlannedItem(station="S7", **fields)  # type: ignore[arg-type]
    assert copied == other and hash(copied) == hash(other) and repr(copied) == repr(other)
    assert filled.station == "S9"  # the copy left its model alone


def test_plan_week_leaves_the_garbage_collector_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """It runs in web request threads too: switching the collector off would affect the whole process."""
    def refuse() -> None:
        raise AssertionError("plan_week switched the garbage collector off")

    monkeypatch.setattr(gc, "disable", refuse)
    plan_week(request([station()], [bulletin("B1", plays=3)]))
    monkeypatch.undo()
    with collector_paused():  # the batch build's switch, and it switches back
        assert not gc.isenabled()
    assert gc.isenabled()
