"""Backups hold the database and the media together; a restore reproduces both exactly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from ops_installation import Clock, NewDatabase, data_tables, fill_empty_tables, media_files, populate, table_rows
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from scheduler.accounts import create_user
from scheduler.db.models import AuditLog, Base, PlayLog, User
from scheduler.db.session import make_session_factory, transaction, upgrade_schema
from scheduler.ops import OpsError
from scheduler.ops.backup import create_backup
from scheduler.ops.dbdump import dump_database
from scheduler.ops.restore import restore_backup


def _populated(sessions: sessionmaker[Session], media_dir: Path, clock: Clock, tmp_path: Path) -> None:
    populate(sessions, media_dir, clock(), tmp_path)


def _assert_every_table_has_rows(engine: Engine) -> None:
    rows = table_rows(engine)
    empty = [name for name, found in rows.items() if not found]
    assert not empty, f"the populated installation leaves tables empty: {empty}"


def test_restore_reproduces_every_row_and_media_file(
    engine: Engine, sessions: sessionmaker[Session], media_dir: Path, clock: Clock, tmp_path: Path,
    backend: str, new_database: NewDatabase,
) -> None:
    _populated(sessions, media_dir, clock, tmp_path)
    _assert_every_table_has_rows(engine)
    summary = create_backup(engine, media_dir, tmp_path / "backup", clock())
    assert summary.tables["station"] == 10 and summary.media_files == 3

    target = new_database(backend)
    target_media = tmp_path / "restored-media"
    result = restore_backup(target, target_media, tmp_path / "backup")

    assert result.tables == {name: len(rows) for name, rows in table_rows(engine).items()}
    assert table_rows(target) == table_rows(engine)
    assert media_files(target_media) == media_files(media_dir)


def test_sqlite_installation_moves_to_postgresql_unchanged(
    new_database: NewDatabase, tmp_path: Path, clock: Clock
) -> None:
    source = new_database("sqlite")
    upgrade_schema(source)
    media = tmp_path / "media"
    _populated(make_session_factory(source), media, clock, tmp_path)
    create_backup(source, media, tmp_path / "backup", clock())
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["source_dialect"] == "sqlite"

    target = new_database("postgresql")
    restore_backup(target, tmp_path / "pg-media", tmp_path / "backup")

    assert target.dialect.name == "postgresql"
    assert table_rows(target) == table_rows(source)
    assert media_files(tmp_path / "pg-media") == media_files(media)


def test_restored_postgresql_database_hands_out_fresh_ids(
    new_database: NewDatabase, tmp_path: Path, clock: Clock
) -> None:
    source = new_database("sqlite")
    upgrade_schema(source)
    _populated(make_session_factory(source), tmp_path / "media", clock, tmp_path)
    create_backup(source, tmp_path / "media", tmp_path / "backup", clock())
    target = new_database("postgresql")
    restore_backup(target, tmp_path / "pg-media", tmp_path / "backup")

    with transaction(make_session_factory(target)) as s:
        user = create_user(s, "nguoimoi", "viewer", "mat-khau-123", clock())
        highest = s.scalar(select(func.max(User.id)).where(User.username != "nguoimoi"))
        assert user.id > (highest or 0)


def test_backup_reads_one_consistent_snapshot_while_rows_are_written(
    engine: Engine, sessions: sessionmaker[Session], media_dir: Path, clock: Clock, tmp_path: Path
) -> None:
    _populated(sessions, media_dir, clock, tmp_path)
    with sessions() as s:
        audit_rows = s.scalar(select(func.count()).select_from(AuditLog))
    dumped: list[str] = []

    def write_meanwhile(table: str) -> None:
        if not dumped:  # after the first table, another connection commits a new audit row
            with transaction(sessions) as s:
                s.add(AuditLog(at=clock(), username="khác", action="user.login", entity="user"))
        dumped.append(table)

    _, tables = dump_database(engine, tmp_path / "dump", after_table=write_meanwhile)

    assert dumped[0] != "audit_log"
    assert {t.name: t.rows for t in tables}["audit_log"] == audit_rows
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditLog)) == (audit_rows or 0) + 1


def test_restore_refuses_a_database_with_data_and_changes_nothing(
    engine: Engine, sessions: sessionmaker[Session], media_dir: Path, clock: Clock, tmp_path: Path,
    backend: str, new_database: NewDatabase,
) -> None:
    _populated(sessions, media_dir, clock, tmp_path)
    create_backup(engine, media_dir, tmp_path / "backup", clock())
    target = new_database(backend)
    upgrade_schema(target)
    with transaction(make_session_factory(target)) as s:
        create_user(s, "dangdung", "admin", "mat-khau-123", clock())
    before = table_rows(target)

    with pytest.raises(OpsError, match="đã có dữ liệu.*--force"):
        restore_backup(target, tmp_path / "target-media", tmp_path / "backup")

    assert table_rows(target) == before
    assert not (tmp_path / "target-media").exists()


def test_forced_restore_replaces_existing_data(
    engine: Engine, sessions: sessionmaker[Session], media_dir: Path, clock: Clock, tmp_path: Path,
    backend: str, new_database: NewDatabase,
) -> None:
    _populated(sessions, media_dir, clock, tmp_path)
    create_backup(engine, media_dir, tmp_path / "backup", clock())
    target = new_database(backend)
    upgrade_schema(target)
    with transaction(make_session_factory(target)) as s:
        create_user(s, "dangdung", "admin", "mat-khau-123", clock())

    summary = restore_backup(target, tmp_path / "target-media", tmp_path / "backup", force=True)

    assert summary.replaced
    assert table_rows(target) == table_rows(engine)


def test_damaged_backup_is_refused_before_anything_is_written(
    engine: Engine, sessions: sessionmaker[Session], media_dir: Path, clock: Clock, tmp_path: Path,
    backend: str, new_database: NewDatabase,
) -> None:
    _populated(sessions, media_dir, clock, tmp_path)
    create_backup(engine, media_dir, tmp_path / "backup", clock())
    damaged = next((tmp_path / "backup" / "media" / "audio").iterdir())
    damaged.unlink()  # break the hardlink shared with the live media dir before changing bytes
    damaged.write_bytes(b"not the recorded bytes")
    target = new_database(backend)

    with pytest.raises(OpsError, match=f"(?s)không nguyên vẹn.*{damaged.name}.*SHA-256"):
        restore_backup(target, tmp_path / "target-media", tmp_path / "backup")

    assert data_tables(target) == []
    assert not (tmp_path / "target-media").exists()


def test_missing_table_file_is_named_in_the_refusal(
    engine: Engine, sessions: sessionmaker[Session], media_dir: Path, clock: Clock, tmp_path: Path,
    backend: str, new_database: NewDatabase,
) -> None:
    _populated(sessions, media_dir, clock, tmp_path)
    create_backup(engine, media_dir, tmp_path / "backup", clock())
    (tmp_path / "backup" / "db" / "play_log.jsonl").unlink()

    with pytest.raises(OpsError, match="thiếu tệp dữ liệu db/play_log.jsonl"):
        restore_backup(new_database(backend), tmp_path / "target-media", tmp_path / "backup")


def test_backup_of_an_older_schema_restores_and_is_upgraded(
    backend: str, new_database: NewDatabase, tmp_path: Path, clock: Clock
) -> None:
    source = new_database(backend)
    upgrade_schema(source, "0001")
    with source.begin() as conn:
        fill_empty_tables(conn, clock(), data_tables(source))
    old_rows = _counts(source)
    create_backup(source, tmp_path / "media", tmp_path / "backup", clock())
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["alembic_revision"] == "0001"

    target = new_database(backend)
    upgrade_schema(target)  # `loaxa init` run first, as people do: the empty newer schema is replaced
    restore_backup(target, tmp_path / "media2", tmp_path / "backup")

    counts = _counts(target)
    assert {name: counts[name] for name in old_rows} == old_rows
    assert set(Base.metadata.tables) <= set(counts)  # upgraded to the newest schema


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in data_tables(engine)}


def test_a_failed_backup_leaves_no_directory_behind(
    new_database: NewDatabase, tmp_path: Path, clock: Clock
) -> None:
    uninitialised = new_database("sqlite")
    with pytest.raises(OpsError, match="loaxa init"):
        create_backup(uninitialised, tmp_path / "media", tmp_path / "backup", clock())
    assert sorted(p.name for p in tmp_path.iterdir() if "backup" in p.name) == []


def test_backup_refuses_a_directory_that_holds_files(
    engine: Engine, media_dir: Path, tmp_path: Path, clock: Clock
) -> None:
    out = tmp_path / "backup"
    out.mkdir()
    (out / "cu.txt").write_text("bản cũ", encoding="utf-8")
    with pytest.raises(OpsError, match="đã có dữ liệu"):
        create_backup(engine, media_dir, out, clock())
    assert [p.name for p in out.iterdir()] == ["cu.txt"]


def test_checksum_list_matches_the_files(
    engine: Engine, sessions: sessionmaker[Session], media_dir: Path, clock: Clock, tmp_path: Path
) -> None:
    import hashlib

    _populated(sessions, media_dir, clock, tmp_path)
    create_backup(engine, media_dir, tmp_path / "backup", clock())
    root = tmp_path / "backup"
    lines = (root / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(list((root / "db").iterdir())) + 3
    for line in lines:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((root / name).read_bytes()).hexdigest() == digest, name
    with sessions() as s:
        plays = s.scalar(select(func.count()).select_from(PlayLog))
    assert len((root / "db" / "play_log.jsonl").read_text(encoding="utf-8").splitlines()) == plays


def test_media_dir_copy_does_not_hold_partial_files(
    engine: Engine, media_dir: Path, tmp_path: Path, clock: Clock
) -> None:
    (media_dir / "audio").mkdir()
    (media_dir / "audio" / "xong.mp3").write_bytes(b"ID3 xong")
    (media_dir / "audio" / "dang-ghi.mp3.part").write_bytes(b"ID3 dang")
    create_backup(engine, media_dir, tmp_path / "backup", clock())
    assert media_files(tmp_path / "backup" / "media") == {"audio/xong.mp3": b"ID3 xong"}
    shutil.rmtree(tmp_path / "backup")


def test_scheduler_job_store_is_left_out_and_does_not_block_a_restore(
    engine: Engine, media_dir: Path, tmp_path: Path, clock: Clock, backend: str, new_database: NewDatabase
) -> None:
    from sqlalchemy import text

    with engine.begin() as conn:  # what APScheduler creates for itself on the leader's first start
        conn.execute(text("CREATE TABLE apscheduler_jobs (id VARCHAR(191) PRIMARY KEY, next_run_time FLOAT, "
                          "job_state BYTEA)" if backend == "postgresql" else
                          "CREATE TABLE apscheduler_jobs (id VARCHAR(191) PRIMARY KEY, next_run_time FLOAT, "
                          "job_state BLOB)"))  # fmt: skip
        conn.execute(text("INSERT INTO apscheduler_jobs (id, next_run_time) VALUES ('render-audio', 1.0)"))
    try:
        create_backup(engine, media_dir, tmp_path / "backup", clock())
        manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text(encoding="utf-8"))
        assert "apscheduler_jobs" not in {t["name"] for t in manifest["tables"]}
        restore_backup(new_database(backend), tmp_path / "target-media", tmp_path / "backup")
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE apscheduler_jobs"))


def test_backup_and_restore_commands_report_in_vietnamese(
    engine: Engine, sessions: sessionmaker[Session], media_dir: Path, clock: Clock, tmp_path: Path,
    backend: str, new_database: NewDatabase, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from click.testing import CliRunner

    from web.cli import main

    _populated(sessions, media_dir, clock, tmp_path)
    monkeypatch.setenv("LOAXA_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("LOAXA_MEDIA_DIR", str(media_dir))
    backup = CliRunner().invoke(main, ["backup", "-o", str(tmp_path / "sao-luu")])
    assert backup.exit_code == 0, backup.output
    assert backup.output.startswith(f"Đã sao lưu vào {tmp_path / 'sao-luu'}") and "3 tệp media" in backup.output

    target = new_database(backend)
    monkeypatch.setenv("LOAXA_DATABASE_URL", target.url.render_as_string(hide_password=False))
    monkeypatch.setenv("LOAXA_MEDIA_DIR", str(tmp_path / "media-moi"))
    restored = CliRunner().invoke(main, ["restore", str(tmp_path / "sao-luu")])
    assert restored.exit_code == 0, restored.output
    assert "tổng kiểm tra khớp" in restored.output
    assert table_rows(target) == table_rows(engine)

    again = CliRunner().invoke(main, ["restore", str(tmp_path / "sao-luu")])
    assert again.exit_code == 1
    assert "Cơ sở dữ liệu đích đã có dữ liệu" in again.output and "--force" in again.output
