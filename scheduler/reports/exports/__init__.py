"""Report files: XLSX, CSV, PDF and JSON, written whole or not at all."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from scheduler.reports.airtime import AirtimeReport

FORMATS: dict[str, str] = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
    "json": "application/json",
}


def render_report(report: AirtimeReport, fmt: str) -> bytes:
    """The report's bytes in `fmt` (one of FORMATS); each format's libraries load only when used."""
    if fmt == "xlsx":
        from scheduler.reports.exports.xlsx import xlsx_bytes

        return xlsx_bytes(report)
    if fmt == "csv":
        from scheduler.reports.exports.csv_file import csv_bytes

        return csv_bytes(report)
    if fmt == "pdf":
        from scheduler.reports.exports.pdf import pdf_bytes

        return pdf_bytes(report)
    if fmt == "json":
        from scheduler.reports.exports.json_file import json_bytes

        return json_bytes(report)
    raise ValueError(f"Định dạng «{fmt}» không hỗ trợ. Chọn một trong: {', '.join(FORMATS)}.")


def write_report(report: AirtimeReport, fmt: str, path: Path) -> int:
    """Render, then write `path` atomically (a temporary file renamed into place); return the size."""
    data = render_report(report, fmt)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A hidden sibling file renamed over the target: readers see the old file or the new, never half.
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        with open(tmp, "xb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return len(data)


def file_name(report: AirtimeReport, fmt: str) -> str:
    """e.g. bao-cao-phat-thanh_2026-11-01_2026-11-30_theo-dai.xlsx"""
    period = report.request.period
    return f"bao-cao-phat-thanh_{period.first}_{period.last}_{BY_SLUGS.get(report.request.by, 'theo-nhom')}.{fmt}"


# File-name words for each grouping of scheduler.reports.airtime.BY_CHOICES (no diacritics in file names).
BY_SLUGS = {"station": "theo-dai", "commune": "theo-xa", "area": "theo-khu-vuc", "topic": "theo-chu-de",
            "language": "theo-ngon-ngu", "priority": "theo-muc-uu-tien", "source": "theo-nguon"}
