"""Vietnamese words the operator-facing exports share: item kinds, weekdays, languages, durations."""

from __future__ import annotations

from datetime import date

from scheduler.domain import Priority
from scheduler.topics import LANGUAGES

KIND_LABELS: dict[str, str] = {
    "bulletin": "Bản tin",
    "relay": "Tiếp sóng",
    "jingle": "Nhạc hiệu",
    "emergency": "Khẩn cấp",
}

WEEKDAYS: tuple[str, ...] = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


def language_label(code: str) -> str:
    return LANGUAGES.get(code, code)


def priority_label(code: str) -> str:
    try:
        return Priority(code).label
    except ValueError:
        return code


def day_label(day: date) -> str:
    """`Thứ Hai, 23/11/2026`."""
    return f"{WEEKDAYS[day.weekday()]}, {day:%d/%m/%Y}"


def duration_label(ms: int) -> str:
    """`3 phút 05 giây`, `45 giây`."""
    seconds = round(ms / 1000)
    minutes, seconds = divmod(seconds, 60)
    if minutes and seconds:
        return f"{minutes} phút {seconds:02d} giây"
    if minutes:
        return f"{minutes} phút"
    return f"{seconds} giây"


def item_title(item: dict[str, object]) -> str:
    """What an operator reads for an item: its title, else its kind."""
    title = str(item.get("title") or "").strip()
    return title or kind_label(str(item.get("kind", "")))
