"""When an emergency plays: now, then repeats on a grid by a rule (pure, no database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

MIN_EVERY_MINUTES = 5
MAX_PLAYS = 200
MAX_SPAN = timedelta(days=7)


@dataclass(frozen=True)
class RepeatRule:
    """How an emergency repeats after its immediate play.

    Repeats fall on a grid `first_at + k * every_minutes` (first_at defaults to now), up to `until`
    and/or until `times` plays in all (the immediate play counts). A repeat that would start
    within half an interval after the immediate play is dropped: it would air the same warning again
    minutes later.
    """

    every_minutes: int | None = None
    first_at: datetime | None = None
    until: datetime | None = None
    times: int | None = None


def plays_for(now: datetime, rule: RepeatRule) -> list[datetime]:
    """The instants of every play: `now` first, then the repeats; ValueError (Vietnamese) for a bad rule."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    if rule.times is not None and not 1 <= rule.times <= MAX_PLAYS:
        raise ValueError(f"Số lần phát {rule.times} không hợp lệ: chọn từ 1 đến {MAX_PLAYS} lần.")
    if rule.every_minutes is None:
        if rule.until is not None or (rule.times or 1) > 1:
            raise ValueError("Muốn phát lặp lại thì phải cho khoảng lặp (--every SỐ_PHÚT), ví dụ --every 60.")
        return [now]
    if rule.every_minutes < MIN_EVERY_MINUTES:
        raise ValueError(
            f"Khoảng lặp {rule.every_minutes} phút quá ngắn: phải từ {MIN_EVERY_MINUTES} phút trở lên."
        )
    if rule.until is None and rule.times is None:
        raise ValueError("Phát lặp lại cần giờ kết thúc (--until HH:MM) hoặc số lần phát (--times N).")
    if rule.until is not None:
        if rule.until <= now:
            raise ValueError(
                f"Giờ kết thúc {rule.until.isoformat()} đã qua: chọn một thời điểm sau bây giờ."
            )
        if rule.until - now > MAX_SPAN:
            raise ValueError("Một lệnh khẩn cấp chỉ lặp lại trong tối đa 7 ngày; chọn giờ kết thúc sớm hơn.")
    every = timedelta(minutes=rule.every_minutes)
    anchor = rule.first_at or now
    limit = rule.times or MAX_PLAYS
    until = rule.until or now + MAX_SPAN
    # The first grid point past the "too soon after the immediate play" margin.
    earliest = now + every / 2
    k = max(0, -(-(earliest - anchor) // every)) if anchor < earliest else 0
    plays = [now]
    point = anchor + k * every
    while len(plays) < limit and point <= until:
        if point > earliest:
            plays.append(point)
        point += every
    return plays
