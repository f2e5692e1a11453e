"""An independent reader of spoken Vietnamese cardinals, to check the normalizer's output by round trip."""

from __future__ import annotations

DIGITS = {
    "không": 0, "một": 1, "mốt": 1, "hai": 2, "ba": 3, "bốn": 4, "tư": 4,
    "năm": 5, "lăm": 5, "sáu": 6, "bảy": 7, "tám": 8, "chín": 9,
}  # fmt: skip
SCALES = {"nghìn": 1_000, "ngàn": 1_000, "triệu": 1_000_000}


def parse_cardinal(spoken: str) -> int:
    """The integer a Vietnamese listener hears in `spoken`; ValueError on a word that is not a number."""
    total = section = group = digit = 0
    words = spoken.split()
    negative = bool(words) and words[0] == "âm"
    for word in words[1:] if negative else words:
        if word in DIGITS:
            digit = DIGITS[word]
        elif word == "trăm":
            group, digit = group + digit * 100, 0
        elif word == "mươi":
            group, digit = group + digit * 10, 0
        elif word == "mười":
            group, digit = group + 10, 0
        elif word in ("linh", "lẻ"):
            continue
        elif word in SCALES:
            section, group, digit = section + (group + digit) * SCALES[word], 0, 0
        elif word == "tỷ":
            total, section, group, digit = (total + section + group + digit) * 1_000_000_000, 0, 0, 0
        else:
            raise ValueError(f"not a number word: {word!r} in {spoken!r}")
    value = total + section + group + digit
    return -value if negative else value
