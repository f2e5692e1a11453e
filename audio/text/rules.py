"""What every normalization rule shares: the reading context and a helper to splice words in."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from audio.text.lexicon import Lexicon
from audio.text.numbers import Dialect


@dataclass(frozen=True)
class Context:
    """How to read: the regional number words and the abbreviation lexicon."""

    dialect: Dialect
    lexicon: Lexicon


# A rule rewrites one line of text into (more) spoken words.
Rule = Callable[[str, Context], str]

# Cheap test that lets the number rules skip lines without digits.
has_digit = re.compile(r"\d").search


def padded(match: re.Match[str], spoken: str) -> str:
    """`spoken` with a space added on each side where it would otherwise touch a letter or digit."""
    text = match.string
    before = match.start() > 0 and text[match.start() - 1].isalnum()
    after = match.end() < len(text) and text[match.end()].isalnum()
    return (" " if before else "") + spoken + (" " if after else "")
