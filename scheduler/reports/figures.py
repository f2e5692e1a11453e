"""The figures a report adds up, and the dimensions it groups them by (plain data, no database)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

# Grouping columns of a roll-up row, in table order.
DIMENSIONS: tuple[str, ...] = (
    "station_code", "commune", "area", "topic", "language", "priority", "source", "kind",
)  # fmt: skip
MEASURES: tuple[str, ...] = (
    "planned_items", "planned_ms", "aired_items", "aired_ms", "missed_items", "emergency_items",
)  # fmt: skip

# Where the airtime came from: the centre's own bulletins, a relay of VOV/provincial radio,
# or a bulletin an operator confirmed by hand (studio without a receiver box).
SOURCES: dict[str, str] = {"own": "Tự sản xuất", "relay": "Tiếp sóng", "live": "Trực tiếp",
                           "manual": "Xác nhận thủ công"}
KINDS: dict[str, str] = {"bulletin": "Bản tin", "relay": "Tiếp sóng", "emergency": "Khẩn cấp", "live": "Trực tiếp"}
# A missed row's result: a play log's (skipped, failed), "" for no log at all, or MANUAL_MISS when an
# operator reported it with «Không phát được» (a play log with source manual; scheduler.reports.raw).
MANUAL_MISS = "manual"
RESULTS: dict[str, str] = {
    "": "Không có nhật ký phát",
    "skipped": "Bỏ qua",
    "failed": "Lỗi phát",
    MANUAL_MISS: "Báo tay",
}


@dataclass
class Figures:
    """Items and milliseconds planned and aired, items missed, emergency broadcasts aired."""

    planned_items: int = 0
    planned_ms: int = 0
    aired_items: int = 0
    aired_ms: int = 0
    missed_items: int = 0
    emergency_items: int = 0

    @classmethod
    def of(cls, row: Mapping[Any, Any]) -> Figures:
        return cls(*(int(row[name] or 0) for name in MEASURES))

    def add(self, other: Figures) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def planned_minutes(self) -> float:
        return self.planned_ms / 60000

    @property
    def aired_minutes(self) -> float:
        return self.aired_ms / 60000

    @property
    def ratio(self) -> float | None:
        """Airtime aired over airtime planned (may pass 1 with unplanned emergencies); None if nothing planned."""
        return self.aired_ms / self.planned_ms if self.planned_ms else None

    def as_dict(self) -> dict[str, Any]:
        return {
            **{name: getattr(self, name) for name in MEASURES},
            "planned_minutes": round(self.planned_minutes, 2),
            "aired_minutes": round(self.aired_minutes, 2),
            "ratio": None if self.ratio is None else round(self.ratio, 4),
        }


@dataclass(frozen=True)
class Fact:
    """One roll-up grain: the dimension values and the figures that go with them."""

    key: tuple[str, ...]  # values in DIMENSIONS order
    figures: Figures

    def get(self, dimension: str) -> str:
        return self.key[DIMENSIONS.index(dimension)]


def merge_facts(facts: Iterable[Fact]) -> list[Fact]:
    """Add up facts with the same key (rows from different queries of the same day)."""
    merged: dict[tuple[str, ...], Figures] = {}
    for fact in facts:
        merged.setdefault(fact.key, Figures()).add(fact.figures)
    return [Fact(key, figures) for key, figures in sorted(merged.items())]


def fact_from_row(row: Mapping[Any, Any]) -> Fact:
    return Fact(tuple(str(row[d] or "") for d in DIMENSIONS), Figures.of(row))
