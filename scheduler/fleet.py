"""The fleet at a glance: each station's map state, last contacts, what it plays now and today's tally.

One home for "what colour is this station on the map", shared by the map page (Bản đồ) and the open
read API. It decides nothing of its own about liveness or items: online/offline comes from
scheduler.liveness and each item's fate from scheduler.item_states; this module only combines them.

A station's state, first rule that holds:
1. **mat_ket_noi** — offline (scheduler.liveness.is_online is false);
2. **dang_phat** — the box reports it is playing, or an item of its programme is on air now;
3. **bo_lo_hom_nay** — an item of today (local day) was missed;
4. **truc_tuyen** — online, nothing of the above.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, contains_eager, selectinload

from scheduler.db.models import Area, Commune, Programme, ProgrammeItem, Station
from scheduler.item_states import ItemState, Verdict, load_states
from scheduler.liveness import CONTACT_COLUMNS, is_online, last_contact

# Stations whose items are judged in one go: keeps the play-log query's IN lists well under
# SQLite's bound-parameter limit however large the fleet.
CHUNK = 400


class MapState(enum.StrEnum):
    OFFLINE = "mat_ket_noi"
    PLAYING = "dang_phat"
    MISSED = "bo_lo_hom_nay"
    ONLINE = "truc_tuyen"

    @property
    def label(self) -> str:
        return MAP_STATE_LABELS[self]


MAP_STATE_LABELS: dict[MapState, str] = {
    MapState.OFFLINE: "Mất kết nối",
    MapState.PLAYING: "Đang phát",
    MapState.MISSED: "Bỏ lỡ hôm nay",
    MapState.ONLINE: "Trực tuyến",
}
CONTACT_LABELS: dict[str, str] = {
    "manifest": "Nhận lịch",
    "status": "Báo trạng thái",
    "log": "Gửi nhật ký phát",
}


@dataclass(frozen=True)
class NowPlaying:
    title: str
    kind: str
    since: datetime | None
    source: str  # "box": the agent's own report · "schedule": the programme item on air now


@dataclass
class Today:
    """Items of the station's programme starting on the local day, by what became of them."""

    planned: int = 0
    aired: int = 0
    missed: int = 0
    upcoming: int = 0


@dataclass
class Glance:
    station_id: int
    code: str
    name: str
    commune: str
    area: str
    lat: float | None
    lon: float | None
    speakers: int
    active: bool
    online: bool
    state: MapState
    last_contact: datetime | None
    contacts: dict[str, datetime | None]  # manifest | status | log
    now_playing: NowPlaying | None
    today: Today = field(default_factory=Today)

    @property
    def has_position(self) -> bool:
        return self.lat is not None and self.lon is not None


def map_state(online: bool, playing: bool, missed_today: int) -> MapState:
    """The rule of the module docstring, on plain facts."""
    if not online:
        return MapState.OFFLINE
    if playing:
        return MapState.PLAYING
    if missed_today:
        return MapState.MISSED
    return MapState.ONLINE


def local_day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def _box_playing(station: Station, online: bool) -> NowPlaying | None:
    """What the agent said it plays in its latest status; only believed while the station is online."""
    status = station.status or {}
    playing = status.get("playing")
    if not online or not isinstance(playing, dict) or not playing.get("title"):
        return None
    since: datetime | None = None
    if isinstance(playing.get("since"), str):
        try:
            since = datetime.fromisoformat(playing["since"].replace("Z", "+00:00"))
        except ValueError:
            since = None
    return NowPlaying(str(playing["title"])[:300], str(playing.get("kind") or ""), since, "box")


ON_AIR_STATES = frozenset({ItemState.ON_AIR, ItemState.AIRED, ItemState.PARTIAL})


def _tally(items: Sequence[ProgrammeItem], verdicts: dict[int, Verdict], now: datetime
           ) -> tuple[Today, ProgrammeItem | None]:
    today = Today()
    on_air: ProgrammeItem | None = None
    for item in items:
        verdict = verdicts[item.id]
        today.planned += 1
        if verdict.state.aired:
            today.aired += 1
        elif verdict.state == ItemState.MISSED:
            today.missed += 1
        elif verdict.state == ItemState.UPCOMING:
            today.upcoming += 1
        if item.start <= now < item.end and verdict.state in ON_AIR_STATES:
            on_air = item
    return today, on_air


def station_query(where: Iterable[ColumnElement[bool]]) -> Any:
    """Stations with commune and area loaded, limited by `where` (scope and filters), in code order."""
    return (
        select(Station)
        .join(Station.commune)
        .outerjoin(Area, Area.id == Commune.area_id)
        .where(*where)
        .options(selectinload(Station.commune).selectinload(Commune.area))
        .order_by(Station.code)
    )


def glance(
    session: Session, stations: Sequence[Station], now: datetime, tz: ZoneInfo, silent_minutes: int,
) -> list[Glance]:
    """Each station's glance as of `now` (communes loaded); a bounded number of queries per CHUNK stations."""
    day_start, day_end = local_day_bounds(now.astimezone(tz).date(), tz)
    result: list[Glance] = []
    for offset in range(0, len(stations), CHUNK):
        chunk = stations[offset: offset + CHUNK]
        ids = [s.id for s in chunk]
        items = list(
            session.scalars(
                select(ProgrammeItem).join(ProgrammeItem.programme)
                .where(Programme.station_id.in_(ids), ProgrammeItem.start >= day_start, ProgrammeItem.start < day_end)
                .options(contains_eager(ProgrammeItem.programme))
                .order_by(ProgrammeItem.start, ProgrammeItem.id)
            )
        )
        verdicts = load_states(session, items, now)
        per_station: dict[int, list[ProgrammeItem]] = {}
        for item in items:
            per_station.setdefault(item.programme.station_id, []).append(item)
        for station in chunk:
            result.append(_one(station, per_station.get(station.id, []), verdicts, now, silent_minutes))
    return result


def _one(station: Station, items: Sequence[ProgrammeItem], verdicts: dict[int, Verdict], now: datetime,
         silent_minutes: int) -> Glance:
    online = is_online(station, now, silent_minutes)
    today, on_air = _tally(items, verdicts, now)
    playing = _box_playing(station, online)
    if playing is None and on_air is not None:
        playing = NowPlaying(on_air.title, on_air.kind, on_air.start, "schedule")
    commune = station.commune
    return Glance(
        station_id=station.id,
        code=station.code,
        name=station.name,
        commune=commune.name,
        area=commune.area.name if commune.area is not None else "",
        lat=station.lat,
        lon=station.lon,
        speakers=station.speakers or 0,
        active=station.active,
        online=online,
        state=map_state(online, playing is not None, today.missed),
        last_contact=last_contact(station),
        contacts={kind: getattr(station, column) for kind, column in CONTACT_COLUMNS.items()},
        now_playing=playing,
        today=today,
    )
