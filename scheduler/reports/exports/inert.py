"""Cells no spreadsheet evaluates (OWASP CSV injection): titles, reasons and names come from stations,
imports and editors, and `=HYPERLINK(…)` must reach a report as text, never as a live formula."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openpyxl import Workbook

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert_text(value: object) -> str:
    """Text for a CSV cell: a leading = + - @ (or tab, carriage return) gets a quote, as OWASP advises."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def inert_workbook(wb: Workbook) -> int:
    """Every cell openpyxl took for a formula becomes a quoted text cell (loaxa writes no formulas);
    how many there were."""
    changed = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
                    cell.quotePrefix = True
                    changed += 1
    return changed
