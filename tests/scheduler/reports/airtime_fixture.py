"""A small province with two weeks of programmes and play logs, and a plain-Python oracle for its figures.

The oracle re-implements the report rules over the fixture rows with dicts and loops (no SQL),
so tests compare two independent computations.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.models import Area, Commune, PlayLog, Programme, ProgrammeItem, Province, Station
from scheduler.db.session import transaction

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# The `clock` fixture: Monday 23 Nov 2026, 05:00 local.
NOW = datetime(2026, 11, 22, 22, 0, tzinfo=UTC)
FIRST_DAY = date(2026, 11, 16)
LAST_DAY = date(2026, 11, 24)

STATIONS = (
    # code, name, commune, area, speakers, lat, lon
    ("IGR-01", "Cụm loa thôn Plei Pông", "Xã Ia Grai", "Khu vực Ia Grai", 6, 13.9912, 107.8105),
    ("IGR-02", "Cụm loa làng Dọch", "Xã Ia Grai", "Khu vực Ia Grai", 3, 13.9801, 107.8233),
    ("ISA-01", "Cụm loa trung tâm xã Ia Sao", "Xã Ia Sao", "Khu vực Ia Grai", 4, 13.9502, 107.9011),
    ("ILY-01", "Cụm loa thủy điện Ia Ly", "Xã Ia Ly", "Khu vực Chư Păh", 5, 14.2203, 107.8409),
    ("PKU-01", "Cụm loa phường Pleiku", "Phường Pleiku", "", 2, 13.9833, 108.0000),
)
TOPIC_CHOICES = ("tthc", "mot_cua", "chinh_phu_so", "dvc_truc_tuyen", "chi_so")
TITLES = {
    "tthc": "Tuyên truyền cải cách thủ tục hành chính năm 2026",
    "mot_cua": "Bộ phận một cửa cấp xã tiếp nhận hồ sơ trực tuyến",
    "chinh_phu_so": "Chuyển đổi số, xây dựng chính quyền số",
    "dvc_truc_tuyen": "Dịch vụ công trực tuyến mức độ 3, 4",
    "chi_so": "Chỉ số PAR INDEX, SIPAS của tỉnh",
}
REASONS = ("mất điện lưới", "mất kết nối 4G, không tải được âm thanh", "bộ khuếch đại lỗi")


def local(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TZ).astimezone(UTC)


def iso_week(day: date) -> str:
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


@dataclass
class World:
    station_ids: dict[str, int] = field(default_factory=dict)
    named_items: dict[str, int] = field(default_factory=dict)  # label -> item id


def _item(programme: Programme, start: datetime, minutes: float, kind: str, **kw: object) -> ProgrammeItem:
    item = ProgrammeItem(start=start, end=start + timedelta(minutes=minutes), kind=kind,
                         duration_ms=int(minutes * 60000), **kw)
    programme.items.append(item)
    return item


def _play(session: Session, station: Station, n: list[int], item: ProgrammeItem | None, **kw: object) -> None:
    n[0] += 1
    scheduled = item.start if item is not None else kw.pop("scheduled_start", None)
    values: dict[str, object] = {
        "play_id": f"p{n[0]:05d}",
        "station_id": station.id,
        "station_code": station.code,
        "commune": station.commune.name,
        "area": station.commune.area.name if station.commune.area else "",
        "programme_item_id": item.id if item is not None else None,
        "kind": item.kind if item is not None else "bulletin",
        "bulletin_code": item.bulletin_code if item is not None else None,
        "title": item.title if item is not None else "",
        "topic": item.topic if item is not None else "",
        "language": item.language if item is not None else "vi",
        "priority": item.priority if item is not None else "thuong",
        "scheduled_start": scheduled,
        "scheduled_ms": item.duration_ms if item is not None else 0,
        "actual_start": scheduled or NOW,
        "played_ms": item.duration_ms if item is not None else 0,
        "result": "played",
        "source": "agent",
        "received_at": NOW,
    }
    values.update(kw)
    session.add(PlayLog(**values))


def build_world(sessions: sessionmaker[Session], seed: int = 47) -> World:
    """Stations, programmes for 16–24 Nov 2026 and play logs up to NOW, with every special case."""
    rng = random.Random(seed)
    world = World()
    counter = [0]
    with transaction(sessions) as s:
        province = Province(name="Gia Lai", policy={})
        s.add(province)
        s.flush()
        areas: dict[str, Area] = {}
        communes: dict[str, Commune] = {}
        stations: list[Station] = []
        for code, name, commune_name, area_name, speakers, lat, lon in STATIONS:
            if area_name and area_name not in areas:
                areas[area_name] = Area(name=area_name, province_id=province.id)
                s.add(areas[area_name])
            if commune_name not in communes:
                communes[commune_name] = Commune(name=commune_name, province=province, policy={},
                                                 area=areas.get(area_name))
            station = Station(code=code, name=name, commune=communes[commune_name], speakers=speakers,
                              lat=lat, lon=lon, status={}, languages="vi;jra" if code == "IGR-01" else "vi")
            s.add(station)
            stations.append(station)
        s.flush()
        world.station_ids = {st.code: st.id for st in stations}
        programmes: dict[tuple[int, str], Programme] = {}

        def programme(station: Station, day: date) -> Programme:
            key = (station.id, iso_week(day))
            if key not in programmes:
                programmes[key] = Programme(station_id=station.id, week=key[1], version=1, built_at=NOW)
                s.add(programmes[key])
            return programmes[key]

        day = FIRST_DAY
        while day <= LAST_DAY:
            for station in stations:
                prog = programme(station, day)
                _item(prog, local(day, 5, 30), 0.5, "jingle", title="Nhạc hiệu")
                _item(prog, local(day, 5, 31), 15, "relay", title="Tiếp sóng thời sự VOV", stream_url="http://x/vov")
                slots = [local(day, 5, 47), local(day, 17, 0), local(day, 17, 10)]
                if station.code == "IGR-01":
                    slots.append(local(day, 17, 20))
                for n, start in enumerate(slots):
                    topic = rng.choice(TOPIC_CHOICES)
                    language = "jra" if n == 3 else "vi"
                    priority = rng.choice(("thuong", "thuong", "uu_tien"))
                    _item(prog, start, rng.choice((3, 4.5, 6)), "bulletin", topic=topic, language=language,
                          priority=priority, title=TITLES[topic], bulletin_code=f"BT-{topic}")
            day += timedelta(days=1)
        s.flush()

        # Random outcomes for every non-jingle item that started before NOW.
        items = s.scalars(
            select(ProgrammeItem).where(ProgrammeItem.kind != "jingle", ProgrammeItem.start < NOW)
            .order_by(ProgrammeItem.start, ProgrammeItem.id)
        ).all()
        by_id = {st.id: st for st in stations}
        for item in items:
            station = by_id[item.programme.station_id]
            roll = rng.random()
            if roll < 0.55:
                _play(s, station, counter, item, actual_start=item.start + timedelta(seconds=2))
            elif roll < 0.65:
                _play(s, station, counter, item, result="partial", played_ms=item.duration_ms // 3,
                      reason="mất điện giữa chừng")
            elif roll < 0.75:
                _play(s, station, counter, item, result="skipped", played_ms=0, reason=rng.choice(REASONS))
            elif roll < 0.80:
                _play(s, station, counter, item, result="failed", played_ms=0, reason="tệp âm thanh hỏng")
            elif roll < 0.88:
                _play(s, station, counter, item, source="manual")
            elif roll < 0.92:
                # The agent logged it and the operator confirmed it by hand too: one play, not two.
                _play(s, station, counter, item)
                _play(s, station, counter, item, source="manual")
            # else: no log at all.

        igr, isa, ily = by_id[world.station_ids["IGR-01"]], by_id[world.station_ids["ISA-01"]], \
            by_id[world.station_ids["ILY-01"]]
        # An emergency placed in IGR-01's programme on 20 Nov, aired; and an unplanned emergency on ILY-01.
        storm = _item(programme(igr, date(2026, 11, 20)), local(date(2026, 11, 20), 9, 0), 2, "emergency",
                      priority="khan_cap", topic="khan_cap", title="Cảnh báo bão số 13", bulletin_code="KC-01")
        s.flush()
        world.named_items["storm"] = storm.id
        _play(s, igr, counter, storm)
        _play(s, ily, counter, None, kind="emergency", priority="khan_cap", topic="khan_cap",
              title="Cảnh báo lũ quét", scheduled_start=None, actual_start=local(date(2026, 11, 21), 14, 5),
              played_ms=120000, scheduled_ms=120000)
        # A play whose item id is stale (the programme was rebuilt): matched by station + scheduled start.
        rebuilt = _item(programme(isa, date(2026, 11, 19)), local(date(2026, 11, 19), 11, 0), 5, "bulletin",
                        topic="tthc", title="Bản tin bổ sung", bulletin_code="BT-bs")
        s.flush()
        world.named_items["rebuilt"] = rebuilt.id
        _play(s, isa, counter, rebuilt, programme_item_id=987654)
        # A relay the watchdog dropped and retried: it aired in two pieces (5 + 3.5 of its 15 minutes).
        patchy = _item(programme(isa, date(2026, 11, 19)), local(date(2026, 11, 19), 12, 0), 15, "relay",
                       title="Tiếp sóng Đài tỉnh", stream_url="http://x/tinh")
        s.flush()
        _play(s, isa, counter, patchy, result="partial", played_ms=300000, reason="Luồng chỉ có im lặng 20 giây")
        _play(s, isa, counter, patchy, result="partial", played_ms=210000, reason="Luồng bị ngắt")
        # A failed play of nothing in the programme (operator tried an old recording).
        _play(s, isa, counter, None, result="failed", reason="không tìm thấy tệp", title="Bản tin cũ",
              scheduled_start=local(date(2026, 11, 18), 20, 0), scheduled_ms=60000, played_ms=0)
        # A jingle play: never counted.
        _play(s, isa, counter, None, kind="jingle", title="Nhạc hiệu", scheduled_start=local(date(2026, 11, 18), 5, 30),
              scheduled_ms=30000, played_ms=30000)
        # Around local midnight: 23:50 on 21 Nov and 00:10 on 22 Nov (both 16:xx/17:xx UTC on 21 Nov).
        late = _item(programme(ily, date(2026, 11, 21)), local(date(2026, 11, 21), 23, 50), 4, "bulletin",
                     topic="mot_cua", title="Bản tin đêm", bulletin_code="BT-dem")
        early = _item(programme(ily, date(2026, 11, 22)), local(date(2026, 11, 22), 0, 10), 4, "bulletin",
                      topic="mot_cua", title="Bản tin rạng sáng", bulletin_code="BT-rs")
        s.flush()
        world.named_items["late"] = late.id
        world.named_items["early"] = early.id
        _play(s, ily, counter, late, actual_start=local(date(2026, 11, 22), 0, 1))  # aired late, after midnight
        _play(s, ily, counter, early)
    return world


# ---------------------------------------------------------------- the oracle


@dataclass
class Expected:
    planned_items: int = 0
    planned_ms: int = 0
    aired_items: int = 0
    aired_ms: int = 0
    missed_items: int = 0
    emergency_items: int = 0

    def as_tuple(self) -> tuple[int, ...]:
        return (self.planned_items, self.planned_ms, self.aired_items, self.aired_ms, self.missed_items,
                self.emergency_items)


@dataclass
class OracleResult:
    by_key: dict[tuple[str, ...], Expected]
    missed: list[tuple[datetime, str, str, str]]  # (when, station, title, reason-or-result)

    def total(self) -> Expected:
        return self.group(lambda key: ())[()]

    def group(self, key_of: object) -> dict[tuple[str, ...], Expected]:
        out: dict[tuple[str, ...], Expected] = {}
        for key, fig in self.by_key.items():
            k = key_of(key)  # type: ignore[operator]
            acc = out.setdefault(k, Expected())
            for name in fig.__dataclass_fields__:
                setattr(acc, name, getattr(acc, name) + getattr(fig, name))
        return out


def oracle(
    session: Session, start: datetime, end: datetime, stations: Iterable[str] | None = None, now: datetime | None = None
) -> OracleResult:
    """Figures for [start, end) by (station, commune, area, topic, language, priority, source, kind), in Python.

    Every item of the range is planned; one not aired is missed only once it is over (ended by `now`)."""
    wanted = set(stations) if stations is not None else None
    info = {st.id: st for st in session.scalars(select(Station))}
    items = []
    for item in session.scalars(select(ProgrammeItem)):
        st = info[item.programme.station_id]
        if item.kind == "jingle" or not (start <= item.start < end):
            continue
        if wanted is not None and st.code not in wanted:
            continue
        items.append((item, st))
    plays = []
    for play in session.scalars(select(PlayLog)):
        when = play.scheduled_start or play.actual_start
        if play.kind == "jingle" or not (start <= when < end):
            continue
        if wanted is not None and play.station_code not in wanted:
            continue
        plays.append(play)
    by_item: dict[int, list[PlayLog]] = {}
    unmatched: list[PlayLog] = []
    for play in plays:
        own = [it for it, st in items if st.id == play.station_id]
        hits = [it for it in own if it.id == play.programme_item_id] or [
            it for it in own if it.start == play.scheduled_start
        ]
        if hits:
            for it in hits:
                by_item.setdefault(it.id, []).append(play)
        else:
            unmatched.append(play)

    def ms(play: PlayLog) -> int:
        if play.result == "partial":
            return play.played_ms
        return play.played_ms if play.played_ms > 0 else play.scheduled_ms

    result = OracleResult({}, [])
    for item, st in items:
        logs = by_item.get(item.id, [])
        good = [p for p in logs if p.result in ("played", "partial")]
        if item.kind == "relay":
            source = "relay"
        elif any(p.source == "agent" for p in good):
            source = "own"
        elif good:
            source = "manual"
        else:
            source = "own"
        area = st.commune.area.name if st.commune.area else ""
        key = (st.code, st.commune.name, area, item.topic, item.language, item.priority, source, item.kind)
        fig = result.by_key.setdefault(key, Expected())
        fig.planned_items += 1
        fig.planned_ms += item.duration_ms
        if good:
            fig.aired_items += 1
            longest = max(ms(p) for p in good)
            if item.kind == "relay":  # a relay aired in pieces (the watchdog's retries): the box's pieces add up
                longest = max(longest, sum(ms(p) for p in good if p.source == "agent"))
            fig.aired_ms += longest
            if item.kind == "emergency" or item.priority == "khan_cap":
                fig.emergency_items += 1
        elif now is None or item.end <= now:
            fig.missed_items += 1
            bad = [p for p in logs if p.result not in ("played", "partial")]
            result.missed.append((item.start, st.code, item.title, max((p.reason for p in bad), default="")))
    for play in unmatched:
        source = "relay" if play.kind == "relay" else ("manual" if play.source == "manual" else "own")
        key = (play.station_code, play.commune, play.area, play.topic, play.language, play.priority, source,
               play.kind)
        fig = result.by_key.setdefault(key, Expected())
        if play.result in ("played", "partial"):
            fig.aired_items += 1
            fig.aired_ms += ms(play)
            if play.kind == "emergency" or play.priority == "khan_cap":
                fig.emergency_items += 1
        else:
            fig.missed_items += 1
            result.missed.append((play.scheduled_start or play.actual_start, play.station_code, play.title,
                                  play.reason))
    result.missed.sort()
    return result
