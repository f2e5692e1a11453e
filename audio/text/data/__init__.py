"""Package data for the text normalizer: tab-separated tables that editors can read and extend."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def read_table(name: str, columns: int) -> tuple[tuple[str, ...], ...]:
    """The rows of a bundled TSV file, comments and blank lines skipped; each row has `columns` cells."""
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = tuple(cell.strip() for cell in line.split("\t"))
        if len(cells) != columns:
            raise ValueError(f"{name}, dòng {number}: cần {columns} cột ngăn cách bằng tab, có {len(cells)}.")
        rows.append(cells)
    return tuple(rows)
