"""Why a bulletin got fewer plays than its quota on a station: machine reason codes.

Reasons come from a funnel over the week's sessions: those inside the validity dates, of them
those with a region in the bulletin's language, of them those long enough, of them those still
open after the no-change horizon; whatever is left unexplained is capacity (sessions full).
"""

from __future__ import annotations

from scheduler.domain import BulletinInput
from scheduler.planning.problem import Problem

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
        if region.first_date < first or region.last_date > last:
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
