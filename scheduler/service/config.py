"""The service's knobs, read from LOAXA_* environment variables (documented in docs/scheduler-service.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import time

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _number(env: dict[str, str], name: str, default: float, minimum: float) -> float:
    raw = env.get(name, "")
    if not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"Biến {name}=«{raw}» không phải là số. Ghi một số, ví dụ {default:g}.") from None
    if value < minimum:
        raise ValueError(f"Biến {name}={raw} quá nhỏ: phải từ {minimum:g} trở lên.")
    return value


@dataclass(frozen=True)
class ServiceConfig:
    leader_poll_seconds: float = 15.0  # standby retry and leader heartbeat period
    build_day: str = "thu"  # next week's programmes are built on this weekday …
    build_at: time = time(2, 0)  # … at this local time
    rollup_at: time = time(1, 30)  # nightly report roll-up, local time
    # Render new audio and rebuild the stations whose inputs changed: an approval or an edit reaches
    # the programmes within a minute (scheduler.service.jobs.watch_changes).
    watch_every_seconds: int = 20
    push_every_seconds: int = 60
    monitor_every_seconds: int = 60
    alert_every_seconds: int = 60  # scheduler.alerts: evaluate the rules, notify, recover
    alert_summary_at: time = time(7, 0)  # the daily alert summary, local time

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> ServiceConfig:
        """Read the LOAXA_* service variables; ValueError (Vietnamese) names a bad one."""
        env = dict(os.environ if env is None else env)
        day = env.get("LOAXA_BUILD_DAY", "thu").strip().lower()[:3]
        if day not in DAYS:
            raise ValueError(f"Biến LOAXA_BUILD_DAY=«{env['LOAXA_BUILD_DAY']}» không hợp lệ: dùng {', '.join(DAYS)}.")
        return cls(
            leader_poll_seconds=_number(env, "LOAXA_LEADER_POLL_SECONDS", 15.0, 0.1),
            build_day=day,
            build_at=_clock_time(env, "LOAXA_BUILD_AT", "02:00"),
            rollup_at=_clock_time(env, "LOAXA_ROLLUP_AT", "01:30"),
            watch_every_seconds=int(_number(env, "LOAXA_WATCH_EVERY_SECONDS", 20, 1)),
            alert_every_seconds=int(_number(env, "LOAXA_ALERT_EVERY_SECONDS", 60, 5)),
            alert_summary_at=_clock_time(env, "LOAXA_ALERT_SUMMARY_AT", "07:00"),
        )


def _clock_time(env: dict[str, str], name: str, default: str) -> time:
    raw = env.get(name, default).strip()
    try:
        return time.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"Biến {name}=«{raw}» không phải giờ hợp lệ: dùng dạng HH:MM, ví dụ {default}.") from None
