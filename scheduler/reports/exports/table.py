"""The report's tables as columns and cells, shared by every file format (headings are Vietnamese)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from scheduler.catalogue import language_label
from scheduler.domain import priority_label
from scheduler.reports.airtime import BY_CHOICES, AirtimeReport, Row, kind_label, topic_label
from scheduler.reports.figures import RESULTS, Figures
from scheduler.reports.periods import format_date
from scheduler.reports.raw import MissedRow

CellKind = Literal["text", "int", "float", "minutes", "ratio"]
Cell = str | int | float | None


@dataclass(frozen=True)
class Column:
    heading: str
    kind: CellKind
    value: Callable[[Row], Cell]
    width: float = 12  # spreadsheet characters; the PDF scales them to the page


def _percent(figures: Figures) -> float | None:
    return None if figures.ratio is None else round(figures.ratio * 100, 2)


FIGURE_COLUMNS: tuple[Column, ...] = (
    Column("Lượt phát theo kế hoạch", "int", lambda r: r.figures.planned_items, 11),
    Column("Lượt đã phát", "int", lambda r: r.figures.aired_items, 9),
    Column("Lượt bỏ lỡ", "int", lambda r: r.figures.missed_items, 9),
    Column("Tin khẩn cấp đã phát", "int", lambda r: r.figures.emergency_items, 10),
    Column("Thời lượng kế hoạch (phút)", "minutes", lambda r: round(r.figures.planned_minutes, 2), 12),
    Column("Thời lượng đã phát (phút)", "minutes", lambda r: round(r.figures.aired_minutes, 2), 12),
    Column("Tỷ lệ thời lượng (%)", "ratio", lambda r: _percent(r.figures), 10),
)

_PLACE_COLUMNS: dict[str, tuple[Column, ...]] = {
    "station": (
        Column("Mã đài", "text", lambda r: r.key, 10),
        Column("Tên đài (cụm loa)", "text", lambda r: r.station.name if r.station else "(đã xóa)", 28),
        Column("Số loa", "int", lambda r: r.station.speakers if r.station else None, 7),
        Column("Xã", "text", lambda r: r.commune, 16),
        Column("Khu vực", "text", lambda r: r.area, 16),
        Column("Vĩ độ", "float", lambda r: r.station.lat if r.station else None, 9),
        Column("Kinh độ", "float", lambda r: r.station.lon if r.station else None, 9),
    ),
    "commune": (
        Column("Xã", "text", lambda r: r.label, 18),
        Column("Khu vực", "text", lambda r: r.area, 18),
        Column("Số đài", "int", lambda r: r.stations, 7),
        Column("Số loa", "int", lambda r: r.speakers, 7),
    ),
    "area": (
        Column("Khu vực", "text", lambda r: r.label, 22),
        Column("Số đài", "int", lambda r: r.stations, 7),
        Column("Số loa", "int", lambda r: r.speakers, 7),
    ),
}


def columns_for(by: str) -> tuple[Column, ...]:
    """STT, the group's own columns, then the figures."""
    place = _PLACE_COLUMNS.get(by) or (Column(BY_CHOICES[by], "text", lambda r: r.label, 34),)
    return (Column("STT", "int", lambda r: None, 5), *place, *FIGURE_COLUMNS)


def table_rows(rows: list[Row], columns: tuple[Column, ...]) -> list[list[Cell]]:
    """Cells of each row, STT numbered from 1."""
    return [[n if c.heading == "STT" else c.value(row) for c in columns] for n, row in enumerate(rows, 1)]


def total_row(figures: Figures, columns: tuple[Column, ...]) -> list[Cell]:
    """«Tổng cộng» under the first text column, the figures under theirs, blanks elsewhere."""
    total = Row("", "Tổng cộng", figures)
    cells: list[Cell] = []
    labelled = False
    for column in columns:
        if column in FIGURE_COLUMNS:
            cells.append(column.value(total))
        elif column.kind == "text" and column.width >= 14 and not labelled:
            cells.append("Tổng cộng")
            labelled = True
        else:
            cells.append(None)
    return cells


MISSED_HEADINGS = ("STT", "Thời điểm theo lịch", "Mã đài", "Xã", "Loại", "Tiêu đề", "Chủ đề", "Ngôn ngữ",
                   "Mức ưu tiên", "Kết quả", "Lý do")
MISSED_KINDS: tuple[CellKind, ...] = ("int", "text", "text", "text", "text", "text", "text", "text", "text", "text",
                                      "text")


def missed_cells(rows: list[MissedRow], tz: ZoneInfo) -> list[list[Cell]]:
    return [
        [
            n, local_time(m.scheduled_start, tz), m.station_code, m.commune, kind_label(m.kind), m.title,
            topic_label(m.topic), language_label(m.language), priority_label(m.priority),
            RESULTS.get(m.result, m.result), m.reason or "—",
        ]
        for n, m in enumerate(rows, 1)
    ]  # fmt: skip


TREND_HEADINGS = ("Kỳ", "Thời lượng kế hoạch (phút)", "Thời lượng đã phát (phút)", "Tỷ lệ (%)",
                  "Lượt theo kế hoạch", "Lượt đã phát", "Lượt bỏ lỡ")


def trend_cells(report: AirtimeReport) -> list[list[Cell]]:
    return [
        [p.label, round(p.figures.planned_minutes, 2), round(p.figures.aired_minutes, 2), _percent(p.figures),
         p.figures.planned_items, p.figures.aired_items, p.figures.missed_items]
        for p in report.trend
    ]  # fmt: skip


def local_time(instant: datetime, tz: ZoneInfo) -> str:
    local = instant.astimezone(tz)
    return f"{local:%H:%M} {format_date(local.date())}"


def vn_number(value: float, decimals: int = 0, grouping: bool = True) -> str:
    """Vietnamese number style: 1.234.567 and 98,5 (dot groups thousands, comma marks decimals)."""
    text = f"{value:,.{decimals}f}" if grouping else f"{value:.{decimals}f}"
    return text.translate(str.maketrans(",.", ".,"))


def format_cell(value: Cell, kind: CellKind) -> str:
    """A cell as printed on a page."""
    if value is None:
        return ""
    if kind == "int" and isinstance(value, int):
        return vn_number(value)
    if kind in ("minutes", "ratio") and isinstance(value, int | float):
        return vn_number(value, 2)
    if kind == "float" and isinstance(value, int | float):
        return vn_number(value, 4, grouping=False)
    return str(value)
