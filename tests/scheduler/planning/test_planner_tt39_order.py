"""TT 39: where the commune's own ưu tiên items meet ưu tiên items from above, the commune's order holds.

Codes are chosen so that code order (the old tie-break) disagrees with the expected order: the
commune's own A-OWN sorts before the province's B-TINH.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from scheduler.domain import BulletinInput, PlannedItem, Priority
from scheduler.planning import plan_week
from scheduler.planning.verify import find_violations
from tests.scheduler.planning.builders import QUIET_FREE, bulletin, request, station

COMMUNE = "Xã Ia Băng"


def _bulletins() -> list[BulletinInput]:
    own = replace(bulletin("A-OWN", priority=Priority.PRIORITY, plays=14, stations=("S1",)), own_commune=COMMUNE)
    above = bulletin("B-TINH", priority=Priority.PRIORITY, plays=14, stations=("S1", "S2"))
    normal = bulletin("C-THUONG", plays=14, stations=("S1", "S2"))
    return [own, above, normal]


def _sessions(items: list[PlannedItem]) -> list[list[str]]:
    """Bulletin codes per back-to-back block of each session."""
    blocks: list[list[str]] = []
    last = None
    for item in sorted(items, key=lambda i: i.start):
        if item.kind != "bulletin" or item.bulletin is None:
            continue
        if last is None or (item.start - last.end).total_seconds() > 2:
            blocks.append([])
        blocks[-1].append(item.bulletin)
        last = item
    return blocks


@pytest.mark.parametrize(("own_first", "expected"), [(False, ["B-TINH", "A-OWN", "C-THUONG"]),
                                                      (True, ["A-OWN", "B-TINH", "C-THUONG"])])
def test_the_communes_order_decides_where_its_own_priority_items_go(own_first: bool, expected: list[str]) -> None:
    policy = replace(QUIET_FREE, own_priority_first=own_first)
    stations = [station("S1", policy=policy, commune=COMMUNE), station("S2", policy=policy, commune="Xã Khác")]
    req = request(stations, _bulletins())
    plan = plan_week(req)
    blocks = _sessions(plan.items["S1"])
    assert blocks and all(b == expected for b in blocks), blocks
    assert all(b == ["B-TINH", "C-THUONG"] for b in _sessions(plan.items["S2"]))
    assert find_violations(plan, req) == []


def test_the_checker_catches_priority_items_in_the_wrong_order() -> None:
    policy = replace(QUIET_FREE, own_priority_first=True)
    req = request([station("S1", policy=policy, commune=COMMUNE)], _bulletins())
    plan = plan_week(req)
    items = sorted(plan.items["S1"], key=lambda i: i.start)
    first = next(i for i in items if i.bulletin == "A-OWN")
    second = next(i for i in items if i.bulletin == "B-TINH" and i.start > first.start)
    # Swap the two plays' slots (same length: 60 s each): the province's now plays first.
    swapped = [replace(i, start=second.start, end=second.end) if i is first else
               replace(i, start=first.start, end=first.end) if i is second else i for i in items]
    plan.items["S1"] = sorted(swapped, key=lambda i: i.start)
    assert any("không theo thứ tự xã đã chọn" in v for v in find_violations(plan, req))
