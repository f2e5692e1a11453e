"""The abbreviation lexicon: the built-in list, files editors write, overlays from the database."""

from __future__ import annotations

from pathlib import Path

import pytest

from audio.errors import AudioError
from audio.text import Lexicon, LexiconError, normalize

REQUIRED = {
    "CCHC": "cải cách hành chính",
    "TTHC": "thủ tục hành chính",
    "UBND": "Ủy ban nhân dân",
    "HĐND": "Hội đồng nhân dân",
    "MTTQVN": "Mặt trận Tổ quốc Việt Nam",
    "CB,CC,VC": "cán bộ, công chức, viên chức",
    "TT&TT": "Thông tin và Truyền thông",
    "PT-TH": "Phát thanh - Truyền hình",
    "VH&TT": "Văn hóa và Thông tin",
    "BCĐ": "Ban Chỉ đạo",
    "KT-XH": "kinh tế - xã hội",
    "ATTP": "an toàn thực phẩm",
    "BHYT": "bảo hiểm y tế",
    "BHXH": "bảo hiểm xã hội",
    "PCCC": "phòng cháy, chữa cháy",
    "NTM": "nông thôn mới",
    "DVC": "dịch vụ công",
}


def test_default_lexicon_has_the_public_administration_entries() -> None:
    lexicon = Lexicon.default()
    assert len(lexicon) >= 150
    for key, expansion in REQUIRED.items():
        assert lexicon.get(key) == expansion
    for index in ("PAR INDEX", "SIPAS", "PAPI", "PCI", "DDCI"):
        assert index in lexicon


def test_default_lexicon_is_loaded_once() -> None:
    assert Lexicon.default() is Lexicon.default()


def test_tsv_file_with_comments_and_header(tmp_path: Path) -> None:
    path = tmp_path / "extra.tsv"
    path.write_text(
        "# từ viết tắt của xã\nviết tắt\tcách đọc\nHTX\thợp tác xã\n\nBQL chợ\tBan Quản lý chợ\n", encoding="utf-8"
    )
    lexicon = Lexicon.from_file(path)
    assert dict(lexicon.items()) == {"HTX": "hợp tác xã", "BQL chợ": "Ban Quản lý chợ"}


def test_csv_file_allows_commas_inside_quoted_keys(tmp_path: Path) -> None:
    path = tmp_path / "extra.csv"
    path.write_text('abbr,expansion\n"CB,CC","cán bộ, công chức"\nHTX,hợp tác xã\n', encoding="utf-8")
    assert dict(Lexicon.from_file(path).items()) == {"CB,CC": "cán bộ, công chức", "HTX": "hợp tác xã"}


def test_file_with_byte_order_mark_and_windows_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "bom.tsv"
    path.write_bytes("\ufeffHTX\thợp tác xã\r\nKDC\tkhu dân cư\r\n".encode())
    assert dict(Lexicon.from_file(path).items()) == {"HTX": "hợp tác xã", "KDC": "khu dân cư"}


def test_line_without_tab_is_refused_with_its_line_number(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text("HTX\thợp tác xã\nUBND Ủy ban nhân dân\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"dòng 2: 'UBND Ủy ban nhân dân' phải có đúng hai cột"):
        Lexicon.from_file(path)


def test_empty_expansion_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text("HTX\t \n", encoding="utf-8")
    with pytest.raises(LexiconError, match="dòng 1: cách đọc của 'HTX' bị trống"):
        Lexicon.from_file(path)


def test_conflicting_duplicate_is_refused_naming_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "dup.tsv"
    path.write_text("HTX\thợp tác xã\nKDC\tkhu dân cư\nHTX\thộ tiêu xài\n", encoding="utf-8")
    with pytest.raises(LexiconError, match="dòng 3: viết tắt 'HTX' đã có ở dòng 1"):
        Lexicon.from_file(path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="Không mở được tệp từ điển viết tắt"):
        Lexicon.from_file(tmp_path / "missing.tsv")


def test_non_utf8_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "latin.tsv"
    path.write_bytes("HTX\th\xe9\n".encode("latin-1"))
    with pytest.raises(LexiconError, match="không phải văn bản UTF-8"):
        Lexicon.from_file(path)


def test_lexicon_errors_are_audio_errors_and_value_errors() -> None:
    with pytest.raises(AudioError):
        Lexicon({"": "trống"})
    with pytest.raises(ValueError, match="viết tắt '---' không hợp lệ"):
        Lexicon({"---": "gạch"})


def test_with_entries_overlays_without_changing_the_original() -> None:
    base = Lexicon.default()
    overlay = base.with_entries({"UBND": "Ủy ban", "HTX": "hợp tác xã"})
    assert overlay.get("UBND") == "Ủy ban"
    assert overlay.get("HTX") == "hợp tác xã"
    assert base.get("UBND") == "Ủy ban nhân dân"
    assert len(overlay) == len(base) + (0 if "HTX" in base else 1)
    assert normalize("UBND xã", lexicon=overlay) == "Ủy ban xã"


def test_with_entries_validates_the_overlay() -> None:
    with pytest.raises(LexiconError, match="cách đọc của 'HTX' bị trống"):
        Lexicon.default().with_entries({"HTX": ""})


def test_editor_entries_are_used_by_the_normalizer(tmp_path: Path) -> None:
    path = tmp_path / "xa.tsv"
    path.write_text("TTVHTT\tTrung tâm Văn hóa Thể thao\n", encoding="utf-8")
    lexicon = Lexicon.default().with_entries(dict(Lexicon.from_file(path).items()))
    assert normalize("Trung tâm TTVHTT xã", lexicon=lexicon) == "Trung tâm Trung tâm Văn hóa Thể thao xã"
    assert normalize("TTVHTT xã") == "tê tê vê hát tê tê xã"


def test_matching_is_whole_token_longest_first_and_case_sensitive() -> None:
    lexicon = Lexicon({"TT": "thông tư", "TT&TT": "Thông tin và Truyền thông", "TTg": "Thủ tướng"})
    assert normalize("Sở TT&TT", lexicon=lexicon) == "Sở Thông tin và Truyền thông"
    assert normalize("TTg", lexicon=lexicon) == "Thủ tướng"
    assert normalize("TTX", lexicon=lexicon) == "tê tê ích"
    assert normalize("tt", lexicon=lexicon) == "tt"


def test_entry_ending_in_a_dot_may_touch_the_next_word() -> None:
    lexicon = Lexicon({"KT.": "Ký thay", "P.": "Phòng"})
    assert normalize("KT.GIÁM ĐỐC", lexicon=lexicon) == "Ký thay giám đốc"
    assert normalize("P.Tổng hợp", lexicon=lexicon) == "Phòng Tổng hợp"


def test_empty_lexicon_expands_nothing() -> None:
    assert len(Lexicon()) == 0
    assert normalize("Quý II", lexicon=Lexicon()) == "Quý hai"
