"""`loaxa backup`: the database and the media files together, with a manifest to verify them.

Layout of a backup directory:
    manifest.json     format, time, schema revision, per-table row counts and checksums, media list
    SHA256SUMS        the same checksums for `sha256sum -c`
    db/<table>.jsonl  one JSON object per row, ordered by primary key
    media/...         the media directory (hardlinked where possible)
The directory appears only when complete: it is written under a temporary name first.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from scheduler.ops import OpsError
from scheduler.ops.dbdump import TableDump, dump_database
from scheduler.ops.mediafiles import MediaFile, copy_tree

FORMAT = 1
MANIFEST = "manifest.json"
CHECKSUMS = "SHA256SUMS"


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    revision: str
    tables: dict[str, int]
    media_files: int
    media_bytes: int


def manifest_dict(
    now: datetime, dialect: str, revision: str, tables: list[TableDump], media: list[MediaFile]
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "application": "loaxa",
        "created_at": now.isoformat(),
        "source_dialect": dialect,
        "alembic_revision": revision,
        "tables": [
            {"name": t.name, "rows": t.rows, "sha256": t.sha256, "columns": [list(c) for c in t.columns]}
            for t in tables
        ],
        "media": [{"path": m.path, "sha256": m.sha256, "size": m.size} for m in media],
    }


def _checksum_lines(tables: list[TableDump], media: list[MediaFile]) -> str:
    lines = [f"{t.sha256}  {t.file_name}" for t in tables]
    lines += [f"{m.sha256}  media/{m.path}" for m in media]
    return "\n".join(lines) + "\n"


def create_backup(engine: Engine, media_dir: Path, out_dir: Path, now: datetime) -> BackupSummary:
    """Write a complete backup into `out_dir` (absent or empty); nothing is left behind on failure."""
    out_dir = out_dir.resolve()
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise OpsError(f"Thư mục sao lưu {out_dir} đã có dữ liệu. Chọn một thư mục mới hoặc trống.")
    if media_dir.resolve() == out_dir or media_dir.resolve() in out_dir.parents:
        raise OpsError(f"Không đặt bản sao lưu bên trong thư mục media {media_dir}. Chọn chỗ khác.")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = out_dir.with_name(f".{out_dir.name}.partial-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        # The database first: media files are written before the rows that name them, so every
        # file the snapshot refers to is already on disk when the media copy starts.
        revision, tables = dump_database(engine, work)
        media = copy_tree(media_dir, work / "media")
        manifest = manifest_dict(now, engine.dialect.name, revision, tables, media)
        (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        (work / CHECKSUMS).write_text(_checksum_lines(tables, media), encoding="utf-8")
        if out_dir.exists():
            out_dir.rmdir()
        work.rename(out_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return BackupSummary(
        path=out_dir,
        revision=revision,
        tables={t.name: t.rows for t in tables},
        media_files=len(media),
        media_bytes=sum(m.size for m in media),
    )
