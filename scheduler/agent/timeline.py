"""Pure timing rules: which programme item is due now, which were missed, which may be aired again.

Rules (docs/agent.md, "Timing rules"):
- An item starts when its start time arrives and nothing else is playing; items play in start order.
- It may still start late (after a restart, or behind an item that ran over) until its slot end
  plus LATE_GRACE; after that it is missed and logged `skipped`. A relay is joined live until
  RELAY_MIN_LEFT before its end and is stopped at its end.
- An item cut mid-play (power cut, crash, emergency, stop) is logged `partial`. It is aired again
  from the start only if its own slot has not ended and more than REPLAY_MIN_REMAINING of it was
  still to play; otherwise it is not replayed.
- Items are identified by scheduled start + audio hash (or stream), not by database id, so a new
  programme version that keeps an item at the same time does not make it air twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from scheduler.wire import Manifest

LATE_GRACE = timedelta(minutes=5)
RELAY_MIN_LEFT = timedelta(seconds=30)
REPLAY_MIN_REMAINING = 0.10


def item_key(start: datetime, sha256: str | None, stream_url: str | None, kind: str) -> str:
    return f"{start.astimezone(UTC).isoformat()}|{sha256 or stream_url or kind}"


@dataclass(frozen=True)
class Cue:
    """One programme item as the agent plays it."""

    key: str
    start: datetime
    end: datetime
    kind: str
    week: str = ""
    version: int = 0
    item_id: int | None = None
    title: str = ""
    bulletin: str | None = None
    language: str = "vi"
    priority: str = "thuong"
    sha256: str | None = None
    stream_url: str | None = None
    duration_ms: int = 0
    emergency: int | None = None  # emergency plays: which emergency (the station reports on it)
    airing: int | None = None  # which of its plays, when a command says so
    volume: int | None = None  # this play's own volume; None = the station's
    live: int | None = None  # a live broadcast's id (commands only)

    @property
    def play_ms(self) -> int:
        """How long the item lasts when aired whole (relays: their whole slot)."""
        if self.kind == "relay" or not self.duration_ms:
            return int((self.end - self.start).total_seconds() * 1000)
        return self.duration_ms


def cues_from_manifest(manifest: Manifest) -> list[Cue]:
    week = manifest["week"]
    version = manifest["version"]
    slots = []
    for item in manifest["items"]:
        start = datetime.fromisoformat(item["start"])
        slots.append(
            Cue(
                key=item_key(start, item["sha256"], item["stream_url"], item["kind"]),
                start=start,
                end=datetime.fromisoformat(item["end"]),
                kind=str(item["kind"]),
                week=week,
                version=version,
                item_id=item["id"],
                title=item["title"],
                bulletin=item["bulletin"],
                language=item["language"],
                priority=item["priority"],
                sha256=item["sha256"],
                stream_url=item["stream_url"],
                duration_ms=item["duration_ms"],
                emergency=item.get("emergency"),
                # Emergencies played at full volume before manifests said so: keep that for old ones.
                volume=item["volume"] if "volume" in item else (100 if item["kind"] == "emergency" else None),
            )
        )
    return slots


def merge_cues(manifests: Iterable[Manifest]) -> list[Cue]:
    """All items of the given weeks in start order (one per key)."""
    by_key: dict[str, Cue] = {}
    for manifest in manifests:
        for slot in cues_from_manifest(manifest):
            by_key.setdefault(slot.key, slot)
    return sorted(by_key.values(), key=lambda s: (s.start, s.key))


def start_deadline(slot: Cue) -> datetime:
    """The last instant at which the item may still start."""
    if slot.kind == "relay":
        return slot.end - RELAY_MIN_LEFT
    return slot.end + LATE_GRACE


def may_replay(slot: Cue, played_ms: int, now: datetime) -> bool:
    """Whether an item cut after `played_ms` is aired again from its start."""
    if now >= slot.end:
        return False
    if slot.kind == "relay":
        return now < start_deadline(slot)
    remaining = 1.0 - played_ms / max(slot.play_ms, 1)
    return remaining > REPLAY_MIN_REMAINING


@dataclass
class Due:
    missed: list[Cue] = field(default_factory=list)
    start: Cue | None = None


def due(slots: Sequence[Cue], now: datetime, handled: set[str]) -> Due:
    """Items whose time has come: the ones that can no longer start, and the first one that can."""
    result = Due()
    for slot in slots:
        if slot.start > now:
            break
        if slot.key in handled:
            continue
        if now >= start_deadline(slot):
            result.missed.append(slot)
            continue
        result.start = slot
        break
    return result


def upcoming(slots: Sequence[Cue], now: datetime, within: timedelta) -> list[Cue]:
    """Items not yet over that start before now + within, soonest first."""
    return [s for s in slots if s.end > now and s.start < now + within]
