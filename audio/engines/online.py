"""Online engines: a minimum interval between requests, bounded back-off on 429, and their shared base."""

from __future__ import annotations

import threading
import time
from abc import abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from audio.engines.base import SpeechEngine, join_chunks
from audio.segment import AudioSegment, decode_segment
from audio.settings import AudioSettings

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


class OnlineEngine(SpeechEngine):
    """A speech engine behind a remote service: one throttle per host, bounded retries, decoded chunk joins."""

    min_interval_s: float
    decode_rate: int = 24000

    def __init__(
        self,
        settings: AudioSettings,
        *,
        retry: RetryPolicy | None = None,
        throttle: Throttle | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        super().__init__(settings)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self.host = self.service_host()
        self.throttle = throttle or shared_throttle(f"{self.name}:{self.host}", self.min_interval_s)

    @abstractmethod
    def service_host(self) -> str:
        """The host the requests go to (from the settings); it keys the shared throttle."""

    def join_fetched(self, fetched: Iterable[bytes]) -> AudioSegment:
        """Decode each chunk's audio as it is fetched and join them; no chunk at all is an error."""
        parts = [decode_segment(data, self.decode_rate) for data in fetched]
        if not parts:
            raise self.unavailable("không có đoạn văn bản nào để đọc (văn bản rỗng)")
        return join_chunks(parts, self.decode_rate)
