"""Agent fixtures: a station with a week of programme on the real server, and agents on a shared fake clock."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "delivery"))
