"""Politeness for online engines: a minimum interval between requests and bounded back-off on 429."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

Sleep = Callable[[float], None]
Clock = Callable[[], float]


class Throttle:
    """Spaces requests to one host at least `min_interval_s` apart, across threads."""

    def __init__(self, min_interval_s: float, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep):
        self.min_interval_s = min_interval_s
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._last: float | None = None

    def wait(self) -> None:
        """Block until the next request may go out, then claim that slot."""
        with self._lock:
            now = self._clock()
            if self._last is not None:
                delay = self._last + self.min_interval_s - now
                if delay > 0:
                    self._sleep(delay)
                    now = self._clock()
            self._last = now


_shared: dict[str, Throttle] = {}
_shared_lock = threading.Lock()


def shared_throttle(key: str, min_interval_s: float) -> Throttle:
    """One throttle per host per process, so separate renders also respect the interval."""
    with _shared_lock:
        throttle = _shared.get(key)
        if throttle is None:
            throttle = _shared[key] = Throttle(min_interval_s)
        return throttle


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential back-off: attempts in all, delays base, base*factor, ... capped."""

    attempts: int = 4
    base_delay_s: float = 1.0
    factor: float = 2.0
    max_delay_s: float = 16.0

    def delay(self, retry_index: int, retry_after_s: float | None = None) -> float:
        """Seconds to wait before retry number `retry_index` (0-based); honours Retry-After."""
        delay = min(self.base_delay_s * self.factor**retry_index, self.max_delay_s)
        if retry_after_s is not None:
            delay = min(max(delay, retry_after_s), self.max_delay_s)
        return delay


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header given in seconds; HTTP dates are ignored."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
