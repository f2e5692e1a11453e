"""Strip what is written for the eye, not the ear: markdown markers, bullets, link syntax, odd spaces."""

from __future__ import annotations

import re
import unicodedata

_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_LINK = re.compile(r"\[([^\]\n]*)\]\(([^)\s]*)\)")
_ANGLE_URL = re.compile(r"<((?:https?://|www\.|mailto:)[^>\s]+)>", re.IGNORECASE)
_HEADING = re.compile(r"^\s*(?:#{1,6}|>+)(?=\s|\*|$)\s*")
_EMPHASIS = re.compile(r"\*{1,3}|_{2,3}|`+")
_BULLET = re.compile(r"^\s*(?:[-+*•●▪◦–—]\s+)+")
# Brackets, slashes and commas opening a line carry no sound (the tidy rule drops them too).
_LEADING_MARKS = re.compile(r"^[\s,;/\\|()\[\]{}]+")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]{2,}|[\t\u00a0\u2000-\u200a\u202f\u205f\u3000]")


def _link(match: re.Match[str]) -> str:
    return match.group(1).strip() or match.group(2)


def strip_markup(line: str) -> str:
    """One line with markdown (###, **, leading '- ', [text](url), <url>) removed and spaces tidied."""
    line = _INVISIBLE.sub("", unicodedata.normalize("NFC", line))
    line = _ANGLE_URL.sub(r"\1", _LINK.sub(_link, line))
    line = _HEADING.sub("", line)
    if "*" in line or "_" in line or "`" in line:
        line = _EMPHASIS.sub("", line)
    line = _LEADING_MARKS.sub("", _BULLET.sub("", line))
    return _SPACES.sub(" ", line).strip()
