"""The abbreviation lexicon: abbreviation -> spoken expansion, built in and extendable by editors.

Entries are matched case-sensitively as whole tokens, longest first. The built-in list lives in
audio/text/data/abbreviations.tsv; editors add their own through a TSV/CSV file or the admin page.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from audio.errors import AudioError

_HEADER_KEYS = frozenset({"abbr", "abbreviation", "viết tắt", "từ viết tắt", "viet tat"})


class LexiconError(AudioError, ValueError):
    """A lexicon file or entry is unusable; the message says where and how to fix it."""


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def _checked(entries: Mapping[str, str], source: str) -> dict[str, str]:
    checked: dict[str, str] = {}
    for raw_key, raw_value in entries.items():
        if not isinstance(raw_key, str) or not isinstance(raw_value, str):
            raise LexiconError(
                f"{source}: mục ({raw_key!r}, {raw_value!r}) không phải chữ. Viết tắt và cách đọc đều phải là văn bản."
            )
        key, value = _clean(raw_key), _clean(raw_value)
        if not key or not any(ch.isalnum() for ch in key) or "\n" in key or "\t" in key:
            raise LexiconError(
                f"{source}: viết tắt {raw_key!r} không hợp lệ. Viết tắt phải có ít nhất một chữ cái "
                "hoặc chữ số và nằm trên một dòng."
            )
        if not value or "\n" in value or "\t" in value:
            raise LexiconError(
                f"{source}: cách đọc của {key!r} bị trống hoặc nhiều dòng. Hãy ghi cách đọc đầy đủ "
                "trên một dòng, ví dụ: UBND<TAB>Ủy ban nhân dân."
            )
        checked[key] = value
    return checked


def _trie_pattern(keys: list[str]) -> str:
    """One regex alternation shaped as a trie, so matching costs one pass and the longest key wins."""
    trie: dict[str, Any] = {}
    for key in keys:
        node = trie
        for ch in key:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any], last: str) -> str:
        branches = [re.escape(ch) + build(child, ch) for ch, child in sorted(node.items()) if ch]
        # A key must end a token: no letter may follow one ending in a letter (a digit may: 'QH13'),
        # nothing alphanumeric may follow one ending in a digit; 'KT.' may run into the next word.
        end = r"(?![^\W\d])" if last.isalpha() else r"(?!\w)" if (last.isalnum() or last == "_") else ""
        if not branches:
            return end
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body}|{end})" if "" in node else body

    # A key starts a token, or follows digits it is glued to ('7P.' reads as '7' then 'P.').
    return r"(?:(?<!\w)|(?<=\d)(?=[^\W\d]))" + build(trie, "")


class Lexicon:
    """An immutable abbreviation -> spoken expansion map with a compiled matcher."""

    __slots__ = ("_entries", "_pattern")

    def __init__(self, entries: Mapping[str, str] | None = None, *, source: str = "Từ điển viết tắt") -> None:
        self._entries: dict[str, str] = _checked(entries or {}, source)
        self._pattern: re.Pattern[str] | None = None

    @classmethod
    def default(cls) -> Lexicon:
        """The built-in public-administration lexicon (audio/text/data/abbreviations.tsv)."""
        return _default_lexicon()

    @classmethod
    def from_file(cls, path: Path) -> Lexicon:
        """Read 'abbr<TAB>expansion' lines (.tsv, .txt) or two-column CSV (.csv); '#' starts a comment."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise LexiconError(
                f"Không mở được tệp từ điển viết tắt '{path}': {exc.strerror or exc}. "
                "Hãy kiểm tra đường dẫn và quyền đọc tệp."
            ) from exc
        except UnicodeDecodeError as exc:
            raise LexiconError(
                f"Tệp từ điển viết tắt '{path}' không phải văn bản UTF-8 (lỗi ở byte {exc.start}). "
                "Hãy lưu lại tệp với bảng mã UTF-8."
            ) from exc
        rows = _csv_rows(text) if path.suffix.lower() == ".csv" else _tsv_rows(text)
        return cls(_entries_from_rows(rows, str(path)), source=f"Tệp '{path}'")

    def with_entries(self, entries: Mapping[str, str]) -> Lexicon:
        """A new lexicon with these entries added on top (they replace built-in ones with the same key)."""
        merged = dict(self._entries)
        merged.update(_checked(entries, "Mục bổ sung"))
        return Lexicon(merged)

    def get(self, key: str) -> str | None:
        return self._entries.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def items(self) -> Iterator[tuple[str, str]]:
        return iter(self._entries.items())

    def __repr__(self) -> str:
        return f"Lexicon({len(self)} mục)"

    @property
    def pattern(self) -> re.Pattern[str] | None:
        """The compiled matcher for all keys, built on first use; None for an empty lexicon."""
        if self._pattern is None and self._entries:
            self._pattern = re.compile(_trie_pattern(sorted(self._entries)))
        return self._pattern


def _tsv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        yield number, line.split("\t", 1) if "\t" in line else [line]


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text))
    for row in reader:
        yield reader.line_num, [cell for i, cell in enumerate(row) if i < 2 or cell.strip()]


def _entries_from_rows(rows: Iterator[tuple[int, list[str]]], source: str) -> dict[str, str]:
    entries: dict[str, str] = {}
    first_line: dict[str, int] = {}
    seen_data = False
    for number, cells in rows:
        if not cells or not "".join(cells).strip() or cells[0].lstrip().startswith("#"):
            continue
        if len(cells) != 2:
            raise LexiconError(
                f"Tệp '{source}', dòng {number}: {' | '.join(cells)!r} phải có đúng hai cột, viết tắt và "
                "cách đọc, ngăn cách bằng dấu tab (tệp .tsv) hoặc dấu phẩy (tệp .csv)."
            )
        if not seen_data and _clean(cells[0]).lower() in _HEADER_KEYS:
            seen_data = True
            continue
        seen_data = True
        ((key, value),) = _checked({cells[0]: cells[1]}, f"Tệp '{source}', dòng {number}").items()
        if key in entries and entries[key] != value:
            raise LexiconError(
                f"Tệp '{source}', dòng {number}: viết tắt {key!r} đã có ở dòng {first_line[key]} với cách "
                f"đọc khác ({entries[key]!r} và {value!r}). Hãy giữ lại một dòng."
            )
        entries[key] = value
        first_line.setdefault(key, number)
    return entries


@lru_cache(maxsize=1)
def _default_lexicon() -> Lexicon:
    text = resources.files("audio.text.data").joinpath("abbreviations.tsv").read_text(encoding="utf-8")
    return Lexicon(_entries_from_rows(_tsv_rows(text), "abbreviations.tsv"))
