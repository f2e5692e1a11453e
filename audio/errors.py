"""Errors raised by the audio package; every message is Vietnamese and says what to do."""

from __future__ import annotations


class AudioError(Exception):
    """Something in turning text or a recording into broadcast-ready sound failed."""


class EngineUnavailable(AudioError):
    """A speech engine cannot render this text now (offline, refused, no voice for the language).

    `engine` is the engine's name ("gtts"...) and `reason` the short cause, for fallback warnings.
    """

    def __init__(self, message: str, *, engine: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.engine = engine
        self.reason = reason or message


class RecordingRejected(AudioError):
    """An uploaded recording is not usable audio (not audio, corrupt, silent, too long)."""
