"""A small fleet for the map and open-API tests: five stations in two communes, one area, one day's items.

The shared clock stands at Monday 23 Nov 2026 05:00 in Hà Nội (22:00 UTC on the 22nd).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from scheduler.db.models import Area, Commune, PlayLog, Programme, ProgrammeItem, Province, Station

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant given as Hà Nội wall-clock time in November 2026, in UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ).astimezone(UTC)


@dataclass
class Fleet:
    stations: dict[str, int]
    communes: dict[str, int]
    areas: dict[str, int]


def _item(session: Session, programme: Programme, start: datetime, minutes: int, title: str,
          kind: str = "bulletin") -> ProgrammeItem:
    item = ProgrammeItem(programme=programme, start=start, end=start + timedelta(minutes=minutes), kind=kind,
                         title=title, duration_ms=minutes * 60000, bulletin_code=None)
    session.add(item)
    session.flush()
    return item


def _played(session: Session, station: Station, item: ProgrammeItem, result: str = "played") -> None:
    session.add(PlayLog(play_id=f"{station.code}-{item.id}", station_id=station.id, station_code=station.code,
                        programme_item_id=item.id, scheduled_start=item.start, actual_start=item.start,
                        actual_end=item.end, played_ms=item.duration_ms, result=result, kind=item.kind,
                        title=item.title, week="2026-W48", received_at=item.end))


def seed_fleet(session: Session, now: datetime) -> Fleet:
    """A: playing by schedule and one aired; B: missed one today; C: offline; D: quiet; E: the box says it plays."""
    province = Province(name="Gia Lai", policy={}, default_windows="T2-CN 05:30-06:30")
    session.add(province)
    session.flush()
    area = Area(province_id=province.id, name="Khu vực Chư Sê")
    session.add(area)
    session.flush()
    ia_der = Commune(province_id=province.id, name="Xã Ia Dêr", area_id=area.id, policy={})
    chu_puh = Commune(province_id=province.id, name="Xã Chư Pưh", policy={})
    session.add_all([ia_der, chu_puh])
    session.flush()
    seen = now - timedelta(minutes=2)
    rows = {
        "A-01": ("Cụm loa thôn Plei", ia_der, 13.95, 108.05, seen, {}),
        "B-01": ("Cụm loa làng Bông", ia_der, 13.97, 108.08, seen, {}),
        "C-01": ("Cụm loa trung tâm Chư Pưh", chu_puh, 13.60, 108.10, now - timedelta(hours=3), {}),
        "D-01": ("Cụm loa chợ", chu_puh, 13.62, 108.12, seen, {}),
        "E-01": ("Cụm loa không tọa độ", chu_puh, None, None, seen,
                 {"playing": {"title": "Thời sự VOV", "kind": "relay", "since": (now - timedelta(minutes=3)).isoformat()}}),
    }
    stations: dict[str, Station] = {}
    for code, (name, commune, lat, lon, contact, status) in rows.items():
        station = Station(code=code, name=name, commune=commune, lat=lat, lon=lon, speakers=4, languages="vi",
                          status=status, last_status_at=contact, last_manifest_at=contact - timedelta(minutes=5))
        session.add(station)
        stations[code] = station
    session.flush()
    built = now - timedelta(days=1)
    programmes = {code: Programme(station=s, week="2026-W48", built_at=built, version=1) for code, s in stations.items()}
    session.add_all(programmes.values())
    session.flush()
    # A: aired at 04:30, on air 04:58-05:08 with no log yet (the clock is 05:00).
    _played(session, stations["A-01"], _item(session, programmes["A-01"], local(23, 4, 30), 5, "Bản tin CCHC sáng"))
    _item(session, programmes["A-01"], local(23, 4, 58), 10, "Tiếp sóng Đài tỉnh", kind="relay")
    _item(session, programmes["A-01"], local(23, 17, 0), 10, "Bản tin chiều")
    # B: 00:10 local is still today although it is the 22nd in UTC; nothing logged, so missed.
    _item(session, programmes["B-01"], local(23, 0, 10), 5, "Bản tin nửa đêm")
    _item(session, programmes["B-01"], local(23, 17, 0), 10, "Bản tin chiều")
    # C: offline, and it missed its morning item too: offline wins.
    _item(session, programmes["C-01"], local(23, 4, 0), 5, "Bản tin sớm")
    # D: its missed item was yesterday (23:50 on the 22nd): not today's business.
    _item(session, programmes["D-01"], local(22, 23, 50), 5, "Bản tin đêm qua")
    _played(session, stations["D-01"], _item(session, programmes["D-01"], local(23, 4, 0), 5, "Bản tin sớm"))
    session.flush()
    return Fleet(
        stations={code: s.id for code, s in stations.items()},
        communes={"Xã Ia Dêr": ia_der.id, "Xã Chư Pưh": chu_puh.id},
        areas={area.name: area.id},
    )
