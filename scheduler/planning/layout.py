"""Give every packed play its time: jingles, bulletins in priority order, gaps, relays.

Within each free part items play back to back from the part's start (the first moment allowed),
uu_tien before thuong (within uu_tien, the commune's own after or before those from above, as the
commune chose), then by bulletin code. The opening jingle starts the session's first part,
the closing jingle follows the last item of its last part; both only when the session has bulletins.
"""

from __future__ import annotations

from operator import itemgetter

from scheduler.planning.packing import Packer
from scheduler.planning.timeline import Relay

# A timed item of a station-independent plan: (start, end, kind, ref), kind "bulletin" | "jingle" |
# "relay" and ref a demand index, a Relay or a language. A plain tuple: a national plan lays out
# over a million of them.
Placement = tuple[int, int, str, int | Relay | str]


def lay_out(packer: Packer) -> list[Placement]:
    """Timed items of every session, sorted by (start, end)."""
    problem = packer.problem
    demands = packer.demands
    gap = problem.gap
    jingle = problem.jingle
    placements: list[Placement] = []
    play_order = [(d.cls, d.order, d.code) for d in demands].__getitem__
    for s_index, session in enumerate(problem.sessions):
        placements.extend((r.start, r.end, "relay", r) for r in problem.relays[s_index])
        parts = problem.session_parts[s_index]
        has_new = any(packer.items[p] for p in parts)
        if not has_new and s_index not in problem.kept_bulletin_sessions:
            continue
        open_part = problem.open_part[s_index]
        close_part = problem.close_part[s_index]
        for part in parts:
            t = problem.part_start[part]
            if part == open_part:
                placements.append((t, t + jingle, "jingle", session.language))
                t += jingle + gap
            for i in sorted(packer.items[part], key=play_order):
                duration = demands[i].cost - gap
                placements.append((t, t + duration, "bulletin", i))
                t += duration + gap
            if part == close_part:
                placements.append((t, t + jingle, "jingle", session.language))
    placements.sort(key=itemgetter(0, 1))
    return placements
