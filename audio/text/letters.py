"""Letters: Vietnamese letter names for spelling, and whether a word is one Vietnamese syllable."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from audio.text.numbers import DIGIT_WORDS

# The names announcers use when they spell an acronym (VTV = vê tê vê).
LETTER_NAMES: dict[str, str] = {
    "A": "a",
    "Ă": "á",
    "Â": "ớ",
    "B": "bê",
    "C": "xê",
    "D": "dê",
    "Đ": "đê",
    "E": "e",
    "Ê": "ê",
    "F": "ép",
    "G": "giê",
    "H": "hát",
    "I": "i",
    "J": "gi",
    "K": "ca",
    "L": "e lờ",
    "M": "em mờ",
    "N": "en nờ",
    "O": "o",
    "Ô": "ô",
    "Ơ": "ơ",
    "P": "pê",
    "Q": "quy",
    "R": "e rờ",
    "S": "ét",
    "T": "tê",
    "U": "u",
    "Ư": "ư",
    "V": "vê",
    "W": "vê kép",
    "X": "ích",
    "Y": "i dài",
    "Z": "dét",
}

# Grave, acute, tilde, hook above, dot below: the five tone marks. Circumflex, breve and horn stay.
_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
_SYLLABLE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?[aăâeêioôơuưy]{1,3}(?:ch|nh|ng|[cmnpt])?"
)
_DOUBLED_VOWEL = re.compile(r"([aăâeêioôơuưy])\1")


def spell(token: str) -> str:
    """Spell a token with Vietnamese letter names: 'ICT' -> 'i xê tê'. Digits are read one by one."""
    names = []
    for ch in token:
        if ch.isdecimal():
            names.append(DIGIT_WORDS[int(ch)])
        elif ch.isalpha():
            names.append(LETTER_NAMES.get(ch.upper(), ch.lower()))
    return " ".join(names)


@lru_cache(maxsize=4096)
def is_syllable(word: str) -> bool:
    """True if the word can be one Vietnamese syllable (KẾ, HOẠCH, GIA) rather than an acronym (UBND)."""
    base = "".join(ch for ch in unicodedata.normalize("NFD", word.lower()) if ch not in _TONE_MARKS)
    base = unicodedata.normalize("NFC", base)
    # A doubled vowel ('XII', 'AA') is not Vietnamese, except in loans like 'xoong', 'boong'.
    return _SYLLABLE.fullmatch(base) is not None and _DOUBLED_VOWEL.search(base.replace("oo", "o")) is None


def segment(word: str) -> list[str] | None:
    """Split an unaccented run of letters into the fewest Vietnamese syllables ('dichvucong' ->
    ['dich', 'vu', 'cong']), or None if it cannot be split (e.g. 'csdl')."""
    word = word.lower()
    best: dict[int, list[str] | None] = {len(word): []}
    for start in range(len(word) - 1, -1, -1):
        choice: list[str] | None = None
        # Longest first, replaced only by a strictly shorter split: ties keep the longer first syllable.
        for end in range(min(len(word), start + 7), start, -1):
            rest = best[end]
            better = rest is not None and (choice is None or len(rest) + 1 < len(choice))
            if better and rest is not None and is_syllable(word[start:end]):
                choice = [word[start:end], *rest]
        best[start] = choice
    return best[0]
