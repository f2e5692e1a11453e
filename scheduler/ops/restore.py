"""`loaxa restore`: check a backup end to end, then load it into an empty database and media dir.

The rows are loaded at the backup's own schema revision and then migrated to the newest one,
so an old backup restores into new code, and a SQLite backup restores into PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, MetaData, Table, func, inspect, select, text
from sqlalchemy.engine import Connection, Engine

from scheduler.db.changes import record_change
from scheduler.db.session import alembic_config, upgrade_schema
from scheduler.ops import OpsError
from scheduler.ops.backup import FORMAT, MANIFEST
from scheduler.ops.dbdump import VERSION_TABLE, current_revision, data_tables
from scheduler.ops.mediafiles import link_or_copy, sha256_of
from scheduler.ops.rowcodec import decode

BATCH = 1000


@dataclass
class RestoreSummary:
    revision: str
    tables: dict[str, int] = field(default_factory=dict)
    media_files: int = 0
    replaced: bool = False  # --force wiped existing data


def read_manifest(backup_dir: Path) -> dict[str, Any]:
    path = backup_dir / MANIFEST
    if not path.is_file():
        raise OpsError(f"{backup_dir} không phải bản sao lưu loaxa: thiếu tệp {MANIFEST}.")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise OpsError(f"Tệp {path} hỏng, không đọc được ({exc.__class__.__name__}).") from None
    if manifest.get("format") != FORMAT or manifest.get("application") != "loaxa":
        raise OpsError(
            f"Bản sao lưu {backup_dir} có định dạng {manifest.get('format')!r}, phiên bản này chỉ đọc định dạng "
            f"{FORMAT}. Dùng phiên bản loaxa đã tạo ra bản sao lưu."
        )
    return manifest


def _jsonl_lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        yield from fh


def verify_backup(backup_dir: Path) -> dict[str, Any]:
    """Check every table file and media file against the manifest; raise OpsError listing each problem."""
    manifest = read_manifest(backup_dir)
    problems: list[str] = []
    for table in manifest["tables"]:
        path = backup_dir / "db" / f"{table['name']}.jsonl"
        if not path.is_file():
            problems.append(f"thiếu tệp dữ liệu db/{table['name']}.jsonl")
            continue
        digest, rows = hashlib.sha256(), 0
        for line in _jsonl_lines(path):
            digest.update(line)
            rows += 1
        if digest.hexdigest() != table["sha256"] or rows != table["rows"]:
            problems.append(
                f"db/{table['name']}.jsonl sai tổng kiểm tra hoặc số dòng ({rows}, bản kê ghi {table['rows']})"
            )
    for item in manifest["media"]:
        path = backup_dir / "media" / item["path"]
        if not path.is_file():
            problems.append(f"thiếu tệp media/{item['path']}")
        elif path.stat().st_size != item["size"] or sha256_of(path) != item["sha256"]:
            problems.append(f"tệp media/{item['path']} sai tổng kiểm tra SHA-256")
    if problems:
        shown = "\n".join(f"- {p}" for p in problems[:20])
        more = f"\n… và {len(problems) - 20} lỗi khác." if len(problems) > 20 else ""
        raise OpsError(f"Bản sao lưu {backup_dir} không nguyên vẹn, không khôi phục gì:\n{shown}{more}")
    return manifest


def _row_counts(engine: Engine) -> dict[str, int]:
    """Rows in each data table of the target database (empty if it has no schema yet)."""
    with engine.connect() as conn:
        return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one()) for t in data_tables(conn)}


def _known_revision(engine: Engine, revision: str) -> None:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        found = ScriptDirectory.from_config(alembic_config(engine)).get_revision(revision)
    except CommandError:
        found = None
    if found is None:
        raise OpsError(
            f"Bản sao lưu ở phiên bản lược đồ {revision}, mới hơn phiên bản loaxa này. Cài bản loaxa mới hơn rồi "
            "khôi phục lại."
        )


def _drop_everything(engine: Engine) -> None:
    """Remove every table (the target is empty or the operator asked to replace it)."""
    meta = MetaData()
    with engine.begin() as conn:
        meta.reflect(bind=conn)
        meta.drop_all(bind=conn)


def _schema_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        return current_revision(conn)


def _reset_sequences(conn: Connection, tables: list[Table]) -> None:
    """PostgreSQL: make the next generated id follow the restored ones."""
    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, Integer):
            continue
        column = pk[0].name
        sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column}).scalar()
        if sequence:
            conn.execute(
                text(f'SELECT setval(:s, COALESCE((SELECT MAX("{column}") FROM "{table.name}"), 0) + 1, false)'),
                {"s": sequence},
            )


def _load_rows(engine: Engine, backup_dir: Path, manifest: dict[str, Any], wipe: bool) -> dict[str, int]:
    """Insert every table's rows in one transaction, committed only if every count matches the manifest."""
    kinds = {t["name"]: dict(t["columns"]) for t in manifest["tables"]}
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        tables = data_tables(conn)
        missing = sorted(set(kinds) - {t.name for t in tables})
        if missing:
            raise OpsError(f"Lược đồ đích thiếu bảng {', '.join(missing)}; bản sao lưu và mã không khớp phiên bản.")
        if wipe:
            for table in reversed(tables):
                conn.execute(table.delete())
        naive = conn.dialect.name == "sqlite"
        for table in tables:
            if table.name not in kinds:
                continue
            columns = kinds[table.name]
            batch: list[dict[str, Any]] = []
            for line in _jsonl_lines(backup_dir / "db" / f"{table.name}.jsonl"):
                record = json.loads(line)
                batch.append({k: decode(v, columns[k], naive) for k, v in record.items()})
                if len(batch) >= BATCH:
                    conn.execute(table.insert(), batch)
                    batch = []
            if batch:
                conn.execute(table.insert(), batch)
        if conn.dialect.name == "postgresql":
            _reset_sequences(conn, tables)
        for table in tables:
            counts[table.name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        expected = {t["name"]: t["rows"] for t in manifest["tables"]}
        wrong = [f"{name}: {counts.get(name)} thay vì {n}" for name, n in expected.items() if counts.get(name) != n]
        if wrong:
            raise OpsError(f"Số dòng sau khi nạp không khớp bản kê ({'; '.join(wrong)}); đã hủy, không ghi gì.")
        if inspect(conn).has_table("manifest_change"):  # absent in a schema older than 0015, upgraded after
            record_change(conn)  # every station's answer may differ now: nodes answering from memory start over
    return counts


def _restore_media(backup_dir: Path, media_dir: Path, manifest: dict[str, Any], force: bool) -> int:
    """Put the backup's media files in place, then check each one's checksum where it landed."""
    conflicts = []
    for item in manifest["media"]:
        target = media_dir / item["path"]
        if target.exists() and sha256_of(target) != item["sha256"]:
            conflicts.append(item["path"])
    if conflicts and not force:
        raise OpsError(
            f"Thư mục media {media_dir} đã có {len(conflicts)} tệp khác nội dung với bản sao lưu "
            f"(ví dụ {conflicts[0]}). Dùng --force để ghi đè, hoặc chọn thư mục media trống."
        )
    for item in manifest["media"]:
        target = media_dir / item["path"]
        if target.exists() and item["path"] not in conflicts:
            continue
        link_or_copy(backup_dir / "media" / item["path"], target)
    bad = [item["path"] for item in manifest["media"] if sha256_of(media_dir / item["path"]) != item["sha256"]]
    if bad:
        raise OpsError(f"Sao chép media lỗi: {len(bad)} tệp sai tổng kiểm tra sau khi chép (ví dụ {bad[0]}).")
    return len(manifest["media"])


def restore_backup(engine: Engine, media_dir: Path, backup_dir: Path, force: bool = False) -> RestoreSummary:
    """Restore into an empty database (or replace a non-empty one with `force`); verify before and after."""
    manifest = verify_backup(backup_dir)
    revision = str(manifest["alembic_revision"])
    _known_revision(engine, revision)
    existing = {name: n for name, n in _row_counts(engine).items() if n}
    if existing and not force:
        listed = ", ".join(f"{name}: {n}" for name, n in sorted(existing.items())[:5])
        raise OpsError(
            f"Cơ sở dữ liệu đích đã có dữ liệu ({listed}…). Chỉ khôi phục vào cơ sở dữ liệu trống. "
            "Tạo cơ sở dữ liệu mới, hoặc dùng --force để XÓA toàn bộ dữ liệu hiện có và thay bằng bản sao lưu."
        )
    media_count = _restore_media(backup_dir, media_dir, manifest, force)
    target_revision = _schema_revision(engine)
    if target_revision != revision:
        # Loading happens at the backup's revision; the target has no rows worth keeping (checked above).
        _drop_everything(engine)
        upgrade_schema(engine, revision)
    counts = _load_rows(engine, backup_dir, manifest, wipe=bool(existing))
    upgrade_schema(engine)
    return RestoreSummary(revision=revision, tables=counts, media_files=media_count, replaced=bool(existing))
