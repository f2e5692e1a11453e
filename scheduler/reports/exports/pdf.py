"""The report as a printable PDF (A4 landscape) with embedded DejaVu fonts, charts and signature block."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.fonts import FontFace

from scheduler.reports.airtime import AirtimeReport
from scheduler.reports.exports.charts import all_charts
from scheduler.reports.exports.fonts import dejavu
from scheduler.reports.exports.header import (
    HEAD,
    HEAD_NOTE,
    PREPARER,
    PREPARER_NOTE,
    header_text,
    summary_lines,
)
from scheduler.reports.exports.table import (
    MISSED_HEADINGS,
    MISSED_KINDS,
    Cell,
    CellKind,
    columns_for,
    format_cell,
    missed_cells,
    table_rows,
    total_row,
)

FONT = "DejaVu"
PDF_MISSED_MAX = 300  # the full list is in the spreadsheet; the printout shows the first ones
MISSED_WIDTHS = (8, 22, 14, 22, 14, 52, 34, 16, 14, 20, 46)


class _ReportPDF(FPDF):
    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(FONT, "I", 7)
        self.cell(0, 5, f"Trang {self.page_no()}/{{nb}}", align="C")


def _table(pdf: FPDF, headings: list[str], kinds: list[CellKind], rows: list[list[Cell]],
           widths: list[float], font_size: float = 7, bold_last: bool = False) -> None:
    pdf.set_font(FONT, "", font_size)
    align = ["RIGHT" if k in ("int", "minutes", "ratio", "float") else "LEFT" for k in kinds]
    with pdf.table(
        col_widths=widths, text_align=tuple(align), line_height=font_size * 0.55,
        headings_style=FontFace(emphasis="BOLD", fill_color=(225, 232, 242)), first_row_as_headings=True,
    ) as table:  # fmt: skip
        head = table.row()
        for heading in headings:
            head.cell(heading, align="CENTER")
        for n, values in enumerate(rows, 1):
            style = FontFace(emphasis="BOLD") if bold_last and n == len(rows) else None
            row = table.row(style=style)
            for value, kind in zip(values, kinds, strict=True):
                row.cell(format_cell(value, kind))


def _header(pdf: FPDF, report: AirtimeReport) -> None:
    text = header_text(report)
    left_w, right_w = 110, pdf.epw - 110
    top = pdf.get_y()
    pdf.set_font(FONT, "B", 10)
    pdf.multi_cell(left_w, 5, text.unit, align="C")
    pdf.set_xy(pdf.l_margin + left_w, top)
    pdf.multi_cell(right_w, 5, text.nation, align="C", new_x="LEFT", new_y="NEXT")
    pdf.multi_cell(right_w, 5, text.motto, align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_font(FONT, "I", 9)
    pdf.multi_cell(right_w, 6, text.place_date, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    lines = [
        ("B", 13, 7, text.title),
        ("B", 10, 6, text.subtitle),
        ("I", 9, 5, text.period),
        ("I", 9, 5, f"{text.scope}. {text.as_of}."),
    ]
    for style, size, height, line in lines:
        pdf.set_font(FONT, style, size)
        pdf.multi_cell(0, height, line, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FONT, "", 9)
    for line in summary_lines(report):
        pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _signatures(pdf: FPDF) -> None:
    if pdf.get_y() > pdf.h - 45:
        pdf.add_page()
    pdf.ln(8)
    half = pdf.epw / 2
    y = pdf.get_y()
    for x, title, note in ((pdf.l_margin, PREPARER, PREPARER_NOTE), (pdf.l_margin + half, HEAD, HEAD_NOTE)):
        pdf.set_xy(x, y)
        pdf.set_font(FONT, "B", 10)
        pdf.cell(half, 6, title, align="C")
        pdf.set_xy(x, y + 6)
        pdf.set_font(FONT, "I", 9)
        pdf.cell(half, 5, note, align="C")
    pdf.set_y(y + 30)


def pdf_bytes(report: AirtimeReport) -> bytes:
    pdf = _ReportPDF(orientation="L", unit="mm", format="A4")
    pdf.set_margins(12, 12, 12)
    pdf.set_auto_page_break(True, margin=14)
    for style in ("", "B", "I"):
        pdf.add_font(FONT, style, str(dejavu(style)))
    pdf.set_title(header_text(report).title)
    pdf.set_creator("loaxa")
    pdf.add_page()
    _header(pdf, report)

    columns = columns_for(report.request.by)
    scale = pdf.epw / sum(c.width for c in columns)
    rows = [*table_rows(report.rows, columns), total_row(report.totals, columns)]
    _table(pdf, [c.heading for c in columns], [c.kind for c in columns], rows,
           [c.width * scale for c in columns], bold_last=True)
    _signatures(pdf)

    pdf.add_page()
    pdf.set_font(FONT, "B", 11)
    pdf.cell(0, 7, "Biểu đồ", new_x="LMARGIN", new_y="NEXT")
    for png in all_charts(report).values():
        image = io.BytesIO(png)
        if pdf.get_y() > pdf.h - 80:
            pdf.add_page()
        pdf.image(image, w=170, x=(pdf.w - 170) / 2)
        pdf.ln(4)

    pdf.add_page()
    pdf.set_font(FONT, "B", 11)
    shown = report.missed[:PDF_MISSED_MAX]
    pdf.cell(0, 7, f"Lượt bỏ lỡ và lý do ({len(shown)} / {report.totals.missed_items} lượt)",
             new_x="LMARGIN", new_y="NEXT")
    if shown:
        scale = pdf.epw / sum(MISSED_WIDTHS)
        _table(pdf, list(MISSED_HEADINGS), list(MISSED_KINDS), missed_cells(shown, ZoneInfo(report.timezone)),
               [w * scale for w in MISSED_WIDTHS], font_size=6.5)
    else:
        pdf.set_font(FONT, "", 9)
        pdf.cell(0, 6, "Không có lượt nào bị bỏ lỡ trong kỳ.", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
