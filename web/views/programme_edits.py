"""Hand edits to a stored weekly programme: pin, move or remove an item, and rebuild.

Pinned and moved items are `locked`, so the planner keeps them on the next rebuild. Items
inside the no-change horizon (about to air, or aired) are never touched, nor are emergency
plays (they belong to the Phát khẩn cấp page). Each edit bumps the programme's version so
stations fetch it again, and is audited in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from scheduler import audit
from scheduler.db.models import Programme, ProgrammeItem, User
from scheduler.domain import IsoWeek
from scheduler.programmes import BuildResult, _planned, build_week, items_hash


class EditRefused(ValueError):
    """Why the edit cannot be made (Vietnamese)."""


@dataclass(frozen=True)
class Horizon:
    now: datetime
    minutes: int
    tz: ZoneInfo

    def local(self, value: datetime) -> str:
        return f"{value.astimezone(self.tz):%H:%M %d/%m/%Y}"


def describe(item: ProgrammeItem) -> dict[str, Any]:
    return {
        "item": item.id,
        "start": item.start.isoformat(),
        "end": item.end.isoformat(),
        "kind": item.kind,
        "bulletin": item.bulletin_code,
        "title": item.title,
        "locked": item.locked,
    }


def _check_editable(item: ProgrammeItem, horizon: Horizon) -> None:
    if item.kind == "emergency":
        raise EditRefused("Mục phát khẩn cấp chỉ thay đổi được ở trang Phát khẩn cấp (hủy lệnh khẩn cấp).")
    limit = horizon.now + timedelta(minutes=horizon.minutes)
    if item.start < limit:
        raise EditRefused(
            f"Mục «{item.title or item.kind}» phát lúc {horizon.local(item.start)}, đã phát hoặc sắp phát trong "
            f"{horizon.minutes} phút tới; không thể thay đổi nữa."
        )


def _bump(programme: Programme, now: datetime) -> None:
    programme.items.sort(key=lambda i: i.start)
    programme.version += 1
    programme.built_at = now
    programme.content_hash = items_hash([_planned(i, programme.station.code) for i in programme.items])


def set_pinned(db: Session, item: ProgrammeItem, pinned: bool, user: User, horizon: Horizon) -> None:
    """Pin (lock) an item in place so rebuilds keep it, or release it to the planner."""
    _check_editable(item, horizon)
    if item.locked == pinned:
        return
    before = describe(item)
    item.locked = pinned
    programme = item.programme
    _bump(programme, horizon.now)
    db.flush()
    action = "programme.pin" if pinned else "programme.unpin"
    audit.record(db, horizon.now, user, action, "programme", programme.id, before, describe(item))


def move_item(db: Session, item: ProgrammeItem, start: datetime, user: User, horizon: Horizon) -> None:
    """Move an item to `start` (aware) within its week, keeping its length; the item becomes pinned."""
    _check_editable(item, horizon)
    programme = item.programme
    start = start.astimezone(UTC)
    limit = horizon.now + timedelta(minutes=horizon.minutes)
    if start < limit:
        raise EditRefused(
            f"Giờ mới {horizon.local(start)} đã qua hoặc nằm trong {horizon.minutes} phút tới. Hãy chọn giờ muộn hơn."
        )
    week = IsoWeek.parse(programme.week)
    days = week.days()
    if not days[0] <= start.astimezone(horizon.tz).date() <= days[-1]:
        raise EditRefused(
            f"Giờ mới {horizon.local(start)} nằm ngoài tuần {programme.week} "
            f"({days[0]:%d/%m}–{days[-1]:%d/%m}). Chỉ dời được trong cùng tuần."
        )
    end = start + (item.end - item.start)
    clash = next((o for o in programme.items if o.id != item.id and o.start < end and start < o.end), None)
    if clash is not None:
        raise EditRefused(
            f"Giờ mới {horizon.local(start)}–{end.astimezone(horizon.tz):%H:%M} trùng với "
            f"«{clash.title or clash.kind}» ({horizon.local(clash.start)}). Hãy chọn giờ khác."
        )
    before = describe(item)
    item.start, item.end, item.locked = start, end, True
    _bump(programme, horizon.now)
    db.flush()
    audit.record(db, horizon.now, user, "programme.move", "programme", programme.id, before, describe(item))


def remove_item(db: Session, item: ProgrammeItem, user: User, horizon: Horizon) -> None:
    """Take an item out of the programme (a later rebuild may place the bulletin again elsewhere)."""
    _check_editable(item, horizon)
    programme = item.programme
    before = describe(item)
    programme.items.remove(item)
    _bump(programme, horizon.now)
    db.flush()
    audit.record(db, horizon.now, user, "programme.remove", "programme", programme.id, before, None)


def rebuild(
    db: Session, week: IsoWeek, station_codes: Sequence[str], user: User, horizon: Horizon
) -> list[BuildResult]:
    """Plan `week` again for the given stations (scheduler.programmes.build_week), keeping pinned items."""
    results = [
        build_week(db, week, horizon.now, horizon.tz, horizon_minutes=horizon.minutes, station_code=code)
        for code in station_codes
    ]
    changed = sorted(code for r in results for code in r.changed)
    audit.record(
        db, horizon.now, user, "programme.rebuild", "programme", str(week),
        None, {"week": str(week), "stations": list(station_codes), "changed": changed},
    )  # fmt: skip
    return results
