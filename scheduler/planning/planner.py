"""plan_week: every station's programme for one ISO week, from plain data. No database, clock or I/O.

Stations whose inputs are equal apart from their code (same windows, languages, policy, targeted
bulletins and kept items) get the same programme, so each such group is planned once and copied
with the station codes. The station code itself never influences a decision, which keeps the
copy exact. All output instants are aware datetimes in UTC.
"""

from __future__ import annotations

import gc
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from datetime import date, time, timedelta

from scheduler.domain import BulletinInput, IsoWeek, PlannedItem, Policy, Priority, Shortfall, StationInput
from scheduler.planning.improve import improve
from scheduler.planning.layout import Placement, lay_out
from scheduler.planning.packing import THUONG, UU_TIEN, Demand, Packer
from scheduler.planning.problem import KeptItem, Problem, build_problem
from scheduler.planning.request import Plan, PlanRequest
from scheduler.planning.shortfalls import shortfall_reasons
from scheduler.planning.timeline import (
    PlannedSession,
    Skeleton,
    WeekClock,
    build_sessions,
    planned_sessions,
    spill_into,
)

JINGLE_TITLE = "Nhạc hiệu"
SEARCH_STEPS = 300  # local-search steps per station group at most
SEARCH_TOTAL = 8_000  # and for the whole plan at most, shared equally between groups
RELAY_TITLE = "Tiếp sóng"
NEVER = -(1 << 62)


def validate(request: PlanRequest) -> None:
    """Reject inputs the planner cannot honour, with a Vietnamese message naming the bad value."""
    if request.now.tzinfo is None or request.now.utcoffset() is None:
        raise ValueError(
            f"Thời điểm hiện tại «{request.now.isoformat()}» thiếu múi giờ. Truyền datetime có múi giờ (UTC)."
        )
    if request.horizon < timedelta(0):
        raise ValueError(f"Khoảng không thay đổi «{request.horizon}» bị âm. Dùng 0 phút trở lên.")
    seen: set[str] = set()
    for station in request.stations:
        if station.code in seen:
            raise ValueError(f"Mã đài «{station.code}» bị lặp trong yêu cầu lập lịch. Mỗi đài chỉ một lần.")
        seen.add(station.code)
        _validate_policy(station.code, station.policy)
    seen.clear()
    for b in request.bulletins:
        if b.code in seen:
            raise ValueError(f"Mã bản tin «{b.code}» bị lặp trong yêu cầu lập lịch. Mỗi bản tin chỉ một lần.")
        seen.add(b.code)
        if b.duration_ms <= 0:
            raise ValueError(f"Bản tin «{b.code}» có độ dài {b.duration_ms} ms. Cần tạo âm thanh trước khi lập lịch.")
        if b.plays_per_week < 0:
            raise ValueError(f"Bản tin «{b.code}» có số lần phát/tuần âm ({b.plays_per_week}). Dùng số ≥ 0.")
        if b.valid_to < b.valid_from:
            raise ValueError(
                f"Bản tin «{b.code}»: ngày hết hiệu lực {b.valid_to:%d/%m/%Y} trước ngày bắt đầu "
                f"{b.valid_from:%d/%m/%Y}. Sửa lại thời gian hiệu lực."
            )


def _validate_policy(code: str, policy: Policy) -> None:
    for name, value in (
        ("gap_ms", policy.gap_ms),
        ("jingle_ms", policy.jingle_ms),
        ("max_sessions_per_day", policy.max_sessions_per_day),
        ("max_session_minutes", policy.max_session_minutes),
    ):
        if value is not None and value < 0:
            raise ValueError(f"Trạm «{code}»: quy định {name} = {value} bị âm. Dùng số ≥ 0.")


def _order(b: BulletinInput, station: StationInput, policy: Policy) -> int:
    """Where a bulletin goes within its priority class (lower first): the commune's own ưu tiên items
    after those from above, or before them when the commune says so (TT 39); thông thường by code only."""
    if b.priority != Priority.PRIORITY or not b.own_commune or b.own_commune != station.commune:
        return 0
    return -1 if policy.own_priority_first else 1


class _PolicyKeys:
    """Hashable keys for policies (they hold a dict), memoised per object. Only the holidays of
    the planned week enter the key, so policies differing in other weeks still group together."""

    def __init__(self, first: date, last: date) -> None:
        self._keys: dict[int, tuple[Policy, Hashable]] = {}
        self._first, self._last = first, last

    def __call__(self, policy: Policy) -> Hashable:
        found = self._keys.get(id(policy))
        if found is not None and found[0] is policy:
            return found[1]
        key = (
            policy.quiet_before,
            policy.quiet_after,
            policy.max_sessions_per_day,
            policy.max_session_minutes,
            policy.jingle_ms,
            policy.gap_ms,
            tuple(sorted((d, w) for d, w in policy.holidays.items() if self._first <= d <= self._last)),
            policy.own_priority_first,
        )
        self._keys[id(policy)] = (policy, key)
        return key


@dataclass
class _Group:
    """Stations planned together: the first is the representative."""

    stations: list[StationInput]
    kept: list[list[PlannedItem]]  # per station, the existing items that stay
    skeleton_key: Hashable
    kept_key: tuple[Hashable, ...]
    targets: tuple[int, ...]
    previous: tuple[tuple[int, str], ...] = ()  # (start offset, bulletin) of existing plays re-planned
    busy: tuple[tuple[int, int], ...] = ()  # offsets taken by the neighbouring weeks' programmes


def _kept_signature(item: PlannedItem, clock: WeekClock) -> Hashable:
    return (
        clock.ms_of(item.start),
        clock.ms_of(item.end),
        item.kind,
        item.bulletin,
        item.title,
        item.language,
        item.priority,
        item.stream_url,
        item.audio_sha256,
        item.locked,
    )


class _Planner:
    def __init__(self, request: PlanRequest) -> None:
        self.request = request
        self.clock = WeekClock(request.week, request.tz)
        self.cutoff = self.clock.ms_of(request.now + request.horizon)
        self.now = self.clock.ms_of(request.now)
        previous_week = IsoWeek.of(self.clock.monday - timedelta(days=7))
        self.previous_clock = WeekClock(previous_week, request.tz)
        self.week_end = self.clock.ms(self.clock.monday + timedelta(days=7), time(0))
        self.bulletins = sorted(
            (b for b in request.bulletins if b.priority != Priority.EMERGENCY and b.plays_per_week > 0),
            key=lambda b: b.code,
        )
        # The week before counts too: its Sunday sessions may run into this Monday.
        self.policy_key = _PolicyKeys(self.clock.monday - timedelta(days=7), self.clock.monday + timedelta(days=6))
        self.skeletons: dict[Hashable, Skeleton] = {}
        self.planned: dict[Hashable, tuple[PlannedSession, ...]] = {}
        self.problems: dict[Hashable, Problem] = {}
        self.eligible: dict[Hashable, list[int]] = {}
        self.steps = 0
        self.week_first = self.clock.monday.toordinal()
        self.week_last = self.week_first + 6

    def skeleton(self, station: StationInput) -> tuple[Hashable, Skeleton]:
        key = (station.windows, station.languages, self.policy_key(station.policy))
        found = self.skeletons.get(key)
        if found is None:
            found = build_sessions(station.windows, station.languages, station.policy, self.clock)
            previous = build_sessions(station.windows, station.languages, station.policy, self.previous_clock)
            spill_into(found, previous, self.previous_clock, self.clock)
            self.skeletons[key] = found
            self.planned[key] = planned_sessions(found, self.clock)
        return key, found

    def problem(
        self, skeleton_key: Hashable, policy: Policy, kept_key: Hashable, kept: list[KeptItem],
        busy: tuple[tuple[int, int], ...] = (),
    ) -> Problem:
        key = (skeleton_key, kept_key, busy)
        found = self.problems.get(key)
        if found is None:
            natural = kept_key == "natural"
            found = build_problem(
                self.skeletons[skeleton_key], self.clock, policy.gap_ms, policy.jingle_ms,
                NEVER if natural else self.cutoff, kept, busy, None if natural else self.now,
            )
            self.problems[key] = found
        return found

    def regions_for(self, problem: Problem, b: BulletinInput, cost: int) -> list[int]:
        key = (id(problem), b.language, b.valid_from, b.valid_to, cost)
        found = self.eligible.get(key)
        if found is None:
            first, last = b.valid_from.toordinal(), b.valid_to.toordinal()
            found = [
                r
                for r, region in enumerate(problem.regions)
                if region.language == b.language
                and first <= region.day <= last
                and region.max_cap >= cost
            ]
            self.eligible[key] = found
        return found

    def groups(self) -> list[_Group]:
        station_codes = {s.code for s in self.request.stations}
        targets: dict[str, list[int]] = {code: [] for code in station_codes}
        for index, b in enumerate(self.bulletins):
            for code in b.stations:
                if code in station_codes:
                    targets[code].append(index)
        groups: dict[Hashable, _Group] = {}
        for station in sorted(self.request.stations, key=lambda s: s.code):
            skeleton_key, skeleton = self.skeleton(station)
            owned_end = max([self.week_end] + [s.end for s in skeleton.sessions])
            kept_items: list[PlannedItem] = []
            previous: list[tuple[int, str]] = []
            for item in self.request.existing.get(station.code, ()):
                offset = self.clock.ms_of(item.start)
                if not 0 <= offset < owned_end:
                    continue
                if item.locked or offset < self.cutoff:
                    kept_items.append(item)
                elif item.kind == "bulletin" and item.bulletin is not None:
                    previous.append((offset, item.bulletin))
            kept_items.sort(key=lambda i: (i.start, i.end))
            kept_key = tuple(_kept_signature(i, self.clock) for i in kept_items)
            station_targets = tuple(targets[station.code])
            previous_key = tuple(sorted(previous))
            busy = tuple(sorted(
                (self.clock.ms_of(i.start), self.clock.ms_of(i.end))
                for i in self.request.neighbours.get(station.code, ())
                if self.clock.ms_of(i.end) > 0 and self.clock.ms_of(i.start) < owned_end
            ))  # fmt: skip
            key = (skeleton_key, kept_key, station_targets, previous_key, busy)
            group = groups.get(key)
            if group is None:
                groups[key] = _Group(
                    [station], [kept_items], skeleton_key, kept_key, station_targets, previous_key, busy
                )
            else:
                group.stations.append(station)
                group.kept.append(kept_items)
        return list(groups.values())

    def run(self) -> Plan:
        plan = Plan(items={}, shortfalls=[])
        groups = self.groups()
        steps = self.request.search_steps
        self.steps = min(SEARCH_STEPS, SEARCH_TOTAL // max(1, len(groups))) if steps is None else steps
        for group in groups:
            self.plan_group(group, plan)
        plan.items = dict(sorted(plan.items.items()))
        plan.shortfalls.sort(key=lambda s: (s.station, s.bulletin))
        return plan

    def plan_group(self, group: _Group, plan: Plan) -> None:
        rep = group.stations[0]
        policy = rep.policy
        gap = policy.gap_ms
        kept = [
            KeptItem(
                self.clock.ms_of(i.start),
                self.clock.ms_of(i.end),
                i.kind,
                i.bulletin,
                i.language,
                i.priority,
            )
            for i in group.kept[0]
        ]
        problem = self.problem(group.skeleton_key, policy, group.kept_key, kept, group.busy)
        kept_plays: dict[str, int] = {}
        for item in kept:
            if item.kind == "bulletin" and item.bulletin is not None:
                kept_plays[item.bulletin] = kept_plays.get(item.bulletin, 0) + 1
        demands: list[Demand] = []
        for index in group.targets:
            b = self.bulletins[index]
            cost = b.duration_ms + gap
            demand = Demand(
                index=index,
                code=b.code,
                cls=UU_TIEN if b.priority == Priority.PRIORITY else THUONG,
                order=_order(b, rep, policy),
                cost=cost,
                need=max(0, b.plays_per_week - kept_plays.get(b.code, 0)),
                regions=self.regions_for(problem, b, cost),
                used=set(problem.kept_sessions.get(b.code, ())),
            )
            if b.code in problem.kept_days:
                demand.day_count = list(problem.kept_days[b.code])
                demand.halves = list(problem.kept_halves[b.code])
                demand.refresh_dist()
            demands.append(demand)
        packer = Packer(problem, demands)
        packer.warm_start(list(group.previous))
        packer.run()
        improve(packer, self.steps, only_more_plays=bool(group.previous))
        placements = lay_out(packer)

        counts: dict[str, int] = dict(kept_plays)
        for demand in demands:
            counts[demand.code] = counts.get(demand.code, 0) + len(demand.placed)
        reasons: list[tuple[str, int, int, tuple[str, ...]]] = []
        natural: Problem | None = None
        for demand in demands:
            b = self.bulletins[demand.index]
            planned = counts[b.code]
            if planned >= b.plays_per_week:
                continue
            if natural is None:
                natural = self.problem(group.skeleton_key, policy, "natural", [])
            why = shortfall_reasons(
                b,
                demand.cost,
                planned,
                kept_plays.get(b.code, 0),
                problem.kept_sessions.get(b.code, set()),
                self.week_first,
                self.week_last,
                natural,
                problem,
            )
            reasons.append((b.code, b.plays_per_week, planned, why))

        template = _items_for(group.stations[0].code, self._template(placements, demands))
        notes = self.skeletons[group.skeleton_key].notes
        sessions = self.planned[group.skeleton_key]
        for station, kept_items in zip(group.stations, group.kept, strict=True):
            code = station.code
            items = template if station is group.stations[0] else _copy_items(code, template)
            if kept_items:
                items = items + kept_items  # a new list: the template stays as it is for the next stations
                items.sort(key=lambda i: (i.start, i.end))
            plan.items[code] = items
            plan.sessions[code] = sessions
            for bulletin_code, planned in counts.items():
                plan.planned_counts[(code, bulletin_code)] = planned
            for bulletin_code, quota, planned, why in reasons:
                plan.shortfalls.append(Shortfall(code, bulletin_code, quota, planned, why))
            plan.notes.extend(f"Trạm {code}: {note}" for note in notes)

    def _template(self, placements: Sequence[Placement], demands: list[Demand]) -> list[dict[str, object]]:
        """PlannedItem fields other than `station`, shared by every station of a group."""
        # Many items share instants (a plan has tens of thousands of distinct ones, over a million
        # items): the cache is read directly, its method only called for a new offset.
        instant = self.clock.instant
        cached = self.clock.instants.get
        bulletins = self.bulletins
        normal = Priority.NORMAL
        template: list[dict[str, object]] = []
        append = template.append
        for start_ms, end_ms, kind, ref in placements:
            start = cached(start_ms) or instant(start_ms)
            end = cached(end_ms) or instant(end_ms)
            if kind == "bulletin":
                assert isinstance(ref, int)
                b = bulletins[demands[ref].index]
                append(
                    {
                        "start": start,
                        "end": end,
                        "kind": "bulletin",
                        "bulletin": b.code,
                        "title": b.title,
                        "language": b.language,
                        "priority": b.priority,
                        "stream_url": None,
                        "audio_sha256": b.audio_sha256,
                        "locked": False,
                    }
                )
            elif kind == "relay":
                assert not isinstance(ref, int | str)
                append(
                    {
                        "start": start,
                        "end": end,
                        "kind": "relay",
                        "bulletin": None,
                        "title": ref.label or RELAY_TITLE,
                        "language": ref.language,
                        "priority": normal,
                        "stream_url": ref.stream_url,
                        "audio_sha256": None,
                        "locked": False,
                    }
                )
            else:
                assert isinstance(ref, str)
                append(
                    {
                        "start": start,
                        "end": end,
                        "kind": "jingle",
                        "bulletin": None,
                        "title": JINGLE_TITLE,
                        "language": ref,
                        "priority": normal,
                        "stream_url": None,
                        "audio_sha256": None,
                        "locked": False,
                    }
                )
        return template


_ITEM_FIELDS = tuple(f.name for f in fields(PlannedItem))[1:]
_FAST_COPY = not hasattr(PlannedItem, "__slots__") and _ITEM_FIELDS == (
    "start",
    "end",
    "kind",
    "bulletin",
    "title",
    "language",
    "priority",
    "stream_url",
    "audio_sha256",
    "locked",
)


def _items_for(code: str, template: list[dict[str, object]]) -> list[PlannedItem]:
    """PlannedItems for one station from a group's template (fields other than `station`).

    A national plan holds over a million items, and a frozen dataclass's __init__ costs about four
    times more than filling the instance dict directly; the result is the same object (equal, same
    hash). Falls back to the constructor if PlannedItem ever changes shape.
    """
    if not _FAST_COPY:
        return [PlannedItem(station=code, **t) for t in template]  # type: ignore[arg-type]
    new = PlannedItem.__new__
    items: list[PlannedItem] = []
    for t in template:
        item = new(PlannedItem)
        state = item.__dict__
        state["station"] = code
        state.update(t)
        items.append(item)
    return items


def _copy_items(code: str, template: list[PlannedItem]) -> list[PlannedItem]:
    """Another station's items with this station's code: copying an instance dict (which keeps the
    compact layout instances share) costs less than filling a new one."""
    if not _FAST_COPY:
        return [replace(item, station=code) for item in template]
    new = PlannedItem.__new__
    set_state = object.__setattr__  # the class is frozen; this is how its own __init__ sets fields
    items: list[PlannedItem] = []
    for model in template:
        state = model.__dict__.copy()
        state["station"] = code
        item = new(PlannedItem)
        set_state(item, "__dict__", state)
        items.append(item)
    return items


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector around a batch build: a national plan allocates millions
    of objects that all survive, and the collector's repeated scans of them cost about a third of
    the run time. The switch is process-wide, so only batch jobs (the weekly build, the CLI) use
    it — never a web request, whose other threads must keep collecting; plan_week itself leaves
    the collector alone."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def plan_week(request: PlanRequest) -> Plan:
    """Plan every station of the request for its ISO week; see docs/planner.md for the rules."""
    validate(request)
    return _Planner(request).run()
