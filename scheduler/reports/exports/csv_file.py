"""The report's main table as CSV: UTF-8 with a byte-order mark, so Excel shows the diacritics."""

from __future__ import annotations

import csv
import io

from scheduler.reports.airtime import AirtimeReport
from scheduler.reports.exports.inert import inert_text
from scheduler.reports.exports.table import columns_for, table_rows, total_row

BOM = "\ufeff"


def csv_bytes(report: AirtimeReport) -> bytes:
    """Heading row, one row per group, then «Tổng cộng»; numbers plain (dot decimals), blanks empty."""
    columns = columns_for(report.request.by)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.heading for c in columns])  # names and titles below may come from anyone: inert
    for cells in [*table_rows(report.rows, columns), total_row(report.totals, columns)]:
        writer.writerow(["" if value is None else inert_text(value) if isinstance(value, str) else value
                         for value in cells])
    return (BOM + out.getvalue()).encode("utf-8")
