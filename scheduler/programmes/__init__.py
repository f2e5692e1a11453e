"""Weekly programmes: from database rows to the pure planner, and the stored programme rows.

- `inputs`: what the planner reads (windows, policy, targets, the week's bulletins, a digest of them);
- `store`: the only writer of programme rows (save a plan, bump a version, pin, move, remove);
- `build`: `build_week` (plan and store) and `dry_run` (plan, no locks, no writes);
- `staleness`: stations whose programme is older than its inputs, and rebuilding them;
- `edits`: hand edits from the Lịch phát pages, checked and audited;
- `explain`: why bulletins are short of their quota (CLI and page), from a dry run;
- `warnings`: what the dashboard warns about;
- `exports`: a stored programme as JSON, M3U, iCalendar or a printable PDF.
"""

from scheduler.programmes.build import BuildResult, build_week, current_weeks, dry_run
from scheduler.programmes.inputs import (
    bulletin_inputs,
    load_stations,
    policy_for,
    station_input,
    target_codes,
    targets_station,
    week_bulletins,
    windows_spec,
)
from scheduler.programmes.store import items_hash, planned_item

__all__ = [
    "BuildResult",
    "build_week",
    "bulletin_inputs",
    "current_weeks",
    "dry_run",
    "items_hash",
    "load_stations",
    "planned_item",
    "policy_for",
    "station_input",
    "target_codes",
    "targets_station",
    "week_bulletins",
    "windows_spec",
]
