"""The CCHC topic taxonomy (seed 001's content themes) plus other public information."""

from __future__ import annotations

TOPICS: dict[str, str] = {
    "the_che": "Cải cách thể chế",
    "tthc": "Cải cách thủ tục hành chính",
    "bo_may": "Cải cách tổ chức bộ máy",
    "cong_vu": "Cải cách chế độ công vụ",
    "tai_chinh_cong": "Cải cách tài chính công",
    "chinh_phu_so": "Chính phủ điện tử, chính phủ số, chuyển đổi số",
    "mot_cua": "Cơ chế một cửa, một cửa liên thông",
    "dvc_truc_tuyen": "Dịch vụ công trực tuyến và bưu chính công ích",
    "chi_so": "Các chỉ số PAR INDEX, SIPAS, PAPI, PCI, DDCI",
    "duong_day_nong": "Đường dây nóng, phản ánh kiến nghị",
    "mo_hinh_hay": "Mô hình hay, cách làm hiệu quả",
    "ket_qua": "Kết quả, hạn chế trong thực hiện CCHC",
    "thong_tin_khac": "Thông tin chung khác",
    "khan_cap": "Thông tin khẩn cấp, phòng chống thiên tai",
}

LANGUAGES: dict[str, str] = {
    "vi": "Tiếng Việt",
    "jra": "Tiếng Jrai",
    "bdq": "Tiếng Bahnar",
    "km": "Tiếng Khmer",
    "ede": "Tiếng Ê Đê",
    "hmn": "Tiếng H'Mông",
}


def topic_label(code: str) -> str:
    """The Vietnamese name of a topic code; an unknown code shows as it is."""
    return TOPICS.get(code, code)


def language_label(code: str) -> str:
    """The Vietnamese name of a language code; an unknown code shows as it is."""
    return LANGUAGES.get(code, code)


def _loose(text: str) -> str:
    """What a person typing in Excel may vary: case, spacing, punctuation, diacritics, đ/d."""
    import unicodedata

    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join("".join(c if c.isalnum() else " " for c in bare).split())


def match_choice(typed: str, choices: dict[str, str]) -> str | None:
    """The code a person meant by `typed`: the code itself, its label, or the start of exactly one label
    (\"Dịch vụ công trực tuyến\" for dvc_truc_tuyen), ignoring case, spacing, punctuation and diacritics.
    None when nothing, or more than one choice, fits."""
    text = typed.strip()
    if text in choices:
        return text
    loose = _loose(text)
    if not loose:
        return None
    for code, label in choices.items():
        if loose in (_loose(code), _loose(label)):
            return code
    starts = [code for code, label in choices.items() if _loose(label).startswith(loose + " ")]
    return starts[0] if len(starts) == 1 else None


def close_choices(typed: str, choices: dict[str, str]) -> list[str]:
    """Labels that begin like `typed` (to suggest when it fits more than one)."""
    loose = _loose(typed)
    return [label for label in choices.values() if loose and _loose(label).startswith(loose)]
