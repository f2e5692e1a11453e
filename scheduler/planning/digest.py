"""A short, stable digest of everything a plan says, so two planner versions can be proved to agree.

Every station's items (all fields), play counts, shortfalls with their reasons, sessions and notes
enter it in a canonical order and text form (instants as ISO strings, enums by value), so the digest
does not depend on object identity, dict order or how the planner built the objects.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from scheduler.planning.request import Plan


def plan_digest(plan: Plan) -> str:
    """SHA-256 (hex) over the plan's content; equal plans give equal digests."""
    h = hashlib.sha256()

    def feed(lines: Iterable[str]) -> None:
        for line in lines:
            h.update(line.encode())
            h.update(b"\n")

    for code in sorted(plan.items):
        feed([f"station {code}"])
        feed(
            "|".join(
                (
                    i.station,
                    i.start.isoformat(),
                    i.end.isoformat(),
                    i.kind,
                    str(i.bulletin),
                    i.title,
                    i.language,
                    str(i.priority.value),
                    str(i.stream_url),
                    str(i.audio_sha256),
                    str(i.locked),
                )
            )
            for i in plan.items[code]
        )
    feed(f"count {s}|{b}|{n}" for (s, b), n in sorted(plan.planned_counts.items()))
    feed(
        f"short {s.station}|{s.bulletin}|{s.quota}|{s.planned}|{','.join(s.reasons)}"
        for s in sorted(plan.shortfalls, key=lambda s: (s.station, s.bulletin))
    )
    for code in sorted(plan.sessions):
        feed(
            f"session {code}|{s.day.isoformat()}|{s.start.isoformat()}|{s.end.isoformat()}|{s.language}|{s.morning}|"
            + ";".join(
                f"{b.kind},{b.start.isoformat()},{b.end.isoformat()},{b.language},{b.stream_url},{b.label}"
                for b in s.blocks
            )
            for s in plan.sessions[code]
        )
    feed(f"note {n}" for n in plan.notes)
    return h.hexdigest()
