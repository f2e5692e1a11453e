"""`loaxa report airtime` and `loaxa report rollup`: files with the expected figures, clear Vietnamese errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from airtime_fixture import FIRST_DAY, TZ, oracle
from click.testing import CliRunner, Result
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.models import AirtimeRollupDay
from scheduler.reports.periods import Period
from scheduler.settings import Settings
from web.cli import main

AS_OF = "2026-11-23T05:00:00+07:00"  # the `clock` fixture's instant


def _run(settings: Settings, *args: str) -> Result:
    env = {"LOAXA_DATABASE_URL": settings.database_url, "LOAXA_DATA_DIR": str(settings.data_dir)}
    return CliRunner().invoke(main, ["report", *args], env=env, catch_exceptions=False)


def _week_total(sessions: sessionmaker[Session]) -> tuple[int, int, int, int]:
    with sessions() as s:
        t = oracle(s, *Period.custom(FIRST_DAY, FIRST_DAY.replace(day=22)).utc_bounds(TZ)).total()
    return t.planned_items, t.aired_items, t.missed_items, t.aired_ms


def test_foundation_csv_command_writes_the_expected_totals(settings: Settings, sessions: sessionmaker[Session],
                                                           report_world: dict[str, int], tmp_path: Path) -> None:
    out = tmp_path / "bao-cao.csv"
    result = _run(settings, "airtime", "--from", "2026-11-16", "--to", "22/11/2026", "--format", "csv",
                  "-o", str(out), "--now", AS_OF)
    assert result.exit_code == 0, result.output
    planned, aired, missed, _ms = _week_total(sessions)
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    assert rows[-1][8:11] == [str(planned), str(aired), str(missed)]
    assert f"kế hoạch {planned} lượt, đã phát {aired}, bỏ lỡ {missed}" in result.output


@pytest.mark.parametrize("by", ["station", "commune", "topic", "language"])
def test_xlsx_grouped_as_asked(settings: Settings, sessions: sessionmaker[Session], report_world: dict[str, int],
                               tmp_path: Path, by: str) -> None:
    out = tmp_path / f"{by}.xlsx"
    result = _run(settings, "airtime", "--from", "16/11/2026", "--to", "22/11/2026", "--by", by, "-o", str(out),
                  "--now", AS_OF)
    assert result.exit_code == 0, result.output
    planned, aired, missed, _ms = _week_total(sessions)
    rows = list(load_workbook(out)["Báo cáo"].iter_rows(values_only=True))
    heads = next(r for r in rows if "Lượt phát theo kế hoạch" in r)
    total = next(r for r in rows if "Tổng cộng" in r)
    at = [heads.index(h) for h in ("Lượt phát theo kế hoạch", "Lượt đã phát", "Lượt bỏ lỡ")]
    assert [total[i] for i in at] == [planned, aired, missed]
    assert heads[1] == {"station": "Mã đài", "commune": "Xã", "topic": "Chủ đề", "language": "Ngôn ngữ"}[by]


def test_named_period_to_pdf_and_json(settings: Settings, sessions: sessionmaker[Session],
                                      report_world: dict[str, int], tmp_path: Path) -> None:
    pdf = tmp_path / "quy4.pdf"
    assert _run(settings, "airtime", "--period", "quy", "--year", "2026", "--index", "4", "--format", "pdf",
                "-o", str(pdf), "--now", AS_OF).exit_code == 0
    text = PdfReader(pdf).pages[0].extract_text()
    assert "Quý IV năm 2026" in text and "Độc lập - Tự do - Hạnh phúc" in text
    result = _run(settings, "airtime", "--period", "thang", "--year", "2026", "--index", "11", "--format", "json",
                  "--now", AS_OF)
    data = json.loads(result.stdout)
    _planned, _aired, missed, aired_ms = _week_total(sessions)
    with sessions() as s:  # the month counts what is planned after now (23–24 Nov) too, misses none of it
        month = oracle(s, *Period.custom(FIRST_DAY.replace(day=1), FIRST_DAY.replace(day=30)).utc_bounds(TZ)).total()
    totals = data["totals"]
    assert (totals["planned_items"], totals["aired_ms"], totals["missed_items"]) == (month.planned_items, aired_ms, missed)
    assert data["period"]["label"] == "Tháng 11 năm 2026"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "31/11/2026", "--to", "30/11/2026"], "--from: Ngày «31/11/2026» không hợp lệ"),
        (["--from", "30/11/2026", "--to", "2026-11-01"], "Ngày kết thúc 01/11/2026 trước ngày bắt đầu 30/11/2026"),
        (["--from", "01/11/2026"], "Thiếu kỳ báo cáo"),
        (["--period", "quy", "--year", "2026", "--index", "5"], "Nhập số thứ tự từ 1 đến 4"),
        (["--from", "01/11/2026", "--to", "30/11/2026", "--by", "tuan"], "--by «tuan» không có"),
        (["--from", "01/11/2026", "--to", "30/11/2026", "--commune", "X", "--station", "Y"], "Chỉ chọn một phạm vi"),
    ],
)
def test_bad_input_gets_a_vietnamese_usage_error_and_no_file(settings: Settings, report_world: dict[str, int],
                                                             tmp_path: Path, args: list[str], message: str) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    result = _run(settings, "airtime", *args, "-o", str(folder / "bao-cao.xlsx"))
    assert result.exit_code == 2
    assert message in result.output
    assert list(folder.iterdir()) == []


def test_unknown_format_is_refused(settings: Settings, report_world: dict[str, int], tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    result = _run(settings, "airtime", "--from", "01/11/2026", "--to", "30/11/2026", "-o", str(folder / "r.doc"))
    assert result.exit_code == 2 and "Định dạng «doc» không hỗ trợ" in result.output
    assert list(folder.iterdir()) == []


def test_rollup_command_rolls_closed_days_once(settings: Settings, sessions: sessionmaker[Session],
                                               report_world: dict[str, int]) -> None:
    first = _run(settings, "rollup", "--now", AS_OF)
    assert first.exit_code == 0 and "Đã tổng hợp 7 ngày, từ 16/11/2026 đến 22/11/2026." in first.output
    assert "Không còn ngày nào cần tổng hợp." in _run(settings, "rollup", "--now", AS_OF).output
    assert "Đã tổng hợp lại ngày 19/11/2026." in _run(settings, "rollup", "--day", "19/11/2026").output
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(AirtimeRollupDay)) == 7
