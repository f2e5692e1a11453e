"""The planner's input and output."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.domain import BulletinInput, IsoWeek, PlannedItem, Shortfall, StationInput


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


@dataclass
class Plan:
    items: dict[str, list[PlannedItem]]  # station code -> items sorted by start
    shortfalls: list[Shortfall]
    planned_counts: dict[tuple[str, str], int] = field(default_factory=dict)  # (station, bulletin)
