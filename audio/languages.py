"""Vietnamese names of the broadcast languages, for messages people read."""

from __future__ import annotations

_NAMES: dict[str, str] = {
    "vi": "tiếng Việt",
    "km": "tiếng Khmer",
    "jra": "tiếng Jrai",
    "bdq": "tiếng Ba Na",
    "ede": "tiếng Ê Đê",
    "hmn": "tiếng Mông",
    "en": "tiếng Anh",
}


def language_name(code: str) -> str:
    """'tiếng Khmer' for "km"; unknown codes are shown as they are."""
    return _NAMES.get(code.lower(), f"ngôn ngữ '{code}'")
