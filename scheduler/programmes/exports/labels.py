"""Vietnamese words the operator-facing exports share: weekdays, durations, item titles.

Kind, language and priority labels live with their codes (scheduler.domain, scheduler.catalogue).
"""

from __future__ import annotations

from datetime import date

from scheduler.domain import kind_label
from scheduler.wire import ManifestItem

WEEKDAYS: tuple[str, ...] = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")


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


def item_title(item: ManifestItem) -> str:
    """What an operator reads for an item: its title, else its kind."""
    return item["title"].strip() or kind_label(item["kind"])
