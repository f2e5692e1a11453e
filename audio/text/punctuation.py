"""Symbols said as words (&, %, @), and punctuation reduced to what a reader pauses on.

Brackets become commas (a parenthesis is a short pause when read aloud), a slash between words
becomes a comma (Đài/Trạm -> Đài, Trạm), dashes between words are spaced, and stray or doubled
punctuation is tidied. Full stops, commas, semicolons, colons, ? ! and ... are kept.
"""

from __future__ import annotations

import re

from audio.text.rules import Context

_SYMBOLS: dict[str, str] = {
    "&": " và ",
    "%": " phần trăm ",
    "@": " a còng ",
    "=": " bằng ",
    "≥": " lớn hơn hoặc bằng ",
    "≤": " nhỏ hơn hoặc bằng ",
    "~": " khoảng ",
    "…": "...",
    "_": " ",
    "|": ", ",
    "\\": ", ",
    "/": ", ",
    "(": ", ",
    ")": ", ",
    "[": ", ",
    "]": ", ",
    "{": ", ",
    "}": ", ",
    "–": " - ",
    "—": " - ",
    "#": " ",
    "*": " ",
    "^": " ",
}
_SYMBOL = re.compile("|".join(re.escape(s) for s in _SYMBOLS))
_END_MARK = re.compile(r"\./\.")  # the './.' that closes an official letter
_SPACED_DASH = re.compile(r"(?<=\w)(?:\s+-\s*|\s*-\s+)(?=\w)")
_GLUED_DASH = re.compile(r"(?<=[^\W\d_])-(?=[^\W\d_])")
_SPACES = re.compile(r"\s{2,}|[^\S ]")  # runs of spaces, or any other whitespace
_SPACE_BEFORE_MARK = re.compile(r"\s+(?=[,.;:!?])")
_COMMA_BEFORE_MARK = re.compile(r",+\s*(?=[,.;:!?])")
_COMMA_AFTER_MARK = re.compile(r"(?<=[;:!?])\s*,+")
_GLUED_COMMA = re.compile(r"([,;])(?=[^\s\d.,;:!?])")
_LEADING = " ,;+*•-"  # also what strip_markup would take for a bullet
_TRAILING = " ,-"


def _glued_dash(match: re.Match[str]) -> str:
    # 'Phát thanh-Truyền hình', 'Độc lập-Tự do': a capital after the hyphen starts a new name.
    following = match.string[match.end()]
    return " - " if following.isupper() else "-"


def tidy(text: str, ctx: Context | None = None) -> str:
    """Say the remaining symbols and leave only pause-giving punctuation, single-spaced."""
    text = _SYMBOL.sub(lambda m: _SYMBOLS[m.group(0)], _END_MARK.sub(".", text))
    if "-" in text:
        text = _SPACED_DASH.sub(" - ", _GLUED_DASH.sub(_glued_dash, text))
    text = _SPACE_BEFORE_MARK.sub("", _SPACES.sub(" ", text))
    if "," in text:
        text = _GLUED_COMMA.sub(r"\1 ", _COMMA_AFTER_MARK.sub("", _COMMA_BEFORE_MARK.sub("", text)))
    return text.lstrip(_LEADING).rstrip(_TRAILING)
