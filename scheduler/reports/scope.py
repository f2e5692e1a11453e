"""What part of the province a report covers: all of it, one area, one commune or one station."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, true

Level = Literal["province", "area", "commune", "station"]
LEVELS: dict[str, str] = {"province": "Toàn tỉnh", "area": "Khu vực", "commune": "Xã", "station": "Đài"}


@dataclass(frozen=True)
class Scope:
    level: Level = "province"
    value: str = ""  # area or commune name, or station code; empty for the whole province

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"Cấp báo cáo «{self.level}» không có. Chọn một trong: {', '.join(LEVELS)}.")
        if self.level != "province" and not self.value.strip():
            raise ValueError(f"Báo cáo cấp «{LEVELS[self.level]}» cần tên (hoặc mã đài) cụ thể.")

    @property
    def label(self) -> str:
        return LEVELS["province"] if self.level == "province" else f"{LEVELS[self.level]}: {self.value}"

    def condition(self, station_code: Any, commune: Any, area: Any) -> ColumnElement[bool]:
        """A WHERE clause over the given columns (a roll-up's copies, or the live station's names)."""
        column = {"station": station_code, "commune": commune, "area": area}.get(self.level)
        return true() if column is None else column == self.value

    def accepts(self, station_code: str, commune: str, area: str) -> bool:
        value = {"station": station_code, "commune": commune, "area": area}.get(self.level)
        return value is None or value == self.value
