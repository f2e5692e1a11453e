"""Health checks for /healthz: database, media storage, MQTT broker, the scheduler's leader.

Each check returns a `Check` with an English key and a Vietnamese message for the person on call.
A check never raises and never waits longer than its timeout.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from scheduler.ops.mqttping import CONNACK_CODES, parse_mqtt_url, ping


@dataclass(frozen=True)
class Check:
    name: str  # database | media | broker | scheduler
    ok: bool
    message: str
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "message": self.message, **self.detail}


@cache
def expected_revision() -> str | None:
    """The newest Alembic revision this code ships (read once per process)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from scheduler.db.session import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def check_database(engine: Engine) -> Check:
    """The database answers, and its schema is the one this code expects."""
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        return Check("database", False, f"Không kết nối được cơ sở dữ liệu ({exc.__class__.__name__}).")
    head = expected_revision()
    detail = {"revision": current, "expected_revision": head}
    if current != head:
        return Check(
            "database", False, f"Lược đồ cơ sở dữ liệu ở phiên bản {current}, cần {head}: chạy «loaxa init».", detail
        )
    return Check("database", True, "Cơ sở dữ liệu hoạt động.", detail)


def check_media(media_dir: Path) -> Check:
    """The media directory exists and a file can be written (and removed) in it."""
    if not media_dir.is_dir():
        return Check("media", False, f"Không có thư mục media {media_dir}: chạy «loaxa init» hoặc sửa LOAXA_MEDIA_DIR.")
    try:
        fd, name = tempfile.mkstemp(prefix=".healthz-", suffix=".tmp", dir=media_dir)
        os.write(fd, b"ok")
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        return Check("media", False, f"Không ghi được vào thư mục media {media_dir} ({exc.strerror}).")
    usage = os.statvfs(media_dir)
    free = usage.f_bavail * usage.f_frsize
    return Check("media", True, "Thư mục media ghi được.", {"free_bytes": free})


def check_broker(mqtt_url: str | None, timeout: float = 2.0) -> Check | None:
    """CONNECT to the broker with the server's credentials; None when MQTT is not configured."""
    if not mqtt_url:
        return None
    try:
        address = parse_mqtt_url(mqtt_url)
    except ValueError as exc:
        return Check("broker", False, str(exc))
    try:
        code = ping(address, timeout)
    except (OSError, ConnectionError) as exc:
        reason = "hết thời gian chờ" if isinstance(exc, TimeoutError) else exc.__class__.__name__
        return Check("broker", False, f"Không kết nối được máy chủ MQTT {address.display} ({reason}).")
    if code != 0:
        reason = CONNACK_CODES.get(code, f"mã {code}")
        return Check("broker", False, f"Máy chủ MQTT {address.display} từ chối: {reason}.", {"connack": code})
    return Check("broker", True, f"Máy chủ MQTT {address.display} chấp nhận kết nối.")


def check_scheduler(sessions: sessionmaker[Session], now: datetime, max_age: timedelta) -> Check:
    """A `loaxa scheduler` holds the lead and has beaten within `max_age`."""
    from scheduler.service import heartbeat

    try:
        with sessions() as session:
            row = heartbeat.read(session)
            holder, beat_at = (row.holder, row.beat_at) if row is not None else ("", None)
            alive = heartbeat.is_alive(row, now, max_age)
    except SQLAlchemyError as exc:
        return Check("scheduler", False, f"Không đọc được nhịp của bộ lập lịch ({exc.__class__.__name__}).")
    if beat_at is None or not holder:
        return Check("scheduler", False, "Chưa có bộ lập lịch nào chạy: khởi động dịch vụ «loaxa scheduler».")
    age = (now - beat_at).total_seconds()
    detail = {"holder": holder, "last_beat": beat_at.isoformat(), "age_seconds": round(age, 1)}
    if not alive:
        minutes = int(age // 60)
        return Check(
            "scheduler", False,
            f"Bộ lập lịch ({holder}) im lặng đã {minutes} phút: kiểm tra dịch vụ «loaxa scheduler».", detail,
        )  # fmt: skip
    return Check("scheduler", True, f"Bộ lập lịch đang chạy ({holder}).", detail)


def run_checks(
    engine: Engine,
    sessions: sessionmaker[Session],
    media_dir: Path,
    mqtt_url: str | None,
    now: datetime,
    scheduler_max_age: timedelta,
    broker_timeout: float = 2.0,
) -> list[Check]:
    """Every check, database first: the scheduler check is skipped when the database is down."""
    database = check_database(engine)
    checks = [database, check_media(media_dir)]
    broker = check_broker(mqtt_url, broker_timeout)
    if broker is not None:
        checks.append(broker)
    if database.ok:
        checks.append(check_scheduler(sessions, now, scheduler_max_age))
    else:
        checks.append(Check("scheduler", False, "Không kiểm tra được bộ lập lịch vì cơ sở dữ liệu lỗi."))
    return checks
