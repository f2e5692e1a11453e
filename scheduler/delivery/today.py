"""The operator's day: each station's items of a local day with their live state (scheduler.item_states).

The Hôm nay page and `loaxa playlist today` both read their rows here, so they always agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager

from scheduler.db.models import Programme, ProgrammeItem, Station
from scheduler.domain import DEFAULT_TZ, kind_label
from scheduler.item_states import ItemState, Verdict, load_states


@dataclass(frozen=True)
class DayRow:
    item: ProgrammeItem
    station: Station
    verdict: Verdict
    tz: ZoneInfo

    @property
    def may_answer(self) -> bool:
        """May the operator still say "đã phát" or "không phát được"? Once begun, until someone has answered."""
        state = self.verdict.state
        return state == ItemState.ON_AIR or (state == ItemState.MISSED and not self.verdict.manual)

    def as_json(self) -> dict[str, Any]:
        item = self.item
        return {
            "id": item.id,
            "station": self.station.code,
            "start": item.start.astimezone(self.tz).isoformat(),
            "end": item.end.astimezone(self.tz).isoformat(),
            "title": item.title or kind_label(item.kind),
            "kind": item.kind,
            "bulletin": item.bulletin_code,
            "state": self.verdict.state.value,
            "state_label": self.verdict.label,
            "manual": self.verdict.manual,
            "reason": self.verdict.reason,
            "audio_sha256": item.audio_sha256,
            "stream_url": item.stream_url,
        }


def station_tz(station: Station, fallback: str = DEFAULT_TZ) -> ZoneInfo:
    """The zone of the station's province (its commune and province must be loaded)."""
    return ZoneInfo(station.commune.province.timezone or fallback)


def local_day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return (datetime.combine(day, time(0), tz).astimezone(UTC),
            datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(UTC))


def day_rows(session: Session, stations: Sequence[Station], day: date, now: datetime,
             fallback_tz: str = DEFAULT_TZ) -> list[DayRow]:
    """Every item of `stations` starting on local `day`, in time order, with its verdict (three queries)."""
    if not stations:
        return []
    zones = {s.id: station_tz(s, fallback_tz) for s in stations}
    by_id = {s.id: s for s in stations}
    bounds = [local_day_bounds(day, tz) for tz in set(zones.values())]
    first, last = min(b[0] for b in bounds), max(b[1] for b in bounds)
    items = list(session.scalars(
        select(ProgrammeItem).join(ProgrammeItem.programme)
        .options(contains_eager(ProgrammeItem.programme))
        .where(Programme.station_id.in_(list(by_id)), ProgrammeItem.start >= first, ProgrammeItem.start < last)
        .order_by(ProgrammeItem.start, Programme.station_id, ProgrammeItem.id)
    ).unique())
    items = [i for i in items if i.start.astimezone(zones[i.programme.station_id]).date() == day]
    verdicts = load_states(session, items, now)
    return [DayRow(i, by_id[i.programme.station_id], verdicts[i.id], zones[i.programme.station_id]) for i in items]
