"""The report as an Excel workbook with the administrative header and signature block.

Numbers stay numbers (minutes, percentages, coordinates), so the sheet can be summed and charted.
"""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from scheduler.reports.airtime import BY_CHOICES, AirtimeReport
from scheduler.reports.exports.header import (
    HEAD,
    HEAD_NOTE,
    PREPARER,
    PREPARER_NOTE,
    header_text,
    summary_lines,
)
from scheduler.reports.exports.inert import inert_workbook
from scheduler.reports.exports.table import (
    MISSED_HEADINGS,
    MISSED_KINDS,
    TREND_HEADINGS,
    Cell,
    CellKind,
    Column,
    columns_for,
    missed_cells,
    table_rows,
    total_row,
    trend_cells,
)

MAIN_SHEET = "Báo cáo"
THIN = Side(style="thin", color="000000")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
FORMATS: dict[CellKind, str] = {"int": "#,##0", "minutes": "#,##0.00", "ratio": "0.00", "float": "0.0000",
                                "text": "General"}  # fmt: skip
EXTRA_SHEETS = {
    "commune": "Theo xã",
    "topic": "Theo chủ đề",
    "language": "Theo ngôn ngữ",
    "source": "Theo nguồn",
    "priority": "Theo mức ưu tiên",
}


def _merged(ws: Worksheet, row: int, first: int, last: int, value: str, font: Font) -> None:
    ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=max(first, last))
    cell = ws.cell(row=row, column=first, value=value)
    cell.font = font
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _table(ws: Worksheet, top: int, headings: list[str], kinds: list[CellKind], rows: list[list[Cell]],
           total: list[Cell] | None = None, widths: list[float] | None = None) -> int:
    """Write a boxed table from row `top`; return the next free row."""
    for col, heading in enumerate(headings, 1):
        cell = ws.cell(row=top, column=col, value=heading)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = BOX
        if widths:
            ws.column_dimensions[get_column_letter(col)].width = widths[col - 1]
    ws.row_dimensions[top].height = 45
    body = [*rows, total] if total is not None else rows
    for r, values in enumerate(body, top + 1):
        for col, (value, kind) in enumerate(zip(values, kinds, strict=True), 1):
            cell = ws.cell(row=r, column=col, value=value)
            cell.border = BOX
            cell.number_format = FORMATS[kind]
            if total is not None and r == top + len(body):
                cell.font = Font(bold=True)
    return top + len(body) + 1


def _header(ws: Worksheet, report: AirtimeReport, width: int) -> int:
    text = header_text(report)
    left_end = max(2, width // 3)
    right_start = left_end + 1
    _merged(ws, 1, 1, left_end, text.unit, Font(bold=True))
    _merged(ws, 1, right_start, width, text.nation, Font(bold=True))
    _merged(ws, 2, right_start, width, text.motto, Font(bold=True, underline="single"))
    _merged(ws, 3, right_start, width, text.place_date, Font(italic=True))
    _merged(ws, 5, 1, width, text.title, Font(bold=True, size=13))
    _merged(ws, 6, 1, width, text.subtitle, Font(bold=True))
    _merged(ws, 7, 1, width, text.period, Font(italic=True))
    _merged(ws, 8, 1, width, f"{text.scope}. {text.as_of}.", Font(italic=True))
    lines = summary_lines(report)
    for n, line in enumerate(lines):
        ws.cell(row=9 + n, column=1, value=line)
    return 10 + len(lines)  # a blank row, then the table


def _signatures(ws: Worksheet, top: int, width: int) -> None:
    left_end = max(2, width // 3)
    right_start = max(left_end + 1, width - left_end + 1)
    _merged(ws, top, 1, left_end, PREPARER, Font(bold=True))
    _merged(ws, top + 1, 1, left_end, PREPARER_NOTE, Font(italic=True))
    _merged(ws, top, right_start, width, HEAD, Font(bold=True))
    _merged(ws, top + 1, right_start, width, HEAD_NOTE, Font(italic=True))


def _columns_sheet(ws: Worksheet, report: AirtimeReport, by: str, top: int) -> int:
    columns: tuple[Column, ...] = columns_for(by)
    rows = report.rows if by == report.request.by else report.breakdowns[by]
    return _table(
        ws, top, [c.heading for c in columns], [c.kind for c in columns], table_rows(rows, columns),
        total_row(report.totals, columns), [c.width for c in columns],
    )  # fmt: skip


def xlsx_bytes(report: AirtimeReport) -> bytes:
    """The workbook: the main table with header and signatures, then one sheet per other grouping."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = MAIN_SHEET
    by = report.request.by
    width = len(columns_for(by))
    top = _header(ws, report, width)
    after = _columns_sheet(ws, report, by, top)
    _signatures(ws, after + 2, width)
    ws.print_options.horizontalCentered = True
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.freeze_panes = ws.cell(row=top + 1, column=1)

    for choice, title in EXTRA_SHEETS.items():
        if choice == by:
            continue
        sheet = wb.create_sheet(title)
        _merged(sheet, 1, 1, len(columns_for(choice)), f"Thời lượng phát theo {BY_CHOICES[choice].lower()}",
                Font(bold=True))
        _columns_sheet(sheet, report, choice, 3)

    trend = wb.create_sheet("Theo thời gian")
    _table(trend, 1, list(TREND_HEADINGS), ["text", "minutes", "minutes", "ratio", "int", "int", "int"],
           trend_cells(report), widths=[12, 14, 14, 10, 12, 12, 10])

    missed = wb.create_sheet("Lượt bỏ lỡ")
    cells = missed_cells(report.missed, ZoneInfo(report.timezone))
    end = _table(missed, 1, list(MISSED_HEADINGS), list(MISSED_KINDS), cells,
                 widths=[5, 17, 10, 16, 10, 40, 24, 12, 12, 18, 36])
    if not report.missed_shown_all:
        missed.cell(row=end + 1, column=1,
                    value=f"Chỉ liệt kê {len(report.missed)} trên tổng số {report.totals.missed_items} lượt bỏ lỡ.")

    inert_workbook(wb)  # titles, reasons, names: text, never a live formula
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
