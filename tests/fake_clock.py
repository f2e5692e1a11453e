"""The injected clock of the `clock` fixture (tests/conftest.py): tests move time by hand."""

from __future__ import annotations

from datetime import datetime, timedelta


class FakeClock:
    """Call it for `now`; `advance(minutes=5)` moves it on."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> datetime:
        self.current += timedelta(**kwargs)
        return self.current
