"""Document numbers ('số ký hiệu'): 76/NQ-CP, 61/2018/NĐ-CP, 18-NQ/TW, 1722/STTTT-TTBCXB.

Read the way radio news reads them. A code that starts with a document type is read as
'<number> [năm <year>] của <issuer>' ('Nghị quyết số 76/NQ-CP' -> 'Nghị quyết số bảy mươi sáu của
Chính phủ'); the type is said only if the sentence has not just said it, and the issuer is left
out when the rest of the sentence names it anyway. Any other code is read part by part with
'gạch' for the separators, known parts expanded and unknown ones spelled.
"""

from __future__ import annotations

import re

from audio.text.data import read_table
from audio.text.letters import spell
from audio.text.numbers import cardinal, integer
from audio.text.rules import Context, padded

_TABLE = read_table("document_codes.tsv", 3)
DOCUMENT_TYPES: dict[str, str] = {code: spoken for code, role, spoken in _TABLE if role == "type"}
ISSUERS: dict[str, str] = {code: spoken for code, role, spoken in _TABLE if role == "issuer"}

_UPPER = "A-ZĐÂĂÊÔƠƯ"
_PART = rf"[{_UPPER}][{_UPPER}]+[a-zđ]?[{_UPPER}]*\d*"
_CODE = re.compile(
    rf"(?<![\w/.])(?:(?P<number>\d{{1,6}})(?P<space>\s?)(?:/\s?(?P<year>(?:19|20)\d{{2}})\s?)?(?P<sep>[/-])"
    rf"|(?P<lead>/))(?P<parts>{_PART}(?:[-/]{_PART})*)-?(?![\w/])"
)
_ASSEMBLY = re.compile(r"QH(\d{1,2})")
_CLAUSE_END = re.compile(r"[;.!?](?:\s|$)|[;!?]")


def _part(part: str, ctx: Context) -> tuple[str, bool]:
    """The spoken form of one code part and whether it was known (rather than spelled)."""
    if part in ISSUERS:
        return ISSUERS[part], True
    assembly = _ASSEMBLY.fullmatch(part)
    if assembly:
        return "Quốc hội khóa " + cardinal(int(assembly.group(1)), ctx.dialect), True
    known = ctx.lexicon.get(part)
    return (known, True) if known else (spell(part), False)


def _mentioned(words: str, code: str, text: str) -> bool:
    """Whether `text` already says this (by its spoken form or its abbreviation)."""
    lowered = text.lower()
    return words.lower() in lowered or re.search(rf"(?<!\w){re.escape(code)}(?!\w)", text) is not None


def _speak(match: re.Match[str], ctx: Context) -> str:
    number, year = match.group("number"), match.group("year")
    if number and match.group("space") and match.group("sep") == "-":
        return match.group(0)  # '2021 -UBND' is a dash in prose, not a code
    parts = re.split(r"[-/]", match.group("parts"))
    core = " ".join(
        filter(None, [number and integer(number, ctx.dialect), year and "năm " + cardinal(int(year), ctx.dialect)])
    )
    doc_type = parts[0] if parts[0] in DOCUMENT_TYPES and (len(parts) > 1 or number) else None
    issuer_codes = parts[1:] if doc_type else parts
    readings = [_part(code, ctx) for code in issuer_codes]
    if doc_type is None and not (len(readings) == 1 and readings[0][1]):
        return padded(match, " gạch ".join(filter(None, [core] + [words for words, _ in readings])))

    text = match.string
    before = text[max(0, match.start() - 40) : match.start()]
    rest = text[match.end() :]
    clause_end = _CLAUSE_END.search(rest)
    after = rest[: clause_end.start() if clause_end else len(rest)]
    # The issuer may also be named earlier in the clause ('được Thủ tướng Chính phủ phê duyệt tại ...').
    clause_before = re.split(r"[;.!?]\s", text[: match.start()])[-1]

    spoken = core
    if doc_type:
        type_words = DOCUMENT_TYPES[doc_type]
        if not core:
            spoken = type_words
        elif not _mentioned(type_words, doc_type, before):
            ends_with_so = re.search(r"(?i:số)\s*:?\s*$", before) is not None
            spoken = f"{core}, {type_words}" if ends_with_so else f"{type_words} số {core}"
    issuers = [words for words, _ in readings]
    if issuers and not all(
        _mentioned(w, code, after) or _mentioned(w, code, clause_before)
        for w, code in zip(issuers, issuer_codes, strict=True)
    ):
        spoken = " của ".join(filter(None, [spoken, ", ".join(issuers)]))
    return padded(match, spoken)


def speak_document_codes(text: str, ctx: Context) -> str:
    """Replace document numbers such as 602/QĐ-UBND by their spoken form."""
    if "/" not in text and "-" not in text:
        return text
    return _CODE.sub(lambda m: _speak(m, ctx), text)
