"""The wire contract's text rules, checked against Unicode's own character categories."""

from __future__ import annotations

import sys
import unicodedata

from scheduler.wire import clean_text, control_char


def test_control_char_finds_exactly_the_unicode_controls_and_surrogates() -> None:
    # Every Cc and Cs character lies in the Basic Multilingual Plane; beyond it a sample suffices.
    points = [*range(0x10000), *range(0x10000, sys.maxunicode + 1, 97)]
    for multiline in (False, True):
        for point in points:
            char = chr(point)
            refused = unicodedata.category(char) in ("Cc", "Cs") and not (multiline and char in "\t\n\r")
            assert control_char(f"Cụm loa{char}", multiline) == (char if refused else None), (hex(point), multiline)


def test_clean_text_turns_controls_into_spaces_and_keeps_vietnamese() -> None:
    assert clean_text("Tin\x00 sáng\u0085\ud800 nay\t", 12) == "Tin  sáng   "
    assert clean_text(None, 5) == ""
    assert clean_text("Bản tin thời sự", 7) == "Bản tin"
