"""Why a week's programme is what it is: plays planned against each bulletin's weekly quota, and why short.

Both the CLI (`loaxa programme explain`) and the station's week page read a dry run
(scheduler.programmes.build.dry_run: no locks, no writes) and word its shortfalls with
scheduler.planning.shortfalls. Bulletins still waiting for their audio are listed too: the
planner never sees them. While a rebuild is pending the page must not claim all is placed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from scheduler.db.models import Station
from scheduler.domain import IsoWeek
from scheduler.planning.shortfalls import explain
from scheduler.programmes.build import dry_run
from scheduler.programmes.inputs import targets_station, week_bulletins

NO_AUDIO = "Bản tin đã duyệt nhưng chưa có âm thanh (đang chờ tạo ở chế độ nền); chưa thể xếp lịch."


def explain_week(
    session: Session, week: IsoWeek, now: datetime, tz: ZoneInfo, horizon_minutes: int,
    station_code: str | None = None,
) -> list[dict[str, Any]]:
    """One row per targeted (station, bulletin): station, bulletin, title, quota, planned, codes, reasons."""
    result = dry_run(session, week, now, tz, horizon_minutes, [station_code] if station_code else None)
    assert result.plan is not None and result.request is not None
    plan, request = result.plan, result.request
    rows = []
    for station in sorted(s.code for s in request.stations):
        for bulletin in sorted(request.bulletins, key=lambda b: b.code):
            if station in bulletin.stations:
                rows.extend(explain(plan, request, station=station, bulletin=bulletin.code))
    return rows


def format_rows(rows: list[dict[str, Any]]) -> str:
    """A plain-text table for a terminal, in Vietnamese."""
    if not rows:
        return "Không có bản tin nào được xếp cho tuần này (chưa có bản tin đã duyệt, có âm thanh, còn hiệu lực)."
    lines = []
    short = sum(1 for r in rows if r["planned"] < r["quota"])
    for row in rows:
        mark = "THIẾU" if row["planned"] < row["quota"] else "đủ"
        lines.append(
            f"{row['station']:<16} {row['bulletin']:<14} {row['planned']:>3}/{row['quota']:<3} {mark:<5} "
            f"{row['title']}"
        )
        if row["planned"] < row["quota"]:
            lines.append(f"{'':<16} ↳ {row['reasons']}")
    lines.append(f"Tổng: {len(rows)} cặp đài–bản tin, {short} cặp thiếu lượt phát.")
    return "\n".join(lines)


@dataclass(frozen=True)
class UnplacedRow:
    code: str
    title: str
    quota: int
    planned: int
    reasons: tuple[str, ...]


@dataclass
class Unplaced:
    rows: list[UnplacedRow] = field(default_factory=list)
    unavailable: str | None = None  # why the analysis could not run
    pending: bool = False  # the stored programme is older than its inputs: a rebuild is due

    @property
    def all_placed(self) -> bool:
        """The page may say every targeted bulletin got all its plays."""
        return not self.rows and self.unavailable is None and not self.pending


def unplaced_for(
    session: Session, station: Station, week: IsoWeek, now: datetime, tz: ZoneInfo, horizon_minutes: int = 30
) -> Unplaced:
    """Shortfalls of a dry-run plan of `week` for `station`, approved bulletins with no audio yet,
    and whether the stored programme still waits for a rebuild."""
    result = Unplaced()
    for bulletin in session.scalars(week_bulletins(week, rendered=False)):
        if targets_station(bulletin.targets, station):
            result.rows.append(UnplacedRow(bulletin.code, bulletin.title, bulletin.plays_per_week, 0, (NO_AUDIO,)))
    try:
        run = dry_run(session, week, now, tz, horizon_minutes, [station.code])
    except ValueError as exc:
        result.unavailable = f"Chưa phân tích được: {exc}"
        return result
    assert run.plan is not None and run.request is not None
    result.pending = station.code in run.stale
    for row in explain(run.plan, run.request, station=station.code):
        result.rows.append(UnplacedRow(row["bulletin"], row["title"], row["quota"], row["planned"], (row["reasons"],)))
    return result
