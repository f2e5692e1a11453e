"""Small builders for planner tests: stations, bulletins and requests with sensible defaults."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.domain import BulletinInput, IsoWeek, PlannedItem, Policy, Priority, StationInput
from scheduler.planning import Plan, PlanRequest
from scheduler.planning.windows import parse_windows

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WEEK = IsoWeek(2026, 48)  # Monday 23 Nov 2026 .. Sunday 29 Nov 2026
AHEAD = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # Friday before: the whole week is open
QUIET_FREE = Policy(quiet_before=None, quiet_after=None, jingle_ms=0, gap_ms=2000)

# Titles from the seed documents (Gia Lai, Quảng Trị, Sóc Trăng CCHC plans).
TITLES = (
    "Thông tin, tuyên truyền về cải cách hành chính nhà nước giai đoạn 2021 - 2030",
    "Tuyên truyền công tác cải cách hành chính năm 2024 của tỉnh Gia Lai",
    "Cải cách thủ tục hành chính (TTHC) và cơ chế một cửa, một cửa liên thông",
    "Dịch vụ công trực tuyến mức độ 3, 4 và dịch vụ bưu chính công ích",
    "Tuyên truyền cải cách hành chính tỉnh Sóc Trăng năm 2021",
    "Chỉ số PAR INDEX, SIPAS, PAPI, PCI và DDCI của tỉnh",
)


def station(
    code: str = "S1",
    spec: str = "T2-CN 05:30-06:00; T2-CN 17:00-17:30",
    languages: tuple[str, ...] = ("vi",),
    policy: Policy = QUIET_FREE,
    commune: str = "Xã Ia Băng",
) -> StationInput:
    return StationInput(code, languages, parse_windows(spec), commune, policy)


def bulletin(
    code: str,
    *,
    priority: Priority = Priority.NORMAL,
    plays: int = 3,
    seconds: float = 60,
    stations: Iterable[str] = ("S1",),
    language: str = "vi",
    valid: tuple[date, date] = (date(2026, 11, 1), date(2026, 12, 31)),
    title: str | None = None,
) -> BulletinInput:
    return BulletinInput(
        code=code,
        title=title or TITLES[sum(map(ord, code)) % len(TITLES)],
        language=language,
        priority=priority,
        valid_from=valid[0],
        valid_to=valid[1],
        plays_per_week=plays,
        duration_ms=int(seconds * 1000),
        stations=frozenset(stations),
        audio_sha256="ab" * 32,
    )


def request(
    stations: Sequence[StationInput],
    bulletins: Sequence[BulletinInput],
    *,
    week: IsoWeek = WEEK,
    now: datetime = AHEAD,
    existing: Mapping[str, Sequence[PlannedItem]] | None = None,
    horizon: timedelta = timedelta(minutes=30),
    **extra: Any,
) -> PlanRequest:
    return PlanRequest(week, stations, bulletins, now, existing=existing or {}, horizon=horizon, **extra)


def at(day: date, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    """A local wall-clock time in Hà Nội as a UTC instant."""
    return datetime.combine(day, time(hh, mm, ss), tzinfo=TZ).astimezone(UTC)


def local(instant: datetime) -> datetime:
    return instant.astimezone(TZ)


def plays(plan: Plan, station_code: str, bulletin_code: str) -> list[PlannedItem]:
    return [i for i in plan.items[station_code] if i.kind == "bulletin" and i.bulletin == bulletin_code]


def bulletins_of(plan: Plan, station_code: str) -> list[PlannedItem]:
    return [i for i in plan.items[station_code] if i.kind == "bulletin"]


def day(offset: int, week: IsoWeek = WEEK) -> date:
    return week.monday() + timedelta(days=offset)
