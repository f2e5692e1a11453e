"""The packing problem of one station: free parts of each session region, with capacities.

A session splits into regions, one per language: the session's own language outside the segment
blocks, and each segment language inside its blocks. Relay blocks and kept items are holes, the
no-change horizon cuts everything before it. Each free interval is a part, stored from the first
moment an item may start in it; a sequence of items fits a part when the sum of (duration + gap)
is at most the part's capacity (see `part_capacity`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

from scheduler.domain import Priority
from scheduler.planning.timeline import Relay, Session, Skeleton, WeekClock, subtract


def part_capacity(start: int, end: int, trail: int, gap: int) -> int:
    """Items d1..dn played from `start`, `gap` apart, end by `end - trail` iff
    sum(d) + (n - 1) * gap <= end - start - trail, i.e. sum(d + gap) <= capacity."""
    return end - start - trail + gap


@dataclass
class Region:
    session: int
    language: str
    parts: list[int]  # part indices, in time order
    # Ordinal of the local date the region's session belongs to: the day it starts, even when it
    # runs past midnight. A bulletin may air in the session iff that day is within its validity.
    day: int = 0
    max_cap: int = 0
    # Priority ordering with kept items: uu_tien only in parts[: uu_max + 1], thuong only in parts[th_min:].
    uu_max: int = 1 << 30
    th_min: int = 0


@dataclass
class KeptItem:
    """An existing item that stays (locked, or starting before now + horizon), as offsets."""

    start: int
    end: int
    kind: str
    bulletin: str | None
    language: str
    priority: Priority


@dataclass
class Problem:
    sessions: list[Session]
    gap: int
    jingle: int
    part_start: list[int] = field(default_factory=list)
    part_end: list[int] = field(default_factory=list)
    part_cap: list[int] = field(default_factory=list)
    part_region: list[int] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)
    session_regions: list[list[int]] = field(default_factory=list)
    session_parts: list[list[int]] = field(default_factory=list)  # all parts of a session, in time order
    open_part: list[int] = field(default_factory=list)  # per session: part holding the opening jingle, or -1
    close_part: list[int] = field(default_factory=list)
    relays: list[list[Relay]] = field(default_factory=list)  # per session: relays to emit
    # Per bulletin code, from kept items: sessions used, and plays per day / half.
    kept_sessions: dict[str, set[int]] = field(default_factory=dict)
    kept_days: dict[str, list[int]] = field(default_factory=dict)
    kept_halves: dict[str, list[int]] = field(default_factory=dict)
    kept_bulletin_sessions: set[int] = field(default_factory=set)
    _starts: list[int] = field(default_factory=list)

    def session_of(self, offset: int) -> int:
        """Index of the session containing `offset`, or -1."""
        if len(self._starts) != len(self.sessions):
            self._starts = [s.start for s in self.sessions]
        i = bisect_right(self._starts, offset) - 1
        if i >= 0 and offset < self.sessions[i].end:
            return i
        return -1


def _free_pieces(session: Session) -> list[tuple[str, list[tuple[int, int]]]]:
    """(language, free intervals) per region of a session, before kept items and the horizon."""
    relays = [(r.start, r.end) for r in session.relays]
    segments = sorted(session.segments, key=lambda g: (g.start, g.end, g.language))
    by_language: dict[str, list[tuple[int, int]]] = {
        session.language: subtract((session.start, session.end), relays + [(g.start, g.end) for g in segments])
    }
    taken = list(relays)
    for segment in segments:
        pieces = subtract((segment.start, segment.end), taken)
        taken.append((segment.start, segment.end))
        by_language.setdefault(segment.language, []).extend(pieces)
    return [(lang, sorted(p)) for lang, p in sorted(by_language.items()) if p]


def build_problem(
    skeleton: Skeleton,
    clock: WeekClock,
    gap: int,
    jingle: int,
    cutoff: int,
    kept: list[KeptItem],
    busy: Sequence[tuple[int, int]] = (),
    now: int | None = None,
) -> Problem:
    """Regions and parts of every session, given the items that stay and the no-change cutoff.

    `busy` are intervals taken by other weeks' programmes (and the previous week's sessions that
    run into this one): nothing is placed there. Relays are emitted unless over at `now` (default:
    the cutoff) or hitting a kept item or a busy interval, so a relay already under way at the first
    plan of a week is kept.
    """
    problem = Problem(skeleton.sessions, gap, jingle)
    holes = sorted([(k.start, k.end) for k in kept] + list(skeleton.spill) + list(busy))
    relays_from = cutoff if now is None else now
    for s_index, session in enumerate(skeleton.sessions):
        regions = _free_pieces(session)
        natural = [piece for _, pieces in regions for piece in pieces]
        first_start = min((a for a, _ in natural), default=session.start)
        last_end = max((b for _, b in natural), default=session.end)
        # The first moment an item may start in a free interval: after the gap that follows a
        # relay, a kept item or a region boundary (none at the session's own start), and never
        # before the cutoff. Parts are stored from that moment on.
        natural_first = first_start + (0 if first_start == session.start else gap)
        region_ids: list[int] = []
        for language, pieces in regions:
            region = Region(s_index, language, [])
            for a, b in pieces:
                for c, d in subtract((a, b), holes):
                    earliest = max(c + (0 if c == session.start else gap), cutoff)
                    if earliest >= d:
                        continue
                    trail = 0 if d == session.end else gap
                    region.parts.append(len(problem.part_start))
                    problem.part_start.append(earliest)
                    problem.part_end.append(d)
                    problem.part_cap.append(part_capacity(earliest, d, trail, gap))
                    problem.part_region.append(len(problem.regions))
            if not region.parts:
                continue
            region_ids.append(len(problem.regions))
            problem.regions.append(region)
        problem.session_regions.append(region_ids)
        parts = sorted((p for r in region_ids for p in problem.regions[r].parts), key=lambda p: problem.part_start[p])
        problem.session_parts.append(parts)
        problem.relays.append([r for r in session.relays if r.end > relays_from and not _hits(r, holes)])
        open_part = close_part = -1
        if jingle > 0 and parts:
            # A jingle only where its moment is still free: not cut by the horizon or a kept item.
            if problem.part_start[parts[0]] == natural_first:
                open_part = parts[0]
            if problem.part_end[parts[-1]] == last_end:
                close_part = parts[-1]
            reserved = [p for p in (open_part, close_part) if p >= 0]
            for p in reserved:
                problem.part_cap[p] -= jingle + gap
            if any(problem.part_cap[p] < 0 for p in reserved):
                # Too short for its jingles: the session airs without them.
                for p in reserved:
                    problem.part_cap[p] += jingle + gap
                open_part = close_part = -1
        problem.open_part.append(open_part)
        problem.close_part.append(close_part)
    for region in problem.regions:
        caps = [problem.part_cap[p] for p in region.parts]
        region.max_cap = max(caps)
        region.day = clock.monday.toordinal() + problem.sessions[region.session].day
    _account_kept(problem, kept)
    return problem


def _hits(relay: Relay, holes: list[tuple[int, int]]) -> bool:
    return any(a < relay.end and relay.start < b for a, b in holes)


def _account_kept(problem: Problem, kept: list[KeptItem]) -> None:
    """Kept bulletins use up their session (once per session) and bound the priority ordering."""
    for item in kept:
        if item.kind != "bulletin" or item.bulletin is None:
            continue
        s_index = problem.session_of(item.start)
        if s_index < 0:
            continue
        problem.kept_bulletin_sessions.add(s_index)
        session = problem.sessions[s_index]
        problem.kept_sessions.setdefault(item.bulletin, set()).add(s_index)
        days = problem.kept_days.setdefault(item.bulletin, [0] * 7)
        days[session.day] += 1
        halves = problem.kept_halves.setdefault(item.bulletin, [0, 0])
        halves[0 if session.morning else 1] += 1
        for r in problem.session_regions[s_index]:
            region = problem.regions[r]
            if region.language != item.language:
                continue
            before = sum(1 for p in region.parts if problem.part_end[p] <= item.start)
            if item.priority == Priority.PRIORITY:
                region.th_min = max(region.th_min, before)
            elif item.priority == Priority.NORMAL:
                region.uu_max = min(region.uu_max, before - 1)
