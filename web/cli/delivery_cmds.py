"""`loaxa mqtt …`: broker accounts and ACLs, pushing programme notices, commands to stations."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from scheduler.db.models import Commune, Station
from scheduler.delivery.acl import SERVER_USER, write_mosquitto_files
from scheduler.wire import Command, parse_mqtt_url
from web.cli.context import load_env


@click.group(help="Máy chủ MQTT (Mosquitto): tài khoản, quyền của các đài, thông báo lịch và lệnh.")
def mqtt() -> None:
    pass


@mqtt.command("acl", help="Ghi tệp mật khẩu (passwd), tệp quyền (acl) và loaxa.conf cho Mosquitto vào thư mục -o. "
                          "Mỗi đài chỉ đọc được chủ đề của mình. Chạy lại sau khi thêm đài hoặc cấp mã mới, "
                          "rồi nạp lại Mosquitto (kill -HUP).")
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Thư mục ghi các tệp cấu hình.")
@click.option("--server-user", default=None, help=f"Tài khoản của máy chủ loaxa (mặc định lấy từ LOAXA_MQTT_URL, "
                                                   f"hoặc {SERVER_USER}).")
@click.option("--server-password", default=None,
              help="Mật khẩu của tài khoản máy chủ (mặc định lấy từ LOAXA_MQTT_URL).")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="Cổng lắng nghe ghi vào loaxa.conf.")
def acl(out_dir: Path, server_user: str | None, server_password: str | None, port: int | None) -> None:
    env = load_env()
    url = None
    if env.settings.mqtt_url:
        try:
            url = parse_mqtt_url(env.settings.mqtt_url)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    user = server_user or (url.username if url else None) or SERVER_USER
    password = server_password or (url.password if url else None) or ""
    try:
        with env.sessions() as session:
            files = write_mosquitto_files(session, env.settings, out_dir, user, password,
                                          port or (url.port if url else 1883))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Đã ghi {files.password_file}, {files.acl_file} và {files.conf_file}: "
               f"tài khoản máy chủ «{user}» và {files.stations} đài có mã truy cập.")


@mqtt.command("push", help="Gửi ngay thông báo lịch mới (giữ lại trên máy chủ MQTT) cho các đài chưa được báo.")
def push() -> None:
    from scheduler.delivery.notices import push_pending
    from web.app import system_clock

    env = load_env()
    if not env.settings.mqtt_url:
        raise click.ClickException("Chưa cấu hình LOAXA_MQTT_URL: các đài tự hỏi lịch qua HTTP, không cần gửi.")
    result = push_pending(env.sessions, env.settings, system_clock())
    if result.error:
        raise click.ClickException(f"Không gửi được: {result.error}")
    click.echo(f"Đã gửi {result.published} thông báo; còn {result.pending} chưa được máy chủ MQTT xác nhận.")


@mqtt.command("send", help="Gửi lệnh tới một đài: stop (dừng phát), volume N (âm lượng 0-100), resync (tải lại hết).")
@click.argument("station_code", metavar="MÃ_ĐÀI")
@click.argument("kind", metavar="LỆNH", type=click.Choice(["stop", "volume", "resync"]))
@click.argument("level", metavar="[MỨC]", required=False, type=click.IntRange(0, 100))
def send(station_code: str, kind: str, level: int | None) -> None:
    from scheduler.delivery.commands import send_command
    from web.app import system_clock

    if kind == "volume" and level is None:
        raise click.ClickException("Lệnh volume cần mức âm lượng 0-100, ví dụ: loaxa mqtt send GL-001 volume 70.")
    env = load_env()
    with env.sessions() as session:
        station = session.scalar(
            select(Station).options(selectinload(Station.commune).selectinload(Commune.province))
            .where(Station.code == station_code)
        )
        if station is None:
            raise click.ClickException(f"Không có đài mã «{station_code}».")
        command = Command.make(kind, system_clock(), volume=level if kind == "volume" else None)  # type: ignore[arg-type]
        if not send_command(station, command, env.settings):
            raise click.ClickException("Máy chủ MQTT không nhận lệnh (xem nhật ký); kiểm tra LOAXA_MQTT_URL.")
    click.echo(f"Đã gửi lệnh «{kind}» tới đài {station_code}.")
