"""Turn a station's weekly windows into the concrete sessions of one ISO week, applying the policy.

Times are integer milliseconds from the week's start instant (Monday 00:00 local, as UTC); all
wall-clock arithmetic goes through the zone, so a zone with DST would still be right.
Policy, in this order: holiday replacement windows, quiet hours (clip, keep the longest piece),
max_session_minutes (truncate), max_sessions_per_day (keep the earliest). See docs/planner.md.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.domain import DAY_LABELS, IsoWeek, Policy, WeeklyWindow

MS = timedelta(milliseconds=1)


@dataclass(frozen=True)
class PlannedBlock:
    """A concrete relay or language segment inside a session (UTC instants)."""

    kind: str  # "relay" | "segment"
    start: datetime
    end: datetime
    language: str
    stream_url: str | None = None
    label: str = ""


@dataclass(frozen=True)
class PlannedSession:
    """One concrete broadcast session of a station's week, after the policy was applied."""

    day: date  # the local date the session belongs to (the day it starts)
    start: datetime  # aware, UTC
    end: datetime
    language: str
    morning: bool  # starts before 12:00 local
    blocks: tuple[PlannedBlock, ...] = ()


@dataclass
class Relay:
    start: int
    end: int
    stream_url: str
    label: str
    language: str


@dataclass
class Segment:
    start: int
    end: int
    language: str
    label: str


@dataclass
class Session:
    """A concrete session in milliseconds from the week start."""

    day: int  # 0 = Monday of the planned week
    start: int
    end: int
    language: str
    morning: bool
    relays: list[Relay] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)


class WeekClock:
    """Conversions between local wall-clock times of one ISO week and millisecond offsets."""

    def __init__(self, week: IsoWeek, tz: ZoneInfo) -> None:
        self.week = week
        self.tz = tz
        self.monday = week.monday()
        self.start_utc = datetime.combine(self.monday, time(0), tzinfo=tz).astimezone(UTC)
        # Local midnights from the Sunday before to the Wednesday after, for date look-ups.
        self._first_day = -1
        self._midnights = [self.ms(self.monday + timedelta(days=k), time(0)) for k in range(-1, 10)]
        # offset -> instant, filled by `instant`; read directly in loops over a whole plan's items
        self.instants: dict[int, datetime] = {}

    def ms(self, day: date, at: time) -> int:
        instant = datetime.combine(day, at, tzinfo=self.tz).astimezone(UTC)
        return (instant - self.start_utc) // MS

    def ms_of(self, instant: datetime) -> int:
        return (instant - self.start_utc) // MS

    def instant(self, offset: int) -> datetime:
        """The UTC instant at `offset`; cached so equal offsets share one datetime object."""
        found = self.instants.get(offset)
        if found is None:
            found = self.start_utc + timedelta(milliseconds=offset)
            self.instants[offset] = found
        return found

    def day_index(self, offset: int) -> int:
        """Local day of an offset, 0 = Monday of the week (may be -1 or 7+ at the edges)."""
        return bisect_right(self._midnights, offset) - 1 + self._first_day

    def date_of(self, offset: int) -> date:
        return self.monday + timedelta(days=self.day_index(offset))

    def local(self, offset: int) -> datetime:
        return self.instant(offset).astimezone(self.tz)


def _quiet_intervals(policy: Policy, clock: WeekClock) -> list[tuple[int, int]]:
    """Nightly quiet periods, from quiet_after to the next quiet_before, covering the week and its edges."""
    if policy.quiet_before is None and policy.quiet_after is None:
        return []
    after_s = 86400 if policy.quiet_after is None else _seconds(policy.quiet_after)
    before_s = 0 if policy.quiet_before is None else _seconds(policy.quiet_before)
    length = (before_s - after_s) % 86400
    if length == 0:
        return []
    quiet: list[tuple[int, int]] = []
    for k in range(-2, 9):
        begin = datetime.combine(clock.monday + timedelta(days=k), time(0)) + timedelta(seconds=after_s)
        end = begin + timedelta(seconds=length)
        quiet.append((clock.ms(begin.date(), begin.time()), clock.ms(end.date(), end.time())))
    return quiet


def _seconds(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def subtract(interval: tuple[int, int], holes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """`interval` minus the `holes`, as sorted disjoint pieces of positive length."""
    pieces = [interval]
    for h0, h1 in sorted(holes):
        nxt: list[tuple[int, int]] = []
        for a, b in pieces:
            if h1 <= a or b <= h0:
                nxt.append((a, b))
                continue
            if a < h0:
                nxt.append((a, h0))
            if h1 < b:
                nxt.append((h1, b))
        pieces = nxt
    return pieces


@dataclass
class Skeleton:
    """A station's concrete sessions for the week plus notes on what the policy removed.

    `spill` holds the previous week's sessions that run past its last midnight into this week
    (a session belongs to the week of the day it starts): nothing of this week may air there.
    """

    sessions: list[Session]
    notes: list[str]
    spill: list[tuple[int, int]] = field(default_factory=list)


def _describe(clock: WeekClock, start: int, end: int) -> str:
    local_start = clock.local(start)
    local_end = clock.local(end)
    return f"{DAY_LABELS[local_start.weekday()]} {local_start:%d/%m/%Y} {local_start:%H:%M}–{local_end:%H:%M}"


def build_sessions(
    windows: tuple[WeeklyWindow, ...], languages: tuple[str, ...], policy: Policy, clock: WeekClock
) -> Skeleton:
    """The week's sessions for one station's windows, languages and policy."""
    default_language = languages[0] if languages else "vi"
    notes: list[str] = []
    sessions: list[Session] = []
    blocks: list[tuple[int, int, int, WeeklyWindow]] = []
    for index in range(7):
        day = clock.monday + timedelta(days=index)
        todays = policy.holidays[day] if day in policy.holidays else tuple(w for w in windows if index in w.days)
        for window in todays:
            start = clock.ms(day, window.start)
            end_day = day + timedelta(days=1) if window.crosses_midnight else day
            end = clock.ms(end_day, window.end)
            if end <= start:
                continue
            if window.kind == "session":
                morning = window.start < time(12)
                sessions.append(Session(index, start, end, window.language or default_language, morning))
            else:
                blocks.append((start, end, index, window))
    sessions.sort(key=lambda s: (s.start, s.end))
    sessions = _merge(sessions, clock, notes)
    for start, end, index, window in sorted(blocks, key=lambda b: (b[0], b[1], b[3].kind)):
        host = next((s for s in sessions if s.start <= start < s.end), None)
        if host is None:
            language = window.language if window.kind == "segment" and window.language else default_language
            host = Session(index, start, end, language, window.start < time(12))
            sessions.append(host)
            sessions.sort(key=lambda s: (s.start, s.end))
        host.end = max(host.end, end)
        if window.kind == "relay":
            host.relays.append(
                Relay(start, end, window.stream_url or "", window.label, window.language or host.language)
            )
        else:
            host.segments.append(Segment(start, end, window.language or host.language, window.label))
        sessions = _merge(sessions, clock, notes)
    return Skeleton(_apply_policy(sessions, policy, clock, notes), notes)


def spill_into(skeleton: Skeleton, previous: Skeleton, previous_clock: WeekClock, clock: WeekClock) -> None:
    """Record the previous week's sessions that run into this week as `skeleton.spill`, and note the
    sessions of this week that lose their start to them."""
    spill = [
        (clock.ms_of(previous_clock.instant(s.start)), clock.ms_of(previous_clock.instant(s.end)))
        for s in previous.sessions
    ]
    skeleton.spill = [(a, b) for a, b in spill if b > 0]
    for a, b in skeleton.spill:
        for session in skeleton.sessions:
            if session.start < b and a < session.end:
                skeleton.notes.append(
                    f"Buổi phát {_describe(clock, session.start, session.end)} trùng phần cuối buổi phát "
                    f"{_describe(clock, a, b)} của tuần trước (buổi phát thuộc ngày bắt đầu); phần trùng để trống."
                )


def _merge(sessions: list[Session], clock: WeekClock, notes: list[str]) -> list[Session]:
    """Merge overlapping sessions (the earlier one's day and language win) so items can never overlap.

    Station input refuses overlapping windows (planning.windows.check_windows); holiday windows, or
    rows stored before that check, may still overlap, so each merge is noted for the operator.
    """
    merged: list[Session] = []
    for session in sessions:
        if merged and session.start < merged[-1].end:
            last = merged[-1]
            lost = (
                f"; buổi gộp phát bằng ngôn ngữ «{last.language}» của buổi đầu, ngôn ngữ «{session.language}» "
                "của buổi sau không được dùng"
                if session.language != last.language
                else ""
            )
            notes.append(
                f"Buổi phát {_describe(clock, session.start, session.end)} trùng giờ với buổi phát "
                f"{_describe(clock, last.start, last.end)} nên được gộp làm một{lost}. "
                "Hãy sửa khung giờ để chúng không chồng lên nhau."
            )
            last.end = max(last.end, session.end)
            last.relays.extend(session.relays)
            last.segments.extend(session.segments)
        else:
            merged.append(session)
    return merged


def _apply_policy(sessions: list[Session], policy: Policy, clock: WeekClock, notes: list[str]) -> list[Session]:
    quiet = _quiet_intervals(policy, clock)
    kept: list[Session] = []
    for session in sessions:
        _drop_clashing_relays(session, clock, notes)
        pieces = subtract((session.start, session.end), quiet)
        if not pieces:
            notes.append(f"Bỏ buổi phát {_describe(clock, session.start, session.end)} vì nằm trong giờ yên tĩnh.")
            continue
        start, end = max(pieces, key=lambda p: (p[1] - p[0], -p[0]))
        if (start, end) != (session.start, session.end):
            notes.append(
                f"Cắt buổi phát {_describe(clock, session.start, session.end)} còn "
                f"{_describe(clock, start, end)} theo giờ yên tĩnh."
            )
        _clip(session, start, end, clock, notes, "giờ yên tĩnh")
        if policy.max_session_minutes is not None:
            limit = session.start + policy.max_session_minutes * 60_000
            if session.end > limit:
                notes.append(
                    f"Rút buổi phát {_describe(clock, session.start, session.end)} xuống "
                    f"{policy.max_session_minutes} phút theo quy định."
                )
                _clip(session, session.start, limit, clock, notes, "giới hạn độ dài buổi phát")
        kept.append(session)
    if policy.max_sessions_per_day is not None:
        per_day: dict[int, int] = {}
        limited: list[Session] = []
        for session in kept:
            count = per_day.get(session.day, 0)
            if count >= policy.max_sessions_per_day:
                notes.append(
                    f"Bỏ buổi phát {_describe(clock, session.start, session.end)} vì vượt "
                    f"{policy.max_sessions_per_day} buổi/ngày."
                )
                continue
            per_day[session.day] = count + 1
            limited.append(session)
        kept = limited
    return kept


def _drop_clashing_relays(session: Session, clock: WeekClock, notes: list[str]) -> None:
    """Two relays cannot air at once: the earlier-starting one wins."""
    relays: list[Relay] = []
    for relay in sorted(session.relays, key=lambda r: (r.start, r.end, r.stream_url)):
        if relays and relay.start < relays[-1].end:
            notes.append(f"Bỏ khối tiếp sóng {_describe(clock, relay.start, relay.end)} vì trùng khối tiếp sóng khác.")
            continue
        relays.append(relay)
    session.relays = relays


def _clip(session: Session, start: int, end: int, clock: WeekClock, notes: list[str], why: str) -> None:
    """Clip a session to [start, end); relays that no longer fit whole are dropped, segments clipped."""
    session.start, session.end = start, end
    relays: list[Relay] = []
    for relay in session.relays:
        if start <= relay.start and relay.end <= end:
            relays.append(relay)
        else:
            notes.append(f"Bỏ khối tiếp sóng {_describe(clock, relay.start, relay.end)} vì {why}.")
    session.relays = relays
    segments: list[Segment] = []
    for segment in session.segments:
        s0, s1 = max(segment.start, start), min(segment.end, end)
        if s0 < s1:
            segments.append(Segment(s0, s1, segment.language, segment.label))
    session.segments = segments


def planned_sessions(skeleton: Skeleton, clock: WeekClock) -> tuple[PlannedSession, ...]:
    """The public, datetime form of a skeleton's sessions."""
    slots: list[PlannedSession] = []
    for s in skeleton.sessions:
        blocks = [
            PlannedBlock("relay", clock.instant(r.start), clock.instant(r.end), r.language, r.stream_url, r.label)
            for r in s.relays
        ] + [
            PlannedBlock("segment", clock.instant(g.start), clock.instant(g.end), g.language, None, g.label)
            for g in s.segments
        ]
        blocks.sort(key=lambda b: (b.start, b.kind))
        slots.append(
            PlannedSession(
                clock.monday + timedelta(days=s.day),
                clock.instant(s.start),
                clock.instant(s.end),
                s.language,
                s.morning,
                tuple(blocks),
            )
        )
    return tuple(slots)
