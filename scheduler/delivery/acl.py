"""Mosquitto password and ACL files: each station reads only its own topics, the server writes all.

Password hashes use Mosquitto's `$7$` format (PBKDF2-HMAC-SHA512, 101 iterations, 12-byte salt,
base64), what `mosquitto_passwd -H sha512-pbkdf2` writes and Mosquitto 2.x reads.
A station's MQTT password is derived from the server secret and its current token, so it is never
stored, and re-issuing the token changes it. The agent gets it from GET /api/v1/mqtt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler.db.models import Commune, Station
from scheduler.delivery.mqtt_topics import station_topics
from scheduler.settings import Settings

PBKDF2_ITERATIONS = 101
SALT_BYTES = 12
SERVER_USER = "loaxa-server"


def mosquitto_hash(password: str, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def check_mosquitto_hash(stored: str, password: str) -> bool:
    try:
        _, kind, iterations, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if kind != "7":
        return False
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(salt_b64), int(iterations))
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


def station_mqtt_username(station: Station) -> str:
    return station.code


def station_mqtt_password(settings: Settings, station: Station) -> str | None:
    """None for a station without a token (it gets no MQTT account)."""
    if not station.token_hash:
        return None
    message = f"loaxa-mqtt|{station.code}|{station.token_hash}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class MosquittoFiles:
    password_file: Path
    acl_file: Path
    conf_file: Path
    stations: int


def _write_atomic(path: Path, text: str, mode: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def write_mosquitto_files(session: Session, settings: Settings, out_dir: Path, server_user: str,
                          server_password: str, port: int = 1883) -> MosquittoFiles:
    """Write passwd, acl and a loaxa.conf snippet into `out_dir`; each file replaced atomically."""
    if ":" in server_user or not server_user:
        raise ValueError(f"Tên tài khoản MQTT của máy chủ «{server_user}» không hợp lệ (không được rỗng hay chứa «:»).")
    if not server_password:
        raise ValueError("Chưa có mật khẩu MQTT cho máy chủ. Ghi nó trong LOAXA_MQTT_URL "
                         "(mqtt://loaxa-server:MẬT-KHẨU@máy-chủ:1883) hoặc dùng --server-password.")
    stations = list(session.scalars(
        select(Station)
        .options(selectinload(Station.commune).selectinload(Commune.province))
        .where(Station.active, Station.token_hash.is_not(None))
        .order_by(Station.code)
    ))
    passwd = [f"{server_user}:{mosquitto_hash(server_password)}"]
    acl = [
        "# Sinh bởi «loaxa mqtt acl»: mỗi đài chỉ đọc chủ đề của mình; máy chủ ghi tất cả.",
        f"user {server_user}",
        "topic readwrite loaxa/#",
        "",
    ]
    for station in stations:
        password = station_mqtt_password(settings, station)
        username = station_mqtt_username(station)
        if password is None or ":" in username:
            continue
        passwd.append(f"{username}:{mosquitto_hash(password)}")
        topics = station_topics(station)
        acl += [
            f"user {username}",
            f"topic read {topics.programme}",
            f"topic read {topics.cmd}",
            f"topic readwrite {topics.status}",
            f"topic write {topics.event}",
            "",
        ]
    out_dir.mkdir(parents=True, exist_ok=True)
    files = MosquittoFiles(out_dir / "passwd", out_dir / "acl", out_dir / "loaxa.conf", len(passwd) - 1)
    _write_atomic(files.password_file, "\n".join(passwd) + "\n", 0o640)
    _write_atomic(files.acl_file, "\n".join(acl) + "\n", 0o644)
    conf = [
        "# Cấu hình Mosquitto cho loaxa (sinh bởi «loaxa mqtt acl»). Nạp lại bằng: kill -HUP <pid mosquitto>",
        f"listener {port}",
        "allow_anonymous false",
        f"password_file {files.password_file.resolve()}",
        f"acl_file {files.acl_file.resolve()}",
        "persistence true",
    ]
    _write_atomic(files.conf_file, "\n".join(conf) + "\n", 0o644)
    return files
