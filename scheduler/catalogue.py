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
