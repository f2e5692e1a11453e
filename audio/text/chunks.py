"""Cut normalized text into sentence-sized chunks for online TTS engines with a per-request limit.

Cuts at line breaks and sentence ends first, then at commas, semicolons and colons, then between
words; never inside a word. A single word longer than the limit becomes a chunk of its own.
"""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+")


def _pack(pieces: list[str], max_chars: int) -> list[str]:
    """Join consecutive pieces with spaces into chunks of at most max_chars (if each piece fits)."""
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        if current and len(current) + 1 + len(piece) <= max_chars:
            current += " " + piece
        else:
            if current:
                chunks.append(current)
            current = piece
    if current:
        chunks.append(current)
    return chunks


def _split_long(sentence: str, max_chars: int) -> list[str]:
    chunks: list[str] = []
    for clause in _pack(_CLAUSE_END.split(sentence), max_chars):
        chunks += [clause] if len(clause) <= max_chars else _pack(clause.split(), max_chars)
    return chunks


def split_sentences(text: str, max_chars: int = 200) -> list[str]:
    """Non-empty chunks of at most max_chars characters (a longer single word stays whole), in order."""
    if max_chars < 1:
        raise ValueError(f"Độ dài tối đa của một đoạn phải từ 1 ký tự trở lên, không phải {max_chars}.")
    chunks: list[str] = []
    for line in text.splitlines():
        for sentence in _SENTENCE_END.split(" ".join(line.split())):
            if not sentence:
                continue
            chunks += [sentence] if len(sentence) <= max_chars else _split_long(sentence, max_chars)
    return chunks
