"""Hand edits to a stored weekly programme: pin, move or remove an item, and rebuild.

Pinned and moved items are `locked`, so the planner keeps them on the next rebuild. Items
inside the no-change horizon (about to air, or aired) are never touched, nor are emergency
plays (they belong to the Phát khẩn cấp page). Each edit bumps the programme's version so
stations fetch it again (scheduler.programmes.store), and is audited in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from scheduler import audit
from scheduler.db.models import ProgrammeItem, User
from scheduler.domain import IsoWeek
from scheduler.programmes import store
from scheduler.programmes.build import BuildResult, build_week


class EditRefused(ValueError):
    """Why the edit cannot be made (Vietnamese)."""


@dataclass(frozen=True)
class Horizon:
    now: datetime
    minutes: int
    tz: ZoneInfo

    def local(self, value: datetime) -> str:
        return f"{value.astimezone(self.tz):%H:%M %d/%m/%Y}"

    @property
    def limit(self) -> datetime:
        """Items starting before this instant are no longer changed."""
        return self.now + timedelta(minutes=self.minutes)


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
    if item.start < horizon.limit:
        raise EditRefused(
            f"Mục «{item.title or item.kind}» phát lúc {horizon.local(item.start)}, đã phát hoặc sắp phát trong "
            f"{horizon.minutes} phút tới; không thể thay đổi nữa."
        )


def set_pinned(db: Session, item: ProgrammeItem, pinned: bool, user: User | None, horizon: Horizon) -> None:
    """Pin (lock) an item in place so rebuilds keep it, or release it to the planner."""
    _check_editable(item, horizon)
    if item.locked == pinned:
        return
    before = describe(item)
    programme = item.programme
    store.set_locked(programme, item, pinned, horizon.now)
    db.flush()
    action = "programme.pin" if pinned else "programme.unpin"
    audit.record(db, horizon.now, user, action, "programme", programme.id, before, describe(item))


def move_item(db: Session, item: ProgrammeItem, start: datetime, user: User | None, horizon: Horizon) -> None:
    """Move an item to `start` (aware) within its week, keeping its length; the item becomes pinned."""
    _check_editable(item, horizon)
    programme = item.programme
    start = start.astimezone(UTC)
    if start < horizon.limit:
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
    other = store.clash(db, programme, start, end, ignore=item)
    if other is not None:
        raise EditRefused(
            f"Giờ mới {horizon.local(start)}–{end.astimezone(horizon.tz):%H:%M} trùng với "
            f"«{other.title or other.kind}» ({horizon.local(other.start)}). Hãy chọn giờ khác."
        )
    before = describe(item)
    store.move(programme, item, start, horizon.now)
    db.flush()
    audit.record(db, horizon.now, user, "programme.move", "programme", programme.id, before, describe(item))


def remove_item(db: Session, item: ProgrammeItem, user: User | None, horizon: Horizon) -> None:
    """Take an item out of the programme (a later rebuild may place the bulletin again elsewhere)."""
    _check_editable(item, horizon)
    programme = item.programme
    before = describe(item)
    store.remove(programme, item, horizon.now)
    db.flush()
    audit.record(db, horizon.now, user, "programme.remove", "programme", programme.id, before, None)


def rebuild(
    db: Session, week: IsoWeek, station_codes: Sequence[str], user: User | None, horizon: Horizon
) -> BuildResult:
    """Plan `week` again for the given stations (build_week), keeping pinned items."""
    result = build_week(db, week, horizon.now, horizon.tz, horizon_minutes=horizon.minutes,
                        station_codes=list(station_codes))  # fmt: skip
    audit.record(
        db, horizon.now, user, "programme.rebuild", "programme", str(week),
        None, {"week": str(week), "stations": list(station_codes), "changed": sorted(result.changed)},
    )  # fmt: skip
    return result
