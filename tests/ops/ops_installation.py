"""A populated loaxa installation for backup and migration tests: every table holds rows.

Most rows come from the real code paths (CSV import, accounts, play-log ingest, audit); tables
those paths do not reach are filled with one generic row each, so a new table is covered too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    func,
    select,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from scheduler import audit
from scheduler.accounts import create_user, issue_station_token
from scheduler.db.models import (
    AudioAsset,
    Base,
    Bulletin,
    Emergency,
    LexiconEntry,
    Programme,
    ProgrammeItem,
    Station,
)
from scheduler.db.session import transaction
from scheduler.imports import import_bulletins, import_stations
from scheduler.playlog import ingest
from scheduler.service import heartbeat

Clock = Callable[[], datetime]
NewDatabase = Callable[[str], Engine]
DEMO = Path(__file__).resolve().parents[2] / "scheduler" / "demo"
NOT_DATA = {"alembic_version", "apscheduler_jobs"}


def _demo_bulletins(valid_from: date, valid_to: date) -> str:
    text = (DEMO / "bulletins.csv").read_text(encoding="utf-8")
    return text.replace("{valid_from}", valid_from.isoformat()).replace("{valid_to}", valid_to.isoformat())


def _asset(media_dir: Path, payload: bytes, now: datetime, loudness: float | None) -> AudioAsset:
    sha = hashlib.sha256(payload).hexdigest()
    target = media_dir / "audio" / f"{sha}.mp3"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(payload)
    return AudioAsset(
        sha256=sha, cache_key=sha[:16], file_name=f"audio/{sha}.mp3", duration_ms=len(payload) * 10,
        loudness_lufs=loudness, true_peak_dbtp=-1.5, engine="espeak", voice="vi",
        warnings=["Dùng giọng dự phòng espeak"], created_at=now,
    )  # fmt: skip


def populate(sessions: sessionmaker[Session], media_dir: Path, now: datetime, tmp: Path) -> None:
    """Fill the database and the media dir through the code people use, then fill what is left."""
    monday = date(2026, 11, 23)
    recording = tmp / "ghi-am-jrai.mp3"
    recording.write_bytes(b"ID3 ghi am tieng Jrai " * 50)
    with transaction(sessions) as s:
        import_stations(s, (DEMO / "stations.csv").read_text(encoding="utf-8"))
        admin = create_user(s, "quantri", "admin", "mat-khau-123", now)
        create_user(s, "bientap", "editor", "mat-khau-123", now)
        approver = create_user(s, "lanhdao", "approver", "mat-khau-123", now)
        create_user(s, "vanhanh.iagrai", "operator", "mat-khau-123", now, "Xã Ia Grai")
        csv_text = _demo_bulletins(monday, monday + timedelta(days=30))
        csv_text += f"JRAI-001,Bản tin tiếng Jrai,,thong_tin_khac,jra,thuong,{monday},{monday},1,Xã Ia Grai,"
        csv_text += f"{recording.name}\n"
        import_bulletins(s, csv_text, tmp, media_dir, now, approver)
        for each in s.scalars(select(Station)):
            issue_station_token(each, now)
        audit.record(s, now, admin, "station.token", "station", "*", after={"bulk": True, "ghi_chú": "đầu tuần"})
        audit.record(s, now, None, "bulletin.import", "bulletin", "bulletins.csv")

    with transaction(sessions) as s:
        assets = [
            _asset(media_dir, b"ID3 am thanh ban tin 1" * 40, now, -16.0),
            _asset(media_dir, b"ID3 am thanh ban tin 2" * 40, now, float("-inf")),  # a silent file
        ]
        s.add_all(assets)
        s.flush()
        first, second = s.scalars(select(Bulletin).order_by(Bulletin.code).limit(2))
        first.audio_asset_id, second.audio_asset_id = assets[0].id, assets[1].id
        station = s.scalar(select(Station).where(Station.code == "IGR-01"))
        assert station is not None
        programme = Programme(station=station, week="2026-W48", version=3, built_at=now, content_hash="ab" * 32,
                              notified_version=3, acked_version=2, acked_at=now - timedelta(hours=1))
        start = datetime(2026, 11, 22, 22, 30, tzinfo=UTC)
        for n, (bulletin, asset) in enumerate(((first, assets[0]), (second, assets[1]))):
            programme.items.append(ProgrammeItem(
                start=start + timedelta(minutes=3 * n), end=start + timedelta(minutes=3 * n + 2), kind="bulletin",
                bulletin_id=bulletin.id, bulletin_code=bulletin.code, title=bulletin.title, topic=bulletin.topic,
                language="vi", priority=bulletin.priority, audio_sha256=asset.sha256, duration_ms=120_000,
            ))  # fmt: skip
        programme.items.append(ProgrammeItem(
            start=start + timedelta(minutes=10), end=start + timedelta(minutes=25), kind="relay",
            title="Tiếp sóng VOV1", stream_url="http://127.0.0.1:9/vov1", locked=True,
        ))  # fmt: skip
        s.add(programme)
        s.add(Emergency(bulletin_id=first.id, targets=["Xã Ia Grai"], starts_at=now, repeat_every_minutes=60,
                        repeat_until=now + timedelta(hours=13), repeat_count=13, volume=100, created_by_id=admin.id,
                        created_at=now))  # fmt: skip
        s.add(LexiconEntry(abbreviation="TTHC", expansion="thủ tục hành chính"))
        s.flush()
        item_id = programme.items[0].id
        rows: list[dict[str, Any]] = [
            {"play_id": "IGR-01-0001", "item_id": item_id, "actual_start": start.isoformat(),
             "actual_end": (start + timedelta(minutes=2)).isoformat(), "played_ms": 120_000, "result": "played"},
            {"play_id": "IGR-01-0002", "actual_start": (start + timedelta(minutes=5)).isoformat(),
             "result": "failed", "reason": "Mất điện, bộ khuếch đại tắt"},
        ]  # fmt: skip
        ingest(s, station, rows, now + timedelta(minutes=7))
        heartbeat.beat(s, "may-chu:4242", 4242, now, now)
        heartbeat.save_state(s, "rebuild_watch", {"built": "abc", "ghi_chú": "đã dựng"})
    with transaction(sessions) as s:
        fill_empty_tables(s.connection(), now)


def _value(column: Any, conn: Connection, now: datetime, n: int) -> Any:
    for fk in column.foreign_keys:
        return conn.execute(select(fk.column).limit(1)).scalar_one()
    type_ = column.type
    impl = getattr(type_, "impl", type_)
    if isinstance(impl, JSON):
        return {"khóa": ["giá trị", n]}
    if isinstance(impl, Boolean):
        return True
    if isinstance(impl, DateTime):
        return now + timedelta(seconds=n)
    if isinstance(impl, Date):
        return date(2026, 11, 23)
    if isinstance(impl, Integer):
        return 1000 + n
    if isinstance(impl, Float):
        return 0.25 + n
    if isinstance(impl, String):
        text = f"Giá trị {column.name} {n}"
        return text[: impl.length] if impl.length else text
    raise TypeError(f"no sample value for {column.table.name}.{column.name} ({type_!r})")


def fill_empty_tables(conn: Connection, now: datetime, tables: list[Table] | None = None) -> None:
    """One row (every column set) in each table that is still empty (default: the models' tables)."""
    for table in Base.metadata.sorted_tables if tables is None else tables:
        if conn.execute(select(func.count()).select_from(table)).scalar_one():
            continue
        row = {}
        for n, column in enumerate(table.columns):
            if column.primary_key and isinstance(column.type, Integer):
                continue  # generated
            row[column.name] = _value(column, conn, now, n)
        conn.execute(table.insert(), [row])


def data_tables(engine: Engine) -> list[Table]:
    meta = MetaData()
    meta.reflect(bind=engine, only=lambda name, _m: name not in NOT_DATA)
    return list(meta.sorted_tables)


def table_rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every model table that holds data (not scheduler.ops.dbdump.NOT_DATA), read through the
    models' column types, in primary-key order."""
    from scheduler.ops.dbdump import NOT_DATA

    out = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in NOT_DATA:
                continue
            order = list(table.primary_key.columns)
            out[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
    return out


def media_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
