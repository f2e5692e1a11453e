"""Why a week's programme is what it is: planned plays against each bulletin's weekly quota, per station.

The week is re-planned as a rebuild would do it now, in a transaction that is always rolled back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from scheduler.domain import IsoWeek
from scheduler.planning.explain import explain
from scheduler.programmes import build_week


def explain_week(
    sessions: sessionmaker[Session], week: IsoWeek, now: datetime, tz: ZoneInfo, horizon_minutes: int,
    station_code: str | None = None,
) -> list[dict[str, Any]]:
    """One row per targeted (station, bulletin): station, bulletin, title, quota, planned, codes, reasons."""
    with sessions() as session:
        try:
            result = build_week(session, week, now, tz, horizon_minutes, station_code=station_code)
        finally:
            session.rollback()
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
