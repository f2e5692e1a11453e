"""An independent checker of a plan's hard constraints, working from the raw windows.

It shares no code with the planner's timeline, so tests and benchmarks can use it as an oracle.
Items carried over from `request.existing` (locked or inside the horizon) are exempt, except
from the no-overlap rule, which also covers `request.neighbours` (the adjacent weeks' items).
Messages are Vietnamese, one per violation.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from scheduler.domain import BulletinInput, PlannedItem, Priority, StationInput, WeeklyWindow
from scheduler.planning.request import Plan, PlanRequest


@dataclass(frozen=True)
class _Occurrence:
    window: WeeklyWindow
    day: date
    start: datetime
    end: datetime


def _occurrences(station: StationInput, request: PlanRequest, days: list[date] | None = None) -> list[_Occurrence]:
    found: list[_Occurrence] = []
    for day in days if days is not None else request.week.days():
        policy = station.policy
        windows = (
            policy.holidays[day] if day in policy.holidays else [w for w in station.windows if day.weekday() in w.days]
        )
        for w in windows:
            start = datetime.combine(day, w.start, tzinfo=request.tz).astimezone(UTC)
            end_day = day + timedelta(days=1) if w.crosses_midnight else day
            end = datetime.combine(end_day, w.end, tzinfo=request.tz).astimezone(UTC)
            found.append(_Occurrence(w, day, start, end))
    return found


def _quiet_at(station: StationInput, instant: datetime, request: PlanRequest) -> bool:
    policy = station.policy
    if policy.quiet_before is None and policy.quiet_after is None:
        return False
    local = instant.astimezone(request.tz)
    tod = local.hour * 3600 + local.minute * 60 + local.second
    after = 86400 if policy.quiet_after is None else _secs(policy.quiet_after)
    before = 0 if policy.quiet_before is None else _secs(policy.quiet_before)
    length = (before - after) % 86400
    return length > 0 and (tod - after) % 86400 < length


def _secs(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _effective_start(station: StationInput, occ: _Occurrence, request: PlanRequest) -> datetime:
    """The session's first instant outside quiet hours (the planner clips the quiet part)."""
    t = occ.start
    while t < occ.end and _quiet_at(station, t, request):
        t += timedelta(minutes=1)
    return t


def _busy_before(station: StationInput, request: PlanRequest) -> list[tuple[datetime, datetime]]:
    """What the neighbouring weeks hold in this week's span: their stored items, and the sessions of
    the Sunday before that run past midnight (as windows, before any policy cut)."""
    sunday = request.week.monday() - timedelta(days=1)
    spill = [(o.start, o.end) for o in _occurrences(station, request, [sunday]) if o.window.kind == "session"]
    return spill + [(i.start, i.end) for i in request.neighbours.get(station.code, ())]


def find_violations(plan: Plan, request: PlanRequest) -> list[str]:
    """Every broken hard constraint in `plan`, as Vietnamese messages (empty list = valid)."""
    bulletins = {b.code: b for b in request.bulletins}
    problems: list[str] = []
    for station in request.stations:
        items = plan.items.get(station.code)
        if items is None:
            problems.append(f"Trạm {station.code}: không có trong kết quả lập lịch.")
            continue
        problems.extend(_check_station(station, items, bulletins, request))
    return problems


def _check_station(
    station: StationInput, items: list[PlannedItem], bulletins: dict[str, BulletinInput], request: PlanRequest
) -> list[str]:
    code = station.code
    out: list[str] = []
    kept = set(request.existing.get(code, ()))
    occurrences = _occurrences(station, request)
    sessions = [o for o in occurrences if o.window.kind == "session"]
    relays = [o for o in occurrences if o.window.kind == "relay"]
    segments = [o for o in occurrences if o.window.kind == "segment"]
    default_language = station.languages[0] if station.languages else "vi"
    policy = station.policy

    for prev, item in zip(items, items[1:], strict=False):
        if item.start < prev.end:
            out.append(f"Trạm {code}: mục lúc {item.start.isoformat()} chồng lên mục lúc {prev.start.isoformat()}.")
    for other in request.neighbours.get(code, ()):
        for item in items:
            if item.start < other.end and other.start < item.end:
                out.append(
                    f"Trạm {code}: mục lúc {item.start.isoformat()} chồng lên mục lúc {other.start.isoformat()} "
                    "của tuần bên cạnh."
                )
    for item in items:
        if item.start.tzinfo is None or item.end <= item.start:
            out.append(f"Trạm {code}: mục lúc {item.start.isoformat()} có thời gian không hợp lệ.")
        if item.station != code:
            out.append(f"Đài {code}: mục mang mã đài «{item.station}».")

    by_session: dict[int, list[PlannedItem]] = defaultdict(list)
    for item in items:
        if item in kept:
            continue
        where = (
            f"Trạm {code}, mục {item.kind} {item.bulletin or ''} lúc {item.start.astimezone(request.tz):%d/%m %H:%M:%S}"
        )
        if item.kind == "relay":
            if not any(
                r.start == item.start and r.end == item.end and r.window.stream_url == item.stream_url for r in relays
            ):
                out.append(f"{where}: khối tiếp sóng không khớp khung giờ tiếp sóng nào.")
            continue
        host = next((i for i, s in enumerate(sessions) if s.start <= item.start and item.end <= s.end), -1)
        if host < 0:
            out.append(f"{where}: nằm ngoài mọi buổi phát.")
            continue
        occ = sessions[host]
        by_session[host].append(item)
        if _quiet_at(station, item.start, request) or _quiet_at(station, item.end - timedelta(milliseconds=1), request):
            out.append(f"{where}: rơi vào giờ yên tĩnh.")
        if policy.max_session_minutes is not None:
            limit = _effective_start(station, occ, request) + timedelta(minutes=policy.max_session_minutes)
            if item.end > limit:
                out.append(f"{where}: vượt độ dài tối đa của buổi phát.")
        if any(r.start < item.end and item.start < r.end for r in relays):
            out.append(f"{where}: chồng lên khối tiếp sóng.")
        if item.kind != "bulletin":
            continue
        segment = next((g for g in segments if g.start < item.end and item.start < g.end), None)
        if segment is not None:
            if not (segment.start <= item.start and item.end <= segment.end):
                out.append(f"{where}: vắt qua ranh giới đoạn ngôn ngữ.")
            expected = segment.window.language
        else:
            expected = occ.window.language or default_language
        if item.language != expected:
            out.append(f"{where}: ngôn ngữ {item.language}, chỗ này dành cho {expected}.")
        b = bulletins.get(item.bulletin or "")
        if b is None:
            out.append(f"{where}: bản tin không có trong yêu cầu.")
            continue
        if code not in b.stations:
            out.append(f"{where}: bản tin không gửi tới đài này.")
        if b.priority == Priority.EMERGENCY:
            out.append(f"{where}: bản tin khẩn cấp không được xếp lịch.")
        # A session belongs to the local date it starts on, even the part after midnight.
        if not b.valid_from <= occ.day <= b.valid_to:
            out.append(f"{where}: buổi ngày {occ.day} ngoài thời gian hiệu lực {b.valid_from}..{b.valid_to}.")
        if item.language != b.language or item.priority != b.priority:
            out.append(f"{where}: ngôn ngữ hoặc mức ưu tiên khác bản tin.")
        if item.end - item.start != timedelta(milliseconds=b.duration_ms):
            out.append(f"{where}: độ dài khác độ dài bản tin.")

    for host in by_session:
        out.extend(_check_session(station, sessions[host], items, kept, request))
        out.extend(_check_priority_order(station, sessions[host], items, kept, bulletins, request))
    if policy.max_sessions_per_day is not None:
        per_day: dict[date, int] = defaultdict(int)
        for host in by_session:
            per_day[sessions[host].day] += 1
        for day, count in per_day.items():
            if count > policy.max_sessions_per_day:
                out.append(f"Trạm {code}: ngày {day} có {count} buổi, quá {policy.max_sessions_per_day}.")

    counts: dict[str, int] = defaultdict(int)
    for item in items:
        if item.kind == "bulletin" and item.bulletin:
            counts[item.bulletin] += 1
    for bulletin_code, count in counts.items():
        b = bulletins.get(bulletin_code)
        kept_count = sum(1 for k in kept if k.bulletin == bulletin_code and k in items)
        if b is not None and count > max(b.plays_per_week, kept_count):
            out.append(f"Trạm {code}: bản tin {bulletin_code} phát {count} lần, quá {b.plays_per_week}.")
    return out


def _check_priority_order(
    station: StationInput, occ: _Occurrence, items: list[PlannedItem], kept: set[PlannedItem],
    bulletins: dict[str, BulletinInput], request: PlanRequest,
) -> list[str]:
    """Where ưu tiên items meet (back to back, nothing between them but the gap), the commune's own come
    after those from above, or before them when the commune chose so (TT 39)."""
    label = f"Trạm {station.code}, buổi {occ.start.astimezone(request.tz):%d/%m %H:%M}"
    gap = timedelta(milliseconds=station.policy.gap_ms)
    inside = [i for i in items if occ.start <= i.start < occ.end]
    out: list[str] = []
    run: list[PlannedItem] = []
    for item in [*inside, None]:
        joined = item is not None and item.kind == "bulletin" and item.priority == Priority.PRIORITY \
            and item not in kept and (not run or item.start - run[-1].end <= gap)
        if joined and item is not None:
            run.append(item)
            continue
        tiers = []
        for i in run:
            b = bulletins.get(i.bulletin or "")
            own = b is not None and bool(b.own_commune) and b.own_commune == station.commune
            tiers.append(int(own) if not station.policy.own_priority_first else int(not own))
        if tiers != sorted(tiers):
            out.append(f"{label}: tin ưu tiên của xã và của tuyến trên không theo thứ tự xã đã chọn.")
        run = [item] if item is not None and item.kind == "bulletin" and item.priority == Priority.PRIORITY \
            and item not in kept else []
    return out


def _check_session(
    station: StationInput, occ: _Occurrence, items: list[PlannedItem], kept: set[PlannedItem], request: PlanRequest
) -> list[str]:
    code, gap_ms, jingle_ms = station.code, station.policy.gap_ms, station.policy.jingle_ms
    out: list[str] = []
    label = f"Trạm {code}, buổi {occ.start.astimezone(request.tz):%d/%m %H:%M}"
    inside = [i for i in items if occ.start <= i.start < occ.end]
    seen: set[str] = set()
    for item in inside:
        if item.kind == "bulletin" and item.bulletin:
            if item.bulletin in seen:
                out.append(f"{label}: bản tin {item.bulletin} phát hai lần trong một buổi.")
            seen.add(item.bulletin)
    normal_seen: dict[str, bool] = defaultdict(bool)
    for item in inside:
        if item.kind != "bulletin":
            continue
        if item.priority == Priority.NORMAL:
            normal_seen[item.language] = True
        elif item.priority == Priority.PRIORITY and normal_seen[item.language] and item not in kept:
            out.append(f"{label}: bản tin ưu tiên {item.bulletin} phát sau bản tin thông thường.")
    gap = timedelta(milliseconds=gap_ms)
    for prev, item in zip(inside, inside[1:], strict=False):
        if (
            (prev not in kept or item not in kept)
            and item.start - prev.end < gap
            and (prev.kind != "relay" or item.kind != "relay")
        ):
            when = f"{item.start.astimezone(request.tz):%H:%M:%S}"
            out.append(f"{label}: khoảng lặng trước mục lúc {when} ngắn hơn {gap_ms} ms.")
    own = [i for i in inside if i.kind in ("bulletin", "jingle")]
    # A session already under way (or about to start) at `now + horizon` has no opening jingle, nor
    # one whose start is taken by the week before (its Sunday session, or its stored items).
    start = _effective_start(station, occ, request)
    busy = _busy_before(station, request)
    opens_free = start >= request.now + request.horizon and not any(a <= start < b for a, b in busy)
    if jingle_ms > 0 and own and not any(i in kept for i in inside) and opens_free:
        if own[0].kind != "jingle" or own[-1].kind != "jingle":
            out.append(f"{label}: thiếu nhạc hiệu mở đầu hoặc kết thúc.")
        if any(i.kind == "jingle" and i.end - i.start != timedelta(milliseconds=jingle_ms) for i in own):
            out.append(f"{label}: nhạc hiệu sai độ dài.")
    return out
