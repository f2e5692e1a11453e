"""The planner's input and output."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.domain import BulletinInput, IsoWeek, PlannedItem, Shortfall, StationInput
from scheduler.planning.timeline import PlannedSession


@dataclass(frozen=True)
class PlanRequest:
    week: IsoWeek
    stations: Sequence[StationInput]
    bulletins: Sequence[BulletinInput]
    now: datetime  # aware; items starting before now + horizon are never changed
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))
    # The current programme per station code: locked (pinned) items survive, and items
    # inside the no-change horizon are kept as they are.
    existing: Mapping[str, Sequence[PlannedItem]] = field(default_factory=dict)
    horizon: timedelta = timedelta(minutes=30)
    # Items of the weeks before and after, per station code, that reach into this week's span (a
    # Sunday session runs past midnight): the plan never overlaps them, whatever changed since.
    neighbours: Mapping[str, Sequence[PlannedItem]] = field(default_factory=dict)
    # Local-search steps per group of identical stations; None = automatic (see docs/planner.md):
    # up to 300, fewer when there are many groups, so a national plan stays within its time budget.
    search_steps: int | None = None


@dataclass
class Plan:
    items: dict[str, list[PlannedItem]]  # station code -> items sorted by start
    shortfalls: list[Shortfall]
    planned_counts: dict[tuple[str, str], int] = field(default_factory=dict)  # (station, bulletin)
    # The concrete sessions (after the policy) per station code; stations with equal windows share one tuple.
    sessions: dict[str, tuple[PlannedSession, ...]] = field(default_factory=dict)
    # Vietnamese notes for operators: sessions cut by quiet hours, relays dropped, and so on.
    notes: list[str] = field(default_factory=list)
