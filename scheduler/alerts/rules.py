"""The alert rules and the pure decision: which conditions hold on which station, now.

A condition is firing (True), fine (False) or unknown (None: the fact is missing, e.g. a box that sent
no disk figure). Unknown keeps an alert as it is: a silent box neither raises nor clears a disk alert.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from scheduler.settings import DEFAULT_SILENT_MINUTES
from scheduler.station_status import number

SILENT, EMERGENCY, RELAY, DISK, CLOCK = "silent", "emergency", "relay", "disk", "clock"
KINDS: tuple[str, ...] = (SILENT, EMERGENCY, RELAY, DISK, CLOCK)


@dataclass(frozen=True)
class RuleKind:
    kind: str
    label: str  # Vietnamese, for pages and messages
    unit: str  # what the threshold counts ("" when the rule has none)
    default: int
    minimum: int
    maximum: int


RULE_KINDS: dict[str, RuleKind] = {
    SILENT: RuleKind(SILENT, "Đài mất liên lạc", "phút", DEFAULT_SILENT_MINUTES, 1, 7 * 24 * 60),
    EMERGENCY: RuleKind(EMERGENCY, "Tin khẩn cấp không phát được ở đài", "", 0, 0, 0),
    RELAY: RuleKind(RELAY, "Tiếp sóng bị lỗi", "lần lỗi liên tiếp", 1, 1, 50),
    DISK: RuleKind(DISK, "Đầu thu sắp hết dung lượng", "MB còn trống", 200, 1, 1_000_000),
    # The same defaults as the station page's warnings (scheduler.station_status): 200 MB, 5 s.
    CLOCK: RuleKind(CLOCK, "Đồng hồ đầu thu lệch giờ", "giây", 5, 1, 86_400),
}


@dataclass(frozen=True)
class Rule:
    kind: str
    enabled: bool
    threshold: int


def default_rules() -> dict[str, Rule]:
    return {k: Rule(k, True, spec.default) for k, spec in RULE_KINDS.items()}


def check_threshold(kind: str, value: int) -> int:
    """The threshold if allowed for the rule; ValueError (Vietnamese) otherwise."""
    spec = RULE_KINDS.get(kind)
    if spec is None:
        raise ValueError(f"Không có quy tắc «{kind}». Dùng một trong: {', '.join(KINDS)}.")
    if not spec.unit:
        return 0
    if not spec.minimum <= value <= spec.maximum:
        raise ValueError(f"Ngưỡng «{value}» của quy tắc «{spec.label}» phải từ {spec.minimum} đến {spec.maximum} "
                         f"({spec.unit}).")
    return value


@dataclass(frozen=True)
class EmergencyFact:
    """One emergency's fate on the station: its tracking state as shown (scheduler.emergencies.tracking)."""

    emergency: int
    title: str
    failed: bool  # loi or khong_toi
    played: bool
    reason: str = ""


@dataclass(frozen=True)
class StationFacts:
    code: str
    last_contact: datetime | None
    online_within: Mapping[int, bool] = field(default_factory=dict)  # minutes -> scheduler.liveness.is_online
    disk_free_mb: int | None = None
    disk_full: bool | None = None  # the box said "đầy bộ nhớ" (None: an agent that does not say)
    clock_offset_ms: int | None = None
    relay_results: Sequence[str] = ()  # latest relay plays first: played | partial | skipped | failed
    relay_reason: str = ""
    stream_fault: str | None = None  # the box's relay watchdog says the stream is down now (its reason)
    stream_watched: bool = False  # the box reports on its relay watchdog at all (stream_fault, even null)
    emergencies: Sequence[EmergencyFact] = ()


@dataclass(frozen=True)
class Condition:
    key: str
    kind: str
    station: str
    firing: bool | None
    detail: str = ""


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def evaluate(stations: Iterable[StationFacts], rules: Mapping[str, Rule], now: datetime) -> list[Condition]:
    """Every condition of every enabled rule on every station (firing, fine or unknown)."""
    out: list[Condition] = []
    for s in stations:
        rule = rules.get(SILENT)
        if rule is not None and rule.enabled and s.last_contact is not None:
            online = s.online_within.get(rule.threshold)
            firing = None if online is None else not online
            detail = (f"Không liên lạc với máy chủ từ {_minutes(now - s.last_contact)} phút trước "
                      f"(ngưỡng {rule.threshold} phút).")
            out.append(Condition(f"{SILENT}:{s.code}", SILENT, s.code, firing, detail))
        rule = rules.get(DISK)
        if rule is not None and rule.enabled:
            free = s.disk_free_mb
            low = None if free is None else free < rule.threshold
            detail = f"Còn trống {free} MB (ngưỡng {rule.threshold} MB)."
            if s.disk_full:
                # Full whatever the figure: a write failed for want of space (scheduler.agent.storage).
                detail = (f"Đầu thu đầy bộ nhớ: vẫn phát âm thanh đang có nhưng không tải được âm thanh mới. "
                          f"{detail}")
            out.append(Condition(f"{DISK}:{s.code}", DISK, s.code, True if s.disk_full else low, detail))
        rule = rules.get(CLOCK)
        if rule is not None and rule.enabled:
            offset = s.clock_offset_ms
            firing = None if offset is None else abs(offset) > rule.threshold * 1000
            # The agent measures server time minus its own: positive means the box runs behind.
            way = "chậm" if (offset or 0) > 0 else "nhanh"
            out.append(Condition(f"{CLOCK}:{s.code}", CLOCK, s.code, firing,
                                 f"Đồng hồ đầu thu {way} {number(abs(offset or 0) / 1000, 1)} giây so với máy chủ "
                                 f"(ngưỡng {rule.threshold} giây)."))
        rule = rules.get(RELAY)
        if rule is not None and rule.enabled:
            latest = list(s.relay_results[: rule.threshold])
            firing = None
            detail = f"{rule.threshold} lần tiếp sóng gần nhất bị lỗi. {s.relay_reason}".strip()
            if s.stream_fault is not None:
                firing, detail = True, f"Luồng tiếp sóng đang hỏng: {s.stream_fault}".strip()
            elif latest:
                bad = [r in ("failed", "skipped") for r in latest]
                # Firing needs `threshold` failures in a row; one good relay (or a watchdog at ease) clears it.
                if len(latest) == rule.threshold and all(bad):
                    firing = True
                elif not bad[0] or s.stream_watched:
                    firing = False
            elif s.stream_watched:
                firing = False
            out.append(Condition(f"{RELAY}:{s.code}", RELAY, s.code, firing, detail))
        rule = rules.get(EMERGENCY)
        if rule is not None and rule.enabled:
            for e in s.emergencies:
                firing = True if e.failed else (False if e.played else None)
                detail = f"Tin khẩn cấp «{e.title}» (lệnh số {e.emergency}) không phát được."
                if e.reason:
                    detail += f" Lý do: {e.reason}"
                out.append(Condition(f"{EMERGENCY}:{e.emergency}:{s.code}", EMERGENCY, s.code, firing, detail))
    return out
