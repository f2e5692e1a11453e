"""Web and e-mail addresses read as an announcer would: host labels joined by 'chấm', path left out.

dichvucong.gialai.gov.vn -> 'dịch vụ công chấm gia lai chấm gốp chấm vê en'; '@' is 'a còng'.
The path after the host is not read: a listener cannot note it down, and the host is what they
type. See docs/normalization.md for the full convention.
"""

from __future__ import annotations

import re

from audio.text.data import read_table
from audio.text.letters import segment, spell
from audio.text.numbers import integer
from audio.text.rules import Context, padded

WEB_WORDS: dict[str, str] = {label: spoken for label, spoken in read_table("web_words.tsv", 2)}

_TLDS = "vn|com|net|org|gov|edu|info|biz|io|int"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_EMAIL = re.compile(
    rf"(?<![\w.+-])(?P<local>[a-z0-9](?:[a-z0-9._+-]*[a-z0-9])?)@(?P<host>(?:{_LABEL}\.)+[a-z]{{2,}})(?![\w-])",
    re.IGNORECASE,
)
_URL = re.compile(
    rf"(?<![\w@./-])(?:(?:https?|ftp)://(?P<scheme_host>[^\s/?#:<>()\[\]\"“”]+)|(?P<host>(?:{_LABEL}\.)+(?:{_TLDS})))"
    r"(?![\w-])(?::\d+)?(?P<path>[/?#][^\s<>()\[\]\"“”]*)?",
    re.IGNORECASE,
)
_RUNS = re.compile(r"[a-z]+|\d+|-")
_LOCAL_SEPARATORS = {".": "chấm", "_": "gạch dưới", "-": "gạch ngang", "+": "cộng"}
_TRAILING_PUNCTUATION = re.compile(r"[.,;:!?]+$")


def _letters(run: str, ctx: Context) -> str:
    known = WEB_WORDS.get(run) or ctx.lexicon.get(run)
    if known:
        return known
    syllables = segment(run)
    if syllables is not None:
        return " ".join(syllables)
    # Short or vowel-less runs are initials (csdl); a long unsplittable run is a foreign word.
    if len(run) <= 6 or not any(ch in "aeiouy" for ch in run):
        return spell(run)
    return run


def _label(label: str, ctx: Context) -> str:
    label = label.lower()
    known = WEB_WORDS.get(label) or ctx.lexicon.get(label)
    if known:
        return known
    words = []
    for run in _RUNS.findall(label):
        if run == "-":
            words.append("gạch ngang")
        elif run.isdecimal():
            words.append(integer(run, ctx.dialect))
        else:
            words.append(_letters(run, ctx))
    return " ".join(words)


def speak_host(host: str, ctx: Context) -> str:
    """'gialai.gov.vn' -> 'gia lai chấm gốp chấm vê en'."""
    return " chấm ".join(_label(label, ctx) for label in host.strip(".").split("."))


def _email(match: re.Match[str], ctx: Context) -> str:
    local_words = []
    for piece in re.split(r"([._+-])", match.group("local")):
        if piece in _LOCAL_SEPARATORS:
            local_words.append(_LOCAL_SEPARATORS[piece])
        elif piece:
            local_words.append(_label(piece, ctx))
    return padded(match, " ".join(local_words) + " a còng " + speak_host(match.group("host"), ctx))


def _url(match: re.Match[str], ctx: Context) -> str:
    host = match.group("scheme_host") or match.group("host")
    # A URL at the end of a sentence keeps the sentence's full stop.
    trailing = _TRAILING_PUNCTUATION.search(match.group("path") or host)
    host = _TRAILING_PUNCTUATION.sub("", host) if not match.group("path") else host
    spoken = speak_host(host, ctx)
    return padded(match, spoken) + (trailing.group(0) if trailing else "")


def speak_addresses(text: str, ctx: Context) -> str:
    """Replace e-mail and web addresses by their spoken form."""
    if "@" in text:
        text = _EMAIL.sub(lambda m: _email(m, ctx), text)
    if "." not in text:
        return text
    return _URL.sub(lambda m: _url(m, ctx), text)
