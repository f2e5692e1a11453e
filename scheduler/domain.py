"""Plain domain types shared by the planner, the database layer, the web and the agent.

Nothing here touches a database, a clock or the network, so every layer can import it.
Times of day are local wall-clock times in the station's zone; instants are aware datetimes.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal

# Codes of bulletins and stations: letters without diacritics, digits, - _ . (up to 40). A station's
# code is also its MQTT topic level, so this alphabet keeps that mapping one-to-one.
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")

DEFAULT_TZ = "Asia/Ho_Chi_Minh"

# Vietnamese weekday labels as used in station CSVs: T2 = Monday ... CN = Sunday.
DAY_LABELS: tuple[str, ...] = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")


class Priority(enum.StrEnum):
    """Thông tư 39/2020/TT-BTTTT priorities."""

    NORMAL = "thuong"
    PRIORITY = "uu_tien"
    EMERGENCY = "khan_cap"

    @property
    def label(self) -> str:
        return {"thuong": "Thông thường", "uu_tien": "Ưu tiên", "khan_cap": "Khẩn cấp"}[self.value]

    @property
    def rank(self) -> int:
        """Lower plays first."""
        return {"khan_cap": 0, "uu_tien": 1, "thuong": 2}[self.value]


class BulletinStatus(enum.StrEnum):
    DRAFT = "nhap"
    SUBMITTED = "cho_duyet"
    APPROVED = "da_duyet"
    RETURNED = "tra_lai"
    ARCHIVED = "luu_tru"

    @property
    def label(self) -> str:
        return {
            "nhap": "Bản nháp",
            "cho_duyet": "Chờ duyệt",
            "da_duyet": "Đã duyệt",
            "tra_lai": "Trả lại",
            "luu_tru": "Lưu trữ",
        }[self.value]


def priority_label(code: str) -> str:
    """The Vietnamese label of a priority code (and of live broadcasts' own); an unknown code shows as it is."""
    if code == "truc_tiep":  # scheduler.wire.LIVE_PRIORITY: plays only, never a bulletin's priority
        return "Trực tiếp"
    try:
        return Priority(code).label
    except ValueError:
        return code


WindowKind = Literal["session", "relay", "segment"]
ItemKind = Literal["bulletin", "jingle", "relay", "emergency"]
ITEM_KIND_LABELS: dict[str, str] = {
    "bulletin": "Bản tin",
    "jingle": "Nhạc hiệu",
    "relay": "Tiếp sóng",
    "live": "Trực tiếp",  # a live broadcast (scheduler.live), shown in the grid from what was said, never planned
    "emergency": "Khẩn cấp",
}


def kind_label(code: str) -> str:
    """The Vietnamese word for a programme item's kind; an unknown code shows as it is."""
    return ITEM_KIND_LABELS.get(code, code)


@dataclass(frozen=True)
class WeeklyWindow:
    """A recurring block on some weekdays, in local wall-clock time.

    `session` windows are when a station broadcasts at all. `relay` blocks (tiếp sóng) and
    `segment` blocks (a language slot, e.g. Jrai after the relay) lie inside a session.
    A window whose end is not after its start runs past midnight.
    """

    days: frozenset[int]  # 0 = Monday (T2) ... 6 = Sunday (CN)
    start: time
    end: time
    kind: WindowKind = "session"
    language: str | None = None  # sessions: None = the station's first language
    stream_url: str | None = None  # relays only
    label: str = ""

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    @property
    def duration(self) -> timedelta:
        start = datetime.combine(date(2000, 1, 3), self.start)
        end = datetime.combine(date(2000, 1, 3), self.end)
        if end <= start:
            end += timedelta(days=1)
        return end - start


@dataclass(frozen=True)
class Policy:
    """Province/commune broadcast policy. Times are local wall-clock."""

    quiet_before: time | None = time(5, 0)  # no session may start before this
    quiet_after: time | None = time(21, 30)  # nor run past this
    max_sessions_per_day: int | None = None
    max_session_minutes: int | None = None
    jingle_ms: int = 0  # opening and closing jingle (nhạc hiệu), each
    gap_ms: int = 2000  # silence between items
    # TT 39: where ưu tiên items meet, the commune's own go first (True) or those from above do (False).
    own_priority_first: bool = False
    # Holidays: date -> replacement windows for that day (an empty tuple means silence).
    holidays: dict[date, tuple[WeeklyWindow, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class StationInput:
    code: str
    languages: tuple[str, ...] = ("vi",)
    windows: tuple[WeeklyWindow, ...] = ()
    commune: str = ""
    policy: Policy = field(default_factory=Policy)


@dataclass(frozen=True)
class BulletinInput:
    code: str
    title: str
    language: str
    priority: Priority
    valid_from: date
    valid_to: date
    plays_per_week: int
    duration_ms: int
    stations: frozenset[str]  # resolved target station codes
    audio_sha256: str | None = None
    topic: str = ""
    own_commune: str = ""  # the commune whose own bulletin this is; "" = from above (scheduler.commune_choice)


@dataclass(frozen=True)
class PlannedItem:
    station: str
    start: datetime  # aware
    end: datetime  # aware
    kind: ItemKind
    bulletin: str | None = None  # bulletin code
    title: str = ""
    language: str = "vi"
    priority: Priority = Priority.NORMAL
    stream_url: str | None = None
    audio_sha256: str | None = None
    locked: bool = False


@dataclass(frozen=True)
class Shortfall:
    """Why a bulletin got fewer plays than its quota on a station."""

    station: str
    bulletin: str
    quota: int
    planned: int
    reasons: tuple[str, ...]  # machine codes, see scheduler.planning.shortfalls.REASON_TEXT


@dataclass(frozen=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """Parse `2026-W47`; raise ValueError with a Vietnamese message otherwise."""
        try:
            year_s, week_s = text.strip().upper().split("-W")
            week = cls(int(year_s), int(week_s))
            week.monday()
        except ValueError:
            raise ValueError(f"Tuần không hợp lệ: «{text}». Dùng dạng NĂM-Wtuần, ví dụ 2026-W47.") from None
        return week

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    def days(self) -> list[date]:
        first = self.monday()
        return [first + timedelta(days=i) for i in range(7)]

    def next(self) -> IsoWeek:
        return IsoWeek.of(self.monday() + timedelta(days=7))

    @property
    def label(self) -> str:
        """How a person reads the week, on pages, in PDFs and command output: «Tuần 49 (30/11 – 06/12/2026)».
        `str(week)` (2026-W49) stays the form typed in options and URLs."""
        first, last = self.monday(), self.monday() + timedelta(days=6)
        start = f"{first:%d/%m}" if first.year == last.year else f"{first:%d/%m/%Y}"
        return f"Tuần {self.week} ({start} – {last:%d/%m/%Y})"

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"
