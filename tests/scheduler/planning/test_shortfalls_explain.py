"""Shortfall reason codes and their Vietnamese explanations."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from scheduler.domain import Priority
from scheduler.planning import plan_week
from scheduler.planning.shortfalls import REASON_TEXT, explain
from tests.scheduler.planning.builders import at, bulletin, day, request, station

VIETNAMESE = re.compile(r"[àáảãạăắằẳẵặâấầẩẫậđèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵ]")


def _reasons(*bulletins_: object, spec: str = "T2-CN 05:30-06:00", **kwargs: object) -> tuple[str, ...]:
    plan = plan_week(request([station(spec=spec, languages=("vi",))], list(bulletins_), **kwargs))  # type: ignore[arg-type]
    (shortfall,) = plan.shortfalls
    return shortfall.reasons


def test_bulletin_that_ended_before_the_week_is_expired() -> None:
    assert _reasons(bulletin("OLD", valid=(date(2026, 10, 1), date(2026, 11, 22)))) == ("expired",)


def test_bulletin_starting_after_the_week_is_not_yet_valid() -> None:
    assert _reasons(bulletin("NEW", valid=(date(2026, 11, 30), date(2026, 12, 31)))) == ("not_yet_valid",)


def test_validity_covering_fewer_sessions_than_the_quota_is_no_window_in_validity() -> None:
    assert _reasons(bulletin("SHORT", plays=5, valid=(day(5), day(6)))) == ("no_window_in_validity",)


def test_station_without_a_session_in_the_bulletins_language_gives_language() -> None:
    assert _reasons(bulletin("KHMER", language="km")) == ("language",)


def test_bulletin_longer_than_every_session_gives_too_long_for_window() -> None:
    assert _reasons(bulletin("LONG", seconds=31 * 60)) == ("too_long_for_window",)


def test_full_sessions_give_capacity() -> None:
    # Each 30-minute session holds one of the two 1000 s bulletins, so 7 of the 14 plays fit.
    req = request([station(spec="T2-CN 05:30-06:00")], [bulletin(c, plays=7, seconds=1000) for c in "AB"])
    plan = plan_week(req)
    assert sum(s.quota - s.planned for s in plan.shortfalls) == 7
    assert {s.reasons for s in plan.shortfalls} == {("capacity",)}


def test_sessions_already_past_give_horizon() -> None:
    late = at(day(6), 12, 0)
    assert _reasons(bulletin("LATE", plays=3), now=late) == ("horizon",)


def test_several_reasons_are_listed_in_funnel_order() -> None:
    weekend = bulletin("W", plays=5, seconds=40 * 60, valid=(day(5), day(6)))
    assert _reasons(weekend) == ("no_window_in_validity", "too_long_for_window")


def test_every_reason_code_has_a_vietnamese_sentence() -> None:
    for code, text in REASON_TEXT.items():
        assert VIETNAMESE.search(text), code
        assert text.endswith("."), code


def test_explain_rows_word_each_shortfall() -> None:
    req = request([station()], [bulletin("KHMER", language="km", title="Tuyên truyền cải cách hành chính")])
    plan = plan_week(req)
    (row,) = explain(plan, req)
    assert row == {
        "station": "S1",
        "bulletin": "KHMER",
        "title": "Tuyên truyền cải cách hành chính",
        "quota": 3,
        "planned": 0,
        "codes": ("language",),
        "reasons": REASON_TEXT["language"],
    }


def test_explain_filters_by_station_and_bulletin() -> None:
    req = request([station("S1"), station("S2")], [bulletin("K", language="km", stations=("S1", "S2"))])
    plan = plan_week(req)
    assert [r["station"] for r in explain(plan, req)] == ["S1", "S2"]
    assert [r["station"] for r in explain(plan, req, station="S2")] == ["S2"]


@pytest.mark.parametrize(
    ("station_code", "bulletin_code", "codes"),
    [
        ("S2", "ONLY_S1", ("not_targeted",)),
        ("S1", "STORM", ("emergency",)),
        ("S1", "ONLY_S1", ()),
        ("S9", "ONLY_S1", ("unknown_station",)),
        ("S1", "NOPE", ("unknown_bulletin",)),
    ],
)
def test_explain_on_a_pair_answers_even_without_a_shortfall(
    station_code: str, bulletin_code: str, codes: tuple[str, ...]
) -> None:
    req = request(
        [station("S1"), station("S2")],
        [bulletin("ONLY_S1"), bulletin("STORM", priority=Priority.EMERGENCY, stations=("S1", "S2"))],
    )
    plan = plan_week(req)
    (row,) = explain(plan, req, station=station_code, bulletin=bulletin_code)
    assert row["codes"] == codes
    assert row["reasons"] == (" ".join(REASON_TEXT[c] for c in codes) if codes else "Đã xếp đủ số lần phát.")


def test_kept_plays_count_in_the_shortfall() -> None:
    first = plan_week(request([station()], [bulletin("B", plays=14, seconds=60)]))
    req = request(
        [station()],
        [bulletin("B", plays=20, seconds=60)],
        now=at(day(3), 12),
        existing=first.items,
        horizon=timedelta(0),
    )
    (shortfall,) = plan_week(req).shortfalls
    assert shortfall.planned == 14 and shortfall.quota == 20
    assert shortfall.reasons == ("no_window_in_validity",)
