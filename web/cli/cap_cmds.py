"""`loaxa cap import|export` (CAP 1.2 alerts in and out) and `loaxa source add|list|key` (upstream sources)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import requests
from sqlalchemy import select

from scheduler import sources
from scheduler.db.models import Emergency, Source
from scheduler.db.session import transaction
from scheduler.emergencies import cap
from web.app import system_clock
from web.cli.context import load_env


@click.group(help="Cảnh báo CAP 1.2 (Common Alerting Protocol): nhận vào thành lệnh khẩn cấp chờ duyệt, xuất ra.")
def cap_group() -> None:
    pass


def _read(where: str) -> bytes:
    if where == "-":
        return sys.stdin.buffer.read(cap.MAX_BYTES + 1)
    if where.startswith(("http://", "https://")):
        try:
            answer = requests.get(where, timeout=(5, 20))
        except requests.RequestException as exc:
            raise click.ClickException(f"Không tải được cảnh báo từ {where}: {exc}") from None
        if answer.status_code != 200:
            raise click.ClickException(f"Địa chỉ {where} trả về mã {answer.status_code}, không phải cảnh báo CAP.")
        return answer.content[: cap.MAX_BYTES + 1]
    path = Path(where)
    if not path.is_file():
        raise click.ClickException(f"Không có tệp «{where}».")
    return path.read_bytes()[: cap.MAX_BYTES + 1]


@cap_group.command("import", help="Nhận một cảnh báo CAP 1.2 (tệp, «-» hoặc địa chỉ http/https): kiểm tra theo "
                                  "lược đồ, chọn đài theo vùng, tạo lệnh khẩn cấp chờ người duyệt cho phát.")
@click.argument("where", metavar="NGUỒN")
@click.option("--source", "source_name", default=None, help="Tên nguồn gửi (đã tạo bằng «loaxa source add»).")
def cap_import(where: str, source_name: str | None) -> None:
    env = load_env()
    data = _read(where)
    try:
        with transaction(env.sessions) as session:
            source = None
            if source_name:
                source = session.scalar(select(Source).where(Source.name == source_name))
                if source is None:
                    raise cap.CapInvalid(f"Không có nguồn tên «{source_name}». Xem: loaxa source list.")
            imported = cap.import_alert(session, data, env.settings.media_dir, env.settings.audio, system_clock(),
                                        source)
            emergency_id, stations, action = imported.emergency.id, imported.stations, imported.action
    except cap.CapInvalid as exc:
        raise click.ClickException(str(exc)) from None
    if action == "duplicate":
        click.echo(f"Cảnh báo này đã nhận trước đây: lệnh khẩn cấp số {emergency_id}.")
    elif action == "cancelled":
        click.echo(f"Đã hủy lệnh khẩn cấp số {emergency_id} theo tin hủy của nguồn.")
    else:
        click.echo(f"Đã tạo lệnh khẩn cấp số {emergency_id} chờ duyệt: {stations} đài. "
                   f"Cho phát: loaxa emergency release {emergency_id} --user NGƯỜI-DUYỆT, "
                   "hoặc trên trang Phát khẩn cấp.")


@cap_group.command("export", help="Xuất một lệnh khẩn cấp thành cảnh báo CAP 1.2 (XML).")
@click.argument("emergency_id", metavar="SỐ_LỆNH", type=int)
@click.option("-o", "--output", default="-", show_default=True, help="Tệp kết quả; «-» để in ra màn hình.")
def cap_export(emergency_id: int, output: str) -> None:
    env = load_env()
    with env.sessions() as session:
        emergency = session.get(Emergency, emergency_id)
        if emergency is None:
            raise click.ClickException(f"Không có lệnh khẩn cấp số {emergency_id}. Xem: loaxa emergency list.")
        data = cap.export_alert(session, emergency, env.settings.public_url, env.settings.tz)
    if output == "-":
        sys.stdout.buffer.write(data + b"\n")
    else:
        Path(output).write_bytes(data)
        click.echo(f"Đã ghi cảnh báo CAP của lệnh số {emergency_id} vào {output}.", err=True)


@click.group(help="Nguồn thông tin cấp trên (hệ thống thông tin nguồn) gửi nội dung vào loaxa bằng khóa API riêng.")
def source() -> None:
    pass


@source.command("add", help="Tạo nguồn và in khóa API của nó (chỉ hiện một lần).")
@click.argument("name", metavar="TÊN_NGUỒN")
def source_add(name: str) -> None:
    env = load_env()
    try:
        with transaction(env.sessions) as session:
            _, key = sources.add_source(session, name, system_clock())
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(key)
    click.echo(f"Đã tạo nguồn «{name}». Khóa trên chỉ hiện một lần: gửi kèm tiêu đề X-API-Key.", err=True)


@source.command("key", help="Cấp khóa API mới cho nguồn (khóa cũ hết hiệu lực ngay).")
@click.argument("name", metavar="TÊN_NGUỒN")
def source_key(name: str) -> None:
    env = load_env()
    try:
        with transaction(env.sessions) as session:
            key = sources.new_key(session, name, system_clock())
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(key)


@source.command("list", help="Các nguồn và lần dùng khóa gần nhất.")
def source_list() -> None:
    env = load_env()
    with env.sessions() as session:
        rows = sources.list_sources(session)
    if not rows:
        click.echo("Chưa có nguồn nào. Tạo bằng: loaxa source add TÊN")
    for row in rows:
        used = row.last_used_at.astimezone(env.settings.tz).strftime("%H:%M %d/%m/%Y") if row.last_used_at else "chưa"
        click.echo(f"{row.name}  {'hoạt động' if row.active else 'đã khóa'}  dùng gần nhất: {used}")
