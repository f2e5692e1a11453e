"""The independent plan checker flags each kind of broken plan (so it can fail as an oracle)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from scheduler.domain import PlannedItem, Priority
from scheduler.planning import Plan, plan_week
from scheduler.planning.verify import find_violations
from tests.scheduler.planning.builders import at, bulletin, day, request, station

SPEC = "T2-CN 05:30-06:00; T2-T6 17:00-17:30; T2-T6 17:00-17:05 tiep-song=https://vov.vn/a; T2-T6 17:05-17:10 lang=jra"
BULLETINS = [
    bulletin("A1", plays=4),
    bulletin("A2", plays=3, priority=Priority.PRIORITY),
    bulletin("J1", plays=2, language="jra"),
]
REQ = request([station(spec=SPEC, languages=("vi", "jra"))], BULLETINS)


def _broken(change: object) -> Plan:
    plan = plan_week(REQ)
    items = list(plan.items["S1"])
    change(items)  # type: ignore[operator]
    items.sort(key=lambda i: i.start)
    return Plan(items={"S1": items}, shortfalls=[])


def _first(items: list[PlannedItem], code: str) -> int:
    return next(k for k, i in enumerate(items) if i.bulletin == code)


def _shift(items: list[PlannedItem], code: str, delta: timedelta) -> None:
    k = _first(items, code)
    items[k] = replace(items[k], start=items[k].start + delta, end=items[k].end + delta)


def _squeeze(items: list[PlannedItem]) -> None:
    """Move the first bulletin that follows another item closely one second earlier."""
    k = next(
        k
        for k in range(1, len(items))
        if items[k].kind == "bulletin" and items[k].start - items[k - 1].end < timedelta(seconds=10)
    )
    items[k] = replace(items[k], start=items[k].start - timedelta(seconds=1), end=items[k].end - timedelta(seconds=1))


def test_a_correct_plan_has_no_violations() -> None:
    assert find_violations(plan_week(REQ), REQ) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda items: _shift(items, "A1", timedelta(hours=3)), "ngoài mọi buổi phát"),
        (_squeeze, "khoảng lặng"),
        (lambda items: items.append(replace(items[_first(items, "A1")], bulletin="ZZ")), "không có trong yêu cầu"),
        (lambda items: items.append(replace(items[_first(items, "A1")])), "chồng lên"),
        (
            lambda items: items.__setitem__(_first(items, "J1"), replace(items[_first(items, "J1")], language="vi")),
            "ngôn ngữ",
        ),
    ],
)
def test_broken_plans_are_flagged(change: object, expected: str) -> None:
    problems = find_violations(_broken(change), REQ)
    assert any(expected in p for p in problems), problems


def test_priority_after_normal_in_a_session_is_flagged() -> None:
    monday = at(day(0), 5, 30)
    a1 = PlannedItem("S1", monday, monday + timedelta(seconds=60), "bulletin", "A1", "", "vi", Priority.NORMAL)
    a2 = PlannedItem(
        "S1",
        monday + timedelta(seconds=62),
        monday + timedelta(seconds=122),
        "bulletin",
        "A2",
        "",
        "vi",
        Priority.PRIORITY,
    )
    problems = find_violations(Plan(items={"S1": [a1, a2]}, shortfalls=[]), REQ)
    assert any("ưu tiên" in p for p in problems)


def test_same_bulletin_twice_in_a_session_is_flagged() -> None:
    monday = at(day(0), 5, 30)
    first = PlannedItem("S1", monday, monday + timedelta(seconds=60), "bulletin", "A1", "", "vi")
    again = replace(first, start=first.start + timedelta(seconds=62), end=first.end + timedelta(seconds=62))
    problems = find_violations(Plan(items={"S1": [first, again]}, shortfalls=[]), REQ)
    assert any("hai lần" in p for p in problems)


def test_play_outside_validity_or_to_an_untargeted_station_is_flagged() -> None:
    req = request(
        [station(spec=SPEC, languages=("vi", "jra")), station("S2")], [bulletin("A1", valid=(day(2), day(3)))]
    )
    monday = at(day(0), 5, 30)
    item = PlannedItem("S1", monday, monday + timedelta(seconds=60), "bulletin", "A1", "", "vi")
    other = replace(item, station="S2")
    problems = find_violations(Plan(items={"S1": [item], "S2": [other]}, shortfalls=[]), req)
    assert any("hiệu lực" in p for p in problems)
    assert any("không gửi tới đài" in p for p in problems)
