"""Report pages: every role reads reports, operators only their commune, downloads in every format."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable

import pytest
from airtime_fixture import FIRST_DAY, TZ, oracle
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from pypdf import PdfReader

from scheduler.reports.periods import Period

WEEK_QUERY = "period=tuy_chon&from=16/11/2026&to=22/11/2026"


def _expected_total(app: Flask, stations: list[str] | None = None) -> tuple[int, int, int]:
    start, end = Period.custom(FIRST_DAY, FIRST_DAY.replace(day=22)).utc_bounds(TZ)
    with app.app_context(), app.extensions["loaxa"]["sessions"]() as s:
        total = oracle(s, start, end, stations).total()
    return total.planned_items, total.aired_items, total.missed_items


@pytest.mark.parametrize("username", ["quantri", "bientap", "duyet", "xem"])
def test_every_reading_role_sees_the_province_report(login_as: Callable[[str], FlaskClient], report_app: Flask,
                                                     username: str) -> None:
    page = login_as(username).get(f"/bao-cao/?{WEEK_QUERY}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    planned, aired, missed = _expected_total(report_app)
    assert f"<strong>{planned}</strong> lượt theo kế hoạch" in html
    assert f"<strong>{aired}</strong> lượt đã phát" in html
    assert f"<strong>{missed}</strong> lượt bỏ lỡ" in html
    for code in ("IGR-01", "ISA-01", "ILY-01", "PKU-01"):
        assert code in html
    charts = re.findall(r'<img src="(/bao-cao/bieu-do/[a-z]+\.png\?[^"]+)"', html)
    assert len(charts) == 3  # the three charts, each its own request with the page's query
    for src in charts:
        png = login_as(username).get(src.replace("&amp;", "&"))
        assert png.status_code == 200 and png.mimetype == "image/png" and png.data.startswith(b"\x89PNG")


def test_operator_sees_only_their_commune_whatever_the_query_says(login_as: Callable[[str], FlaskClient],
                                                                   report_app: Flask) -> None:
    client = login_as("vanhanh")
    html = client.get(f"/bao-cao/?{WEEK_QUERY}&level=province&value=").get_data(as_text=True)
    planned, aired, _missed = _expected_total(report_app, ["IGR-01", "IGR-02"])
    assert f"<strong>{planned}</strong> lượt theo kế hoạch" in html
    assert f"<strong>{aired}</strong> lượt đã phát" in html
    assert "IGR-01" in html and "IGR-02" in html
    assert "ISA-01" not in html and "PKU-01" not in html
    data = json.loads(client.get(f"/bao-cao/tai-ve/json?{WEEK_QUERY}&level=area&value=Khu vực Ia Grai").data)
    assert data["scope"] == {"level": "commune", "value": "Xã Ia Grai", "label": "Xã: Xã Ia Grai"}
    assert {r["key"] for r in data["rows"]} == {"IGR-01", "IGR-02"}


def test_anonymous_visitor_is_sent_to_the_login_page(report_app: Flask) -> None:
    response = report_app.test_client().get("/bao-cao/")
    assert response.status_code == 302
    assert "/dang-nhap" in response.headers["Location"]
    download = report_app.test_client().get(f"/bao-cao/tai-ve/xlsx?{WEEK_QUERY}")
    assert download.status_code == 302


def test_default_page_shows_the_current_month(login_as: Callable[[str], FlaskClient]) -> None:
    html = login_as("xem").get("/bao-cao/").get_data(as_text=True)
    assert "Tháng 11 năm 2026" in html
    assert "Số liệu tính đến 05:00 23/11/2026" in html


def test_bad_date_is_explained_and_no_report_is_built(login_as: Callable[[str], FlaskClient]) -> None:
    client = login_as("xem")
    page = client.get("/bao-cao/?period=tuy_chon&from=31/11/2026&to=30/11/2026")
    assert page.status_code == 400
    assert "Ngày «31/11/2026» không hợp lệ" in page.get_data(as_text=True)
    backwards = client.get("/bao-cao/?period=tuy_chon&from=30/11/2026&to=01/11/2026")
    assert "trước ngày bắt đầu" in backwards.get_data(as_text=True)
    download = client.get("/bao-cao/tai-ve/csv?period=quy&year=2026&index=7")
    assert download.status_code == 400
    assert "Nhập số thứ tự từ 1 đến 4" in download.get_data(as_text=True)


def test_downloads_carry_the_same_figures_as_the_page(login_as: Callable[[str], FlaskClient],
                                                      report_app: Flask) -> None:
    client = login_as("duyet")
    planned, aired, missed = _expected_total(report_app)

    xlsx = client.get(f"/bao-cao/tai-ve/xlsx?{WEEK_QUERY}&by=commune")
    assert str(xlsx.mimetype).endswith("spreadsheetml.sheet")
    assert "attachment;" in xlsx.headers["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(xlsx.data))["Báo cáo"].iter_rows(values_only=True))
    heads = next(r for r in rows if "Lượt phát theo kế hoạch" in r)
    total_row = next(r for r in rows if "Tổng cộng" in r)
    at = [heads.index(h) for h in ("Lượt phát theo kế hoạch", "Lượt đã phát", "Lượt bỏ lỡ")]
    assert [total_row[i] for i in at] == [planned, aired, missed]

    text = client.get(f"/bao-cao/tai-ve/csv?{WEEK_QUERY}").data
    assert text.startswith(b"\xef\xbb\xbf")
    last = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))[-1]
    assert "Tổng cộng" in last and [str(planned), str(aired), str(missed)] == last[8:11]

    pdf = client.get(f"/bao-cao/tai-ve/pdf?{WEEK_QUERY}")
    assert pdf.mimetype == "application/pdf"
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()

    data = json.loads(client.get(f"/bao-cao/tai-ve/json?{WEEK_QUERY}").data)
    t = data["totals"]
    assert (t["planned_items"], t["aired_items"], t["missed_items"]) == (planned, aired, missed)


def test_unknown_download_format_is_not_found(login_as: Callable[[str], FlaskClient]) -> None:
    assert login_as("xem").get(f"/bao-cao/tai-ve/docx?{WEEK_QUERY}").status_code == 404


def test_reports_are_linked_from_the_admin_menu(login_as: Callable[[str], FlaskClient]) -> None:
    html = login_as("xem").get("/bao-cao/").get_data(as_text=True)
    assert 'href="/bao-cao/"' in html and "Báo cáo" in html
