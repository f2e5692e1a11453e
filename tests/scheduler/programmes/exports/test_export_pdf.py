"""The printable programme sheet: a PDF in Vietnamese with full diacritics and an embedded font."""

from __future__ import annotations

import io
import unicodedata
from typing import Any

import pypdf
from export_world import BASE_URL, TZ, WEEK, load_programme
from sqlalchemy.orm import Session, sessionmaker

from scheduler.programmes.exports import export_programme
from scheduler.programmes.exports.labels import duration_label
from scheduler.programmes.exports.sheet import to_pdf
from scheduler.wire import parse_manifest


def _pdf(sessions: sessionmaker[Session], station: str) -> bytes:
    with sessions() as session:
        return export_programme(load_programme(session, station), "pdf", TZ, BASE_URL)


def _text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return unicodedata.normalize("NFC", "\n".join(page.extract_text() for page in reader.pages))


def test_sheet_reads_in_vietnamese_with_diacritics(built_week: sessionmaker[Session]) -> None:
    text = _text(_pdf(built_week, "IAGRAI-01"))
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "ĐÀI TRUYỀN THANH XÃ IA GRAI",
        "LỊCH PHÁT THANH TUẦN 48 (23/11 – 29/11/2026)",
        "Thứ Hai, 23/11/2026",
        "Chủ nhật, 29/11/2026",
        "Cụm loa thôn Plei Ơi",
        "Khẩn cấp",
        "NGƯỜI LẬP BIỂU",
        "THỦ TRƯỞNG ĐƠN VỊ",
    ):
        assert expected in text, expected
    assert "Cảnh báo bão số 9" in text
    assert "XÃ XÃ" not in text and "2026-W" not in text  # the unit named once; the week as a person reads it


def test_relay_blocks_are_listed_as_tiep_song(built_week: sessionmaker[Session]) -> None:
    text = _text(_pdf(built_week, "CHUPAH-01"))
    assert "Tiếp sóng" in text and "Thời sự VOV1" in text


def test_the_font_is_embedded(built_week: sessionmaker[Session]) -> None:
    reader = pypdf.PdfReader(io.BytesIO(_pdf(built_week, "IAGRAI-01")))
    fonts: Any = reader.pages[0]["/Resources"]["/Font"]  # type: ignore[index]
    descriptors = [font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"] for font in fonts.values()]
    assert descriptors and all("/FontFile2" in d for d in descriptors)
    assert all("DejaVu" in str(d["/FontName"]) for d in descriptors)


def test_a_week_without_items_prints_each_day_as_silent() -> None:
    manifest = parse_manifest({"format": 1, "station": "TRONG-01", "week": str(WEEK), "version": 1,
                               "timezone": "Asia/Ho_Chi_Minh", "generated_at": "2026-11-23T05:00:00+07:00", "items": []})
    text = _text(to_pdf(manifest))
    assert text.count("Không phát.") == 7


def test_durations_read_naturally() -> None:
    assert [duration_label(ms) for ms in (45_000, 95_500, 120_000, 1_800_000)] == [
        "45 giây", "1 phút 36 giây", "2 phút", "30 phút"]
