"""Shared by the browser tests and their fixtures."""

from __future__ import annotations

from dataclasses import dataclass

PASSWORD = "mat-khau-2026"


@dataclass
class Seeded:
    """What the browser tests' fixture stored."""

    commune_id: int
