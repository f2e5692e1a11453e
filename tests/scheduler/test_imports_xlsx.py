"""XLSX import: the first sheet of a workbook reads like the same table saved as CSV."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.accounts import create_user
from scheduler.db.models import Bulletin, Station
from scheduler.db.session import transaction
from scheduler.imports import (
    BULLETIN_COLUMNS,
    STATION_COLUMNS,
    ImportFailed,
    import_bulletins,
    import_stations,
    read_rows,
    read_xlsx,
)

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def workbook(*rows: list[Any], first_sheet_title: str = "Danh sách") -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = first_sheet_title
    for row in rows:
        sheet.append(row)
    other = book.create_sheet("Ghi chú")
    other.append(["code", "name"])
    other.append(["KHONG-NHAP", "Trang thứ hai không được nhập"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_station_sheet_with_number_cells_imports_like_csv(sessions: sessionmaker[Session]) -> None:
    data = workbook(
        list(STATION_COLUMNS),
        ["IGR-01", "Cụm loa trung tâm xã Ia Grai", "Xã Ia Grai", "Khu vực Ia Grai", "Gia Lai", "vi;jra",
         "T2-CN 05:30-06:15; T2-T6 17:00-17:45", 13.993, 107.814, 10],
        ["KBG-02", "Cụm loa làng Kon Lốc", "Xã Kbang", "", "Gia Lai", "vi;bdq", "T2-T7 05:30-06:00", None, None, 5.0],
    )  # fmt: skip
    with transaction(sessions) as s:
        result = import_stations(s, read_xlsx(data))
    assert (result.created, result.codes) == (2, ["IGR-01", "KBG-02"])
    with sessions() as s:
        igr = s.scalar(select(Station).where(Station.code == "IGR-01"))
        kbg = s.scalar(select(Station).where(Station.code == "KBG-02"))
        assert igr is not None and kbg is not None
        assert igr.commune.name == "Xã Ia Grai" and igr.commune.area is not None
        assert igr.language_list == ("vi", "jra")
        assert (igr.lat, igr.lon, igr.speakers) == (13.993, 107.814, 10)
        assert igr.windows == "T2-CN 05:30-06:15; T2-T6 17:00-17:45"
        assert (kbg.lat, kbg.speakers, kbg.commune.area) == (None, 5, None)
        assert s.scalar(select(func.count()).select_from(Station)) == 2  # the second sheet is not read


def test_bulletin_sheet_with_date_cells_imports_with_its_recording(
    sessions: sessionmaker[Session], media_dir: Path, tmp_path: Path
) -> None:
    with transaction(sessions) as s:
        import_stations(s, "code,name,commune,area,province,languages,windows,lat,lon,speakers\n"
                           "IGR-01,Cụm loa trung tâm,Xã Ia Grai,,Gia Lai,vi;jra,T2-CN 05:30-06:00,,,10\n")  # fmt: skip
        approver = create_user(s, "lanhdao", "approver", "mat-khau-123", NOW)
    (tmp_path / "jrai.mp3").write_bytes(b"ID3 ban tin tieng Jrai")
    data = workbook(
        list(BULLETIN_COLUMNS),
        ["CCHC-014", "Cấp căn cước cho trẻ em",
         "Công an xã tổ chức cấp thẻ căn cước cho trẻ em dưới 14 tuổi từ ngày 01/12 đến ngày 15/12.",
         "tthc", "vi", "uu_tien", datetime(2026, 11, 23), date(2026, 12, 15), 4, "Xã Ia Grai", None],
        ["JRAI-001", "Bản tin tiếng Jrai", "", "thong_tin_khac", "jra", "thuong", "23/11/2026", "30/11/2026", 1.0,
         "IGR-01", "jrai.mp3"],
    )  # fmt: skip
    with transaction(sessions) as s:
        approver = s.merge(approver)
        result = import_bulletins(s, read_xlsx(data), tmp_path, media_dir, NOW, approver)
    assert result.created == 2
    with sessions() as s:
        cccd = s.scalar(select(Bulletin).where(Bulletin.code == "CCHC-014"))
        jrai = s.scalar(select(Bulletin).where(Bulletin.code == "JRAI-001"))
        assert cccd is not None and jrai is not None
        assert (cccd.valid_from, cccd.valid_to, cccd.plays_per_week) == (date(2026, 11, 23), date(2026, 12, 15), 4)
        assert cccd.targets == ["Xã Ia Grai"] and cccd.status == "da_duyet"
        assert jrai.recording_file is not None
        assert (media_dir / jrai.recording_file).read_bytes() == b"ID3 ban tin tieng Jrai"
        assert jrai.plays_per_week == 1


def test_bad_sheet_rows_are_named_by_their_spreadsheet_row_and_nothing_is_stored(
    sessions: sessionmaker[Session],
) -> None:
    data = workbook(
        list(STATION_COLUMNS),
        ["OK-01", "Cụm loa tốt", "Xã A", "", "Gia Lai", "vi", "T2-CN 05:30-06:00", None, None, 1],
        [],  # a blank row: the next row is still row 4, as the spreadsheet shows it
        ["BAD-01", "Sai giờ", "Xã A", "", "Gia Lai", "vi", "T9 05:30-06:00", None, None, 1],
        ["BAD-02", "Sai ngôn ngữ", "Xã A", "", "Gia Lai", "xx", "T2-CN 05:30-06:00", None, None, 1],
        ["BAD-03", "Sai toạ độ", "Xã A", "", "Gia Lai", "vi", "T2-CN 05:30-06:00", "mười ba", None, 1],
    )  # fmt: skip
    with pytest.raises(ImportFailed) as failed, transaction(sessions) as s:
        import_stations(s, read_xlsx(data))
    errors = failed.value.errors
    assert [e.split(":")[0] for e in errors] == ["Dòng 4", "Dòng 5", "Dòng 6"]
    assert "Ngôn ngữ «xx»" in errors[1]
    assert "cột lat: «mười ba» không phải là số" in errors[2]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Station)) == 0


def test_sheet_missing_a_column_is_refused_naming_it() -> None:
    data = workbook(["code", "name", "commune", "province"], ["IGR-01", "Cụm loa", "Xã Ia Grai", "Gia Lai"])
    with pytest.raises(ImportFailed) as failed:
        read_rows(read_xlsx(data), STATION_COLUMNS)
    assert failed.value.errors == [
        "Dòng 1: thiếu cột area, languages, windows, lat, lon, speakers. "
        "Cần đủ các cột: code,name,commune,area,province,languages,windows,lat,lon,speakers."
    ]


def test_header_cells_are_trimmed_and_extra_columns_ignored() -> None:
    data = workbook([" code ", "name", "commune", "area", "province", "languages", "windows", "lat", "lon",
                     "speakers", "ghi chú"],
                    ["IGR-01", "Cụm loa", "Xã Ia Grai", "", "Gia Lai", "vi", "", "", "", 3, "thêm"])  # fmt: skip
    rows = read_rows(read_xlsx(data), STATION_COLUMNS)
    assert rows == [(2, {"code": "IGR-01", "name": "Cụm loa", "commune": "Xã Ia Grai", "area": "",
                         "province": "Gia Lai", "languages": "vi", "windows": "", "lat": "", "lon": "",
                         "speakers": "3", "ghi chú": "thêm"})]  # fmt: skip


@pytest.mark.parametrize("data", [b"code,name\nIGR-01,Cum loa\n", b"PK\x03\x04 not really a zip", b""])
def test_a_file_that_is_not_a_workbook_is_refused_in_vietnamese(data: bytes) -> None:
    with pytest.raises(ImportFailed) as failed:
        read_xlsx(data)
    assert failed.value.errors == [
        "Tệp không đọc được như bảng tính XLSX. Mở bằng Excel hoặc LibreOffice rồi lưu lại dạng .xlsx."
    ]


def test_topics_priorities_and_languages_typed_as_words_import_like_their_codes(
    sessions: sessionmaker[Session], media_dir: Path, tmp_path: Path
) -> None:
    """A person filling the sheet in Excel writes «Dịch vụ công trực tuyến», not dvc_truc_tuyen."""
    with transaction(sessions) as s:
        import_stations(s, "code,name,commune,area,province,languages,windows,lat,lon,speakers\n"
                           "IGR-01,Cụm loa trung tâm,Xã Ia Grai,,Gia Lai,vi;jra,T2-CN 05:30-06:00,,,10\n")  # fmt: skip
    typed = [
        ("B-1", "Dịch vụ công trực tuyến", "Ưu tiên", "Tiếng Việt", "dvc_truc_tuyen", "uu_tien", "vi"),
        ("B-2", "  đường dây nóng, phản ánh kiến nghị ", "thông thường", "", "duong_day_nong", "thuong", "vi"),
        ("B-3", "Cai cach the che", "KHẨN CẤP", "tiếng jrai", "the_che", "khan_cap", "jra"),
        ("B-4", "tthc", "uu_tien", "vi", "tthc", "uu_tien", "vi"),
    ]
    data = workbook(list(BULLETIN_COLUMNS), *[
        [code, f"Bản tin {code}", "Nội dung đọc thử.", topic, language, priority, date(2026, 11, 23),
         date(2026, 11, 30), 2, "IGR-01", None] for code, topic, priority, language, *_ in typed])  # fmt: skip
    with transaction(sessions) as s:
        assert import_bulletins(s, read_xlsx(data), tmp_path, media_dir, NOW).created == 4
    with sessions() as s:
        stored = {b.code: (b.topic, b.priority, b.language) for b in s.scalars(select(Bulletin))}
    assert stored == {code: (topic, priority, language) for code, *_, topic, priority, language in typed}


@pytest.mark.parametrize(("topic", "expected"), [
    ("Cải cách", "khớp nhiều chủ đề: Cải cách thể chế; Cải cách thủ tục hành chính;"),
    ("Thời tiết", "Chủ đề «Thời tiết» không có trong danh mục. Ghi tên chủ đề (ví dụ «Dịch vụ công trực tuyến"),
])  # fmt: skip
def test_a_topic_word_that_fits_several_or_none_is_refused_saying_why(
    sessions: sessionmaker[Session], media_dir: Path, tmp_path: Path, topic: str, expected: str
) -> None:
    with transaction(sessions) as s:
        import_stations(s, "code,name,commune,area,province,languages,windows,lat,lon,speakers\n"
                           "IGR-01,Cụm loa trung tâm,Xã Ia Grai,,Gia Lai,vi,T2-CN 05:30-06:00,,,10\n")  # fmt: skip
    csv_text = ",".join(BULLETIN_COLUMNS) + f"\nB-9,Tiêu đề,Nội dung,{topic},,,2026-11-23,2026-11-30,1,IGR-01,\n"
    with transaction(sessions) as s, pytest.raises(ImportFailed) as failed:
        import_bulletins(s, csv_text, tmp_path, media_dir, NOW)
    assert expected in str(failed.value.errors)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Bulletin)) == 0
