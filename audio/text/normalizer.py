"""Text normalization for Vietnamese TTS: written bulletin text in, the words an announcer says out.

Each line goes through the rules below in order. The order matters: addresses, phone numbers and
document codes are recognised before anything splits them at their dots and dashes; the lexicon
runs before the number rules so entries like 'COVID-19' win; capitals and symbols come last.
"""

from __future__ import annotations

from collections.abc import Iterable

from audio.text.abbreviations import drop_defined_abbreviations, expand_abbreviations, speak_capitals
from audio.text.counting import speak_counting
from audio.text.dates import speak_dates
from audio.text.document_codes import speak_document_codes
from audio.text.lexicon import Lexicon
from audio.text.markup import strip_markup
from audio.text.numbers import dialect_for
from audio.text.phones import speak_phone_numbers
from audio.text.punctuation import tidy
from audio.text.quantities import speak_quantities
from audio.text.rules import Context, Rule
from audio.text.web import speak_addresses

RULES: tuple[Rule, ...] = (
    speak_addresses,
    speak_phone_numbers,
    speak_document_codes,
    drop_defined_abbreviations,
    expand_abbreviations,
    speak_dates,
    speak_counting,
    speak_quantities,
    speak_capitals,
    tidy,
)


def _context(variant: str, lexicon: Lexicon | None) -> Context:
    return Context(dialect_for(variant), lexicon if lexicon is not None else Lexicon.default())


def _line(line: str, ctx: Context) -> str:
    text = strip_markup(line)
    for rule in RULES:
        if not text:
            break
        text = rule(text, ctx)
    return text


def _text(text: str, ctx: Context) -> str:
    return "\n".join(_line(line.rstrip("\r"), ctx) for line in text.split("\n"))


def normalize(text: str, variant: str = "north", lexicon: Lexicon | None = None) -> str:
    """The spoken form of `text`, line by line; variant 'north' (linh, nghìn) or 'south' (lẻ, ngàn)."""
    return _text(text, _context(variant, lexicon))


def normalize_lines(lines: Iterable[str], variant: str = "north", lexicon: Lexicon | None = None) -> list[str]:
    """normalize() for each line, one output per input line (a trailing newline is dropped)."""
    ctx = _context(variant, lexicon)
    return [_text(line.rstrip("\r\n"), ctx) for line in lines]
