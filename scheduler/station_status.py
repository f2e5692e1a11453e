"""A receiver's self-report as labelled Vietnamese facts in local time, for the station page.

The box sends raw data (scheduler/agent/agent.py `status`: English keys, UTC ISO instants, None for
unknown). This module turns it into what an operator reads: one line per fact, words instead of codes,
local times, "chưa báo" instead of None. Online/offline comes from scheduler.liveness, never from here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.db.models import Station
from scheduler.domain import kind_label
from scheduler.fleet import CONTACT_LABELS
from scheduler.liveness import CONTACT_COLUMNS, is_online, last_contact

NOT_REPORTED = "Chưa báo"
AMPLIFIER = {
    "on": "Đang bật",
    "off": "Đang tắt",
    "fault": "Hỏng",
    "error": "Hỏng",
    "unknown": "Không rõ (máy thu không có cảm biến ampli)",
}
POWER = {
    "mains": "Điện lưới",
    "ac": "Điện lưới",
    "battery": "Ắc quy dự phòng",
    "dc": "Nguồn DC dự phòng",
    "backup": "Nguồn dự phòng",
    "off": "Mất nguồn",
    "unknown": "Không rõ (máy thu không có cảm biến nguồn)",
}
CLOCK_TOLERANCE_MS = 500


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    warn: bool = False  # worth a look: offline, clock far off, little disk, amplifier or power trouble


def number(value: float, decimals: int = 0) -> str:
    """Vietnamese digits: 1.234,5 (dot groups thousands, comma marks decimals)."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def ago(then: datetime, now: datetime) -> str:
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 60:
        return "vừa xong"
    if seconds < 3600:
        return f"{seconds // 60} phút trước"
    if seconds < 86400:
        return f"{seconds // 3600} giờ trước"
    return f"{seconds // 86400} ngày trước"


def when(value: datetime | str | None, now: datetime, tz: ZoneInfo) -> str:
    """`17:05 23/11/2026 (3 phút trước)` in local time; «chưa bao giờ» for nothing."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return NOT_REPORTED
    if value is None or value.tzinfo is None:
        return "chưa bao giờ"
    return f"{value.astimezone(tz):%H:%M %d/%m/%Y} ({ago(value, now)})"


def clock_offset(ms: Any) -> Fact:
    if not isinstance(ms, int) or isinstance(ms, bool):
        return Fact("Lệch đồng hồ", "Chưa đo được")
    seconds = number(abs(ms) / 1000, 1)
    if abs(ms) < CLOCK_TOLERANCE_MS:
        return Fact("Lệch đồng hồ", f"Đúng giờ (lệch {seconds} giây)")
    # The agent measures server time minus its own: positive means the box runs behind.
    way = "chậm" if ms > 0 else "nhanh"
    return Fact("Lệch đồng hồ", f"Đồng hồ máy thu {way} {seconds} giây so với máy chủ", warn=abs(ms) >= 5000)


def disk_free(mb: Any) -> Fact:
    if not isinstance(mb, int) or isinstance(mb, bool):
        return Fact("Dung lượng trống", NOT_REPORTED)
    text = f"{number(mb / 1024, 1)} GB" if mb >= 1024 else f"{number(mb)} MB"
    return Fact("Dung lượng trống", text, warn=mb < 200)


def coded(label: str, value: Any, words: Mapping[str, str], bad: frozenset[str]) -> Fact:
    if not isinstance(value, str) or not value:
        return Fact(label, NOT_REPORTED)
    key = value.strip().lower()
    return Fact(label, words.get(key, value), warn=key in bad)


def playing(value: Any, now: datetime, tz: ZoneInfo) -> Fact:
    if not isinstance(value, dict) or not value.get("title"):
        return Fact("Đang phát", "Không phát gì")
    text = f"«{value['title']}» ({kind_label(str(value.get('kind') or 'bulletin'))})"
    since = value.get("since")
    if isinstance(since, str):
        with contextlib.suppress(ValueError):
            text += f", từ {datetime.fromisoformat(since).astimezone(tz):%H:%M}"
    if value.get("emergency"):
        text += " — lệnh khẩn cấp"
    return Fact("Đang phát", text)


def receiver_facts(station: Station, now: datetime, tz: ZoneInfo, silent_minutes: int) -> list[Fact]:
    """Everything the page shows about the receiver, in reading order."""
    status: dict[str, Any] = dict(station.status or {})
    online = is_online(station, now, silent_minutes)
    contact = last_contact(station)
    state = "Trực tuyến" if online else (
        f"Mất kết nối (liên lạc cuối {when(contact, now, tz)})" if contact else "Mất kết nối (chưa liên lạc lần nào)"
    )
    facts = [Fact("Trạng thái", state, warn=not online)]
    facts += [Fact(f"Lần liên lạc cuối — {label.lower()}", when(getattr(station, CONTACT_COLUMNS[kind]), now, tz))
              for kind, label in CONTACT_LABELS.items()]
    version = status.get("agent_version")
    facts.append(Fact("Phiên bản phần mềm", f"loaxa {version}" if isinstance(version, str) and version
                      else NOT_REPORTED))
    facts.append(clock_offset(status.get("clock_offset_ms")))
    facts.append(disk_free(status.get("disk_free_mb")))
    volume = status.get("volume")
    facts.append(Fact("Âm lượng", f"{volume}%" if isinstance(volume, int) and not isinstance(volume, bool)
                      else NOT_REPORTED))
    facts.append(coded("Ampli", status.get("amplifier"), AMPLIFIER, frozenset({"off", "fault", "error"})))
    facts.append(coded("Nguồn điện", status.get("power"), POWER, frozenset({"battery", "dc", "backup", "off"})))
    facts.append(playing(status.get("playing"), now, tz))
    outbox = status.get("outbox")
    if isinstance(outbox, int) and not isinstance(outbox, bool):
        facts.append(Fact("Nhật ký phát chờ gửi", f"{number(outbox)} dòng", warn=outbox > 100))
    if "mqtt" in status:
        facts.append(Fact("Kênh đẩy (MQTT)", "Đã kết nối" if status.get("mqtt") else "Chưa kết nối (đài tự hỏi lịch)"))
    if status.get("received_at"):
        facts.append(Fact("Báo trạng thái lúc", when(status.get("received_at"), now, tz)))
    return facts
