"""Why a bulletin got fewer plays than its quota on a station: machine reason codes and their words.

Reasons come from a funnel over the week's sessions: those inside the validity dates, of them
those with a region in the bulletin's language, of them those long enough, of them those still
open after the no-change horizon; whatever is left unexplained is capacity (sessions full).
"""

from __future__ import annotations

from typing import Any

from scheduler.domain import BulletinInput, Priority
from scheduler.planning.problem import Problem
from scheduler.planning.request import Plan, PlanRequest

EXPIRED = "expired"
NOT_YET_VALID = "not_yet_valid"
NO_WINDOW = "no_window_in_validity"
LANGUAGE = "language"
TOO_LONG = "too_long_for_window"
HORIZON = "horizon"
CAPACITY = "capacity"
NOT_TARGETED = "not_targeted"
EMERGENCY = "emergency"


def _sessions_with(problem: Problem, language: str | None, first: int, last: int, cost: int | None) -> set[int]:
    found: set[int] = set()
    for region in problem.regions:
        if language is not None and region.language != language:
            continue
        if not first <= region.day <= last:
            continue
        if cost is not None and region.max_cap < cost:
            continue
        found.add(region.session)
    return found


def shortfall_reasons(
    bulletin: BulletinInput,
    cost: int,
    planned: int,
    kept_plays: int,
    kept_sessions: set[int],
    week_first: int,
    week_last: int,
    natural: Problem,
    current: Problem,
) -> tuple[str, ...]:
    """Reason codes for `planned < quota`. `natural` ignores kept items and the horizon.

    Dates are ordinals of local dates; `week_first`/`week_last` are the week's Monday and Sunday.
    """
    quota = bulletin.plays_per_week
    first, last = bulletin.valid_from.toordinal(), bulletin.valid_to.toordinal()
    if last < week_first:
        return (EXPIRED,)
    if first > week_last:
        return (NOT_YET_VALID,)
    reasons: list[str] = []
    in_validity = len(_sessions_with(natural, None, first, last, None))
    in_language = len(_sessions_with(natural, bulletin.language, first, last, None))
    long_enough = len(_sessions_with(natural, bulletin.language, first, last, cost))
    still_open = len(_sessions_with(current, bulletin.language, first, last, cost) - kept_sessions)
    reachable = min(quota, in_validity)
    if in_validity < quota:
        reasons.append(NO_WINDOW)
    if in_language < reachable:
        reasons.append(LANGUAGE)
    reachable = min(reachable, in_language)
    if long_enough < reachable:
        reasons.append(TOO_LONG)
    reachable = min(reachable, long_enough)
    if still_open + kept_plays < reachable:
        reasons.append(HORIZON)
    reachable = min(reachable, still_open + kept_plays)
    if planned < reachable or not reasons:
        reasons.append(CAPACITY)
    return tuple(reasons)

REASON_TEXT: dict[str, str] = {
    "expired": "Bản tin đã hết hiệu lực trước tuần này.",
    "not_yet_valid": "Bản tin chưa đến ngày hiệu lực trong tuần này.",
    "no_window_in_validity": "Trong thời gian hiệu lực, đài không có đủ buổi phát cho số lần yêu cầu.",
    "language": "Trạm không có đủ buổi hoặc đoạn phát bằng ngôn ngữ của bản tin.",
    "too_long_for_window": "Bản tin dài hơn chỗ trống của các buổi hoặc đoạn phát phù hợp.",
    "horizon": (
        "Phần còn lại của tuần không đủ buổi phát: các buổi trước đã qua "
        "hoặc nằm trong khoảng thời gian không được thay đổi."
    ),
    "capacity": (
        "Các buổi phát phù hợp đã kín chỗ; bản tin ưu tiên và bản tin ngắn hơn được xếp trước. "
        "Có thể thêm buổi phát, kéo dài buổi hoặc giảm số lần phát."
    ),
    "not_targeted": "Bản tin không được gửi tới đài này.",
    "emergency": "Bản tin khẩn cấp được phát ngay khi ban hành, không xếp vào lịch tuần.",
    "unknown_station": "Trạm không có trong lần lập lịch này.",
    "unknown_bulletin": "Bản tin không có trong lần lập lịch này (chưa duyệt hoặc không còn hoạt động).",
}
FULFILLED_TEXT = "Đã xếp đủ số lần phát."


def _row(station: str, bulletin: str, title: str, quota: int, planned: int, codes: tuple[str, ...]) -> dict[str, Any]:
    text = " ".join(REASON_TEXT[c] for c in codes) if codes else FULFILLED_TEXT
    return {
        "station": station,
        "bulletin": bulletin,
        "title": title,
        "quota": quota,
        "planned": planned,
        "codes": codes,
        "reasons": text,
    }


def explain(
    plan: Plan, request: PlanRequest, *, station: str | None = None, bulletin: str | None = None
) -> list[dict[str, Any]]:
    """Rows (station, bulletin, title, quota, planned, codes, reasons) for the plan's shortfalls.

    With both `station` and `bulletin`, always one row for that pair, also when it is not targeted
    ("not_targeted"), an emergency, or fully planned.
    """
    titles = {b.code: b.title for b in request.bulletins}
    if station is not None and bulletin is not None:
        return [_pair(plan, request, station, bulletin)]
    return [
        _row(s.station, s.bulletin, titles.get(s.bulletin, ""), s.quota, s.planned, s.reasons)
        for s in plan.shortfalls
        if (station is None or s.station == station) and (bulletin is None or s.bulletin == bulletin)
    ]


def _pair(plan: Plan, request: PlanRequest, station: str, bulletin: str) -> dict[str, Any]:
    found = next((b for b in request.bulletins if b.code == bulletin), None)
    planned = plan.planned_counts.get((station, bulletin), 0)
    if not any(s.code == station for s in request.stations):
        return _row(station, bulletin, found.title if found else "", 0, planned, ("unknown_station",))
    if found is None:
        return _row(station, bulletin, "", 0, planned, ("unknown_bulletin",))
    if found.priority == Priority.EMERGENCY:
        return _row(station, bulletin, found.title, 0, planned, ("emergency",))
    if station not in found.stations:
        return _row(station, bulletin, found.title, found.plays_per_week, planned, ("not_targeted",))
    shortfall = next((s for s in plan.shortfalls if s.station == station and s.bulletin == bulletin), None)
    codes = shortfall.reasons if shortfall else ()
    return _row(station, bulletin, found.title, found.plays_per_week, planned, codes)
