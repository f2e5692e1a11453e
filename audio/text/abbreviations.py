"""Abbreviations: expand lexicon entries, skip '(CCHC)' right after its own expansion, and read
unknown ALL-CAPS tokens (lower-cased if they are Vietnamese words, spelled if they are acronyms)."""

from __future__ import annotations

import re

from audio.text.letters import is_syllable, spell
from audio.text.numbers import cardinal, roman_to_int
from audio.text.rules import Context, padded

_PARENTHESISED = re.compile(r"\s*\(\s*(?P<inner>[^()\n]{1,60}?)\s*\)")
_LAST_TOKEN = re.compile(r"(\S+)\s*$")
# Upper-case letters of the Latin scripts (Vietnamese included); a whole letter run of them is ALL-CAPS.
_UPPER = "".join(re.escape(chr(c)) for c in range(0x41, 0x2000) if chr(c).isupper() and chr(c).isalpha())
_CAPS_WORD = re.compile(rf"(?<![^\W\d_])[{_UPPER}]{{2,}}(?![^\W\d_])")
_ROMAN_LETTERS = re.compile(r"[IVX]{2,}")


def drop_defined_abbreviations(text: str, ctx: Context) -> str:
    """'cải cách hành chính (CCHC)' and 'CCHC (cải cách hành chính)' are said once, not twice."""
    if "(" not in text:
        return text

    def repl(match: re.Match[str]) -> str:
        inner = match.group("inner")
        before = match.string[: match.start()].rstrip()
        expansion = ctx.lexicon.get(inner)
        if expansion and before.lower().endswith(expansion.lower()):
            return ""
        last = _LAST_TOKEN.search(before)
        previous = ctx.lexicon.get(last.group(1)) if last else None
        if previous and previous.lower() == inner.lower():
            return ""
        return match.group(0)

    return _PARENTHESISED.sub(repl, text)


def expand_abbreviations(text: str, ctx: Context) -> str:
    """Replace every lexicon entry found as a whole token by its spoken expansion."""
    pattern = ctx.lexicon.pattern
    if pattern is None:
        return text
    lexicon = ctx.lexicon
    return pattern.sub(lambda m: padded(m, lexicon.get(m.group(0)) or m.group(0)), text)


def _capitals(match: re.Match[str], ctx: Context) -> str:
    word = match.group(0)
    if is_syllable(word):
        return word.lower()
    # II, XII, XVI...: no acronym is spelled like that, it is a Roman numeral whose cue word was
    # lost (e.g. at the start of a line that continues 'khóa').
    value = roman_to_int(word) if _ROMAN_LETTERS.fullmatch(word) else None
    return cardinal(value, ctx.dialect) if value else spell(word)


def speak_capitals(text: str, ctx: Context) -> str:
    """ALL-CAPS words: 'GIÁM ĐỐC' -> 'giám đốc' (headings), unknown acronyms 'ICT' -> 'i xê tê'."""
    return _CAPS_WORD.sub(lambda m: _capitals(m, ctx), text)
