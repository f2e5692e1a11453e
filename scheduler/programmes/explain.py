"""Why a week's programme is what it is: plays planned against each bulletin's weekly quota, and why short.

Both the CLI (`loaxa programme explain`) and the station's week page read a dry run
(scheduler.programmes.build.dry_run: no locks, no writes) and word its shortfalls with
scheduler.planning.shortfalls. Bulletins still waiting for their audio are listed too, and so are
bulletins from above that a station's commune declined or has not chosen yet (TT 39,
scheduler.commune_choice): the planner never sees them there. While a rebuild is pending the page
must not claim all is placed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from scheduler.commune_choice import held_back
from scheduler.db.models import Station
from scheduler.domain import IsoWeek
from scheduler.planning.shortfalls import explain
from scheduler.programmes.build import dry_run
from scheduler.programmes.inputs import load_stations, target_codes, targets_station, week_bulletins

NO_AUDIO = "Bản tin đã duyệt nhưng chưa có âm thanh (đang chờ tạo ở chế độ nền); chưa thể xếp lịch."
HELD_CODE = "commune_choice"


def held_rows(
    session: Session, week: IsoWeek, stations: list[Station], tz: ZoneInfo
) -> dict[str, list[dict[str, Any]]]:
    """Per station code, rows for the week's bulletins its commune keeps off it (declined, or not chosen yet)."""
    bulletins = list(session.scalars(week_bulletins(week, rendered=True)))
    targeted = {b.id: target_codes(b.targets, stations) for b in bulletins}
    by_id = {b.id: b for b in bulletins}
    out: dict[str, list[dict[str, Any]]] = {}
    for (bulletin_id, code), held in sorted(held_back(session, bulletins, stations, targeted).items(),
                                            key=lambda kv: (kv[0][1], by_id[kv[0][0]].code)):
        b = by_id[bulletin_id]
        out.setdefault(code, []).append({
            "station": code, "bulletin": b.code, "title": b.title, "quota": b.plays_per_week, "planned": 0,
            "codes": (HELD_CODE, held.choice.value), "reasons": held.reason(tz),
        })  # fmt: skip
    return out


def held_in_commune(session: Session, week: IsoWeek, stations: list[Station], tz: ZoneInfo) -> list[dict[str, Any]]:
    """The week's bulletins from above a commune keeps off its `stations` (declined, or not chosen yet), once
    each: bulletin, title, reasons and the codes of the stations it is kept off."""
    merged: dict[str, dict[str, Any]] = {}
    for rows in held_rows(session, week, stations, tz).values():
        for row in rows:
            entry = merged.setdefault(row["bulletin"], {"bulletin": row["bulletin"], "title": row["title"],
                                                        "reasons": row["reasons"], "stations": []})
            entry["stations"].append(row["station"])
    return [dict(entry, stations=sorted(entry["stations"])) for _, entry in sorted(merged.items())]


def explain_week(
    session: Session, week: IsoWeek, now: datetime, tz: ZoneInfo, horizon_minutes: int,
    station_code: str | None = None,
) -> list[dict[str, Any]]:
    """One row per targeted (station, bulletin): station, bulletin, title, quota, planned, codes, reasons."""
    result = dry_run(session, week, now, tz, horizon_minutes, [station_code] if station_code else None)
    assert result.plan is not None and result.request is not None
    plan, request = result.plan, result.request
    held = held_rows(session, week, load_stations(session, station_code), tz)
    rows = []
    for station in sorted(s.code for s in request.stations):
        for bulletin in sorted(request.bulletins, key=lambda b: b.code):
            if station in bulletin.stations:
                rows.extend(explain(plan, request, station=station, bulletin=bulletin.code))
        rows.extend(held.get(station, []))
    return rows


def format_rows(rows: list[dict[str, Any]]) -> str:
    """A plain-text table for a terminal, in Vietnamese."""
    if not rows:
        return "Không có bản tin nào được xếp cho tuần này (chưa có bản tin đã duyệt, có âm thanh, còn hiệu lực)."
    lines = []
    held = [r for r in rows if HELD_CODE in r["codes"]]
    short = sum(1 for r in rows if r["planned"] < r["quota"] and r not in held)
    for row in rows:
        mark = "THIẾU" if row["planned"] < row["quota"] else "đủ"
        if row in held:
            mark = "XÃ TỪ CHỐI" if "khong" in row["codes"] else "CHỜ XÃ"
        lines.append(
            f"{row['station']:<16} {row['bulletin']:<14} {row['planned']:>3}/{row['quota']:<3} {mark:<10} "
            f"{row['title']}"
        )
        if row["planned"] < row["quota"]:
            lines.append(f"{'':<16} ↳ {row['reasons']}")
    total = f"Tổng: {len(rows)} cặp đài–bản tin, {short} cặp thiếu lượt phát"
    lines.append(total + (f", {len(held)} cặp xã không phát hoặc chưa chọn (Thông tư 39)." if held else "."))
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
    for row in held_rows(session, week, [station], tz).get(station.code, []):
        result.rows.append(UnplacedRow(row["bulletin"], row["title"], row["quota"], 0, (row["reasons"],)))
    for row in explain(run.plan, run.request, station=station.code):
        result.rows.append(UnplacedRow(row["bulletin"], row["title"], row["quota"], row["planned"], (row["reasons"],)))
    return result
