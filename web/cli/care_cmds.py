"""`loaxa care CODE ACTION`: remote care of a station from the command line (scheduler.delivery.care)."""

from __future__ import annotations

import time
from pathlib import Path

import click
from sqlalchemy import select

from scheduler.db.models import AgentPackage, Station, StationCommand
from scheduler.db.session import transaction
from scheduler.delivery import agent_packages
from scheduler.delivery import care as service
from web.app import system_clock
from web.cli.context import load_env

ACTIONS = ("restart", "reboot", "amplifier", "volume", "resync", "update", "history")


@click.command(help="Chăm sóc đài từ xa. ACTION: restart (khởi động lại phần mềm), reboot (khởi động lại đầu thu), "
                    "amplifier on|off, volume 0-100, resync (đồng bộ lại), update [PHIÊN_BẢN] (cập nhật phần mềm "
                    "đầu thu), history (các lệnh gần đây).")
@click.argument("code")
@click.argument("action", type=click.Choice(ACTIONS))
@click.argument("value", required=False)
@click.option("--wait", "wait_seconds", default=0, type=click.IntRange(0, 3600),
              help="Chờ tối đa bấy nhiêu giây để đầu thu trả lời.")
def care(code: str, action: str, value: str | None, wait_seconds: int) -> None:
    env = load_env()
    with env.sessions() as session:
        station = session.scalar(select(Station).where(Station.code == code))
        if station is None:
            raise click.ClickException(f"Không có đài mã «{code}».")
        if action == "history":
            rows = service.recent_commands(session, station, 20)
            if not rows:
                click.echo("Chưa có lệnh nào.")
            for r in rows:
                at = r.created_at.astimezone(env.settings.tz).strftime("%H:%M %d/%m/%Y")
                click.echo(f"{at}  {service.LABELS[r.kind]}  {service.RESULT_LABELS[r.result]}"
                           f"{'  ' + r.message if r.message else ''}")
            return
    volume = None
    if action == "volume":
        try:
            volume = int(value or "")
        except ValueError:
            raise click.ClickException(f"Âm lượng «{value or ''}» không hợp lệ; dùng số nguyên từ 0 đến 100.") from None
    now = system_clock()
    with transaction(env.sessions) as session:
        station = session.scalars(select(Station).where(Station.code == code)).one()
        package = None
        if action == "update":
            package = (session.scalar(select(AgentPackage).where(AgentPackage.version == value)
                                      .order_by(AgentPackage.id.desc()).limit(1))
                       if value else service.latest_package(session))
            if value and package is None:
                raise click.ClickException(f"Chưa phát hành phiên bản «{value}». Xem: loaxa agent-package list")
        try:
            command = service.care_command(action, now, env.settings, volume=volume, state=value, package=package)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        row = service.send_care(session, env.settings, station, command, None, now)
        command_id, via = row.command_id, row.via
    how = "qua MQTT" if via == "mqtt" else "ở lần báo trạng thái kế tiếp của đầu thu"
    click.echo(f"Đã gửi lệnh «{service.LABELS[action]}» tới đài {code} ({how}).")
    deadline = time.monotonic() + wait_seconds
    while wait_seconds:
        with env.sessions() as session:
            row = session.scalars(select(StationCommand).where(StationCommand.command_id == command_id)).one()
            if row.result in ("ok", "failed"):
                click.echo(f"Đầu thu trả lời: {service.RESULT_LABELS[row.result]}. {row.message}".rstrip())
                if row.result == "failed":
                    raise SystemExit(1)
                return
        if time.monotonic() >= deadline:
            raise click.ClickException(
                f"Đầu thu chưa trả lời sau {wait_seconds} giây; xem lại: loaxa care {code} history")
        time.sleep(1)


@click.group("agent-package", help="Gói phần mềm đầu thu máy chủ phát hành để cập nhật từ xa (loaxa care CODE update).")
def agent_package() -> None:
    pass


@agent_package.command("publish", help="Phát hành một gói wheel của loaxa (ví dụ dist/loaxa-0.2.0-py3-none-any.whl).")
@click.argument("wheel", type=click.Path(dir_okay=False, path_type=Path))
def package_publish(wheel: Path) -> None:
    env = load_env()
    try:
        with transaction(env.sessions) as session:
            package = agent_packages.publish(session, env.settings.media_dir, wheel, "", system_clock())
            version, sha = package.version, package.sha256
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Đã phát hành phần mềm đầu thu phiên bản {version} (SHA-256 {sha}).")


@agent_package.command("build", help="Đóng gói phần mềm từ mã nguồn (pip wheel) rồi phát hành.")
@click.option("--source", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
              help="Thư mục mã nguồn loaxa (có pyproject.toml).")
def package_build(source: Path) -> None:
    env = load_env()
    try:
        wheel = agent_packages.build_wheel(source.resolve())
        with transaction(env.sessions) as session:
            package = agent_packages.publish(session, env.settings.media_dir, wheel, "", system_clock())
            version, sha = package.version, package.sha256
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Đã đóng gói và phát hành phần mềm đầu thu phiên bản {version} (SHA-256 {sha}).")


@agent_package.command("list", help="Các gói đã phát hành, mới nhất trước.")
def package_list() -> None:
    env = load_env()
    with env.sessions() as session:
        rows = agent_packages.list_packages(session)
        if not rows:
            click.echo("Chưa phát hành gói nào. Dùng: loaxa agent-package build hoặc publish TỆP.whl")
        for p in rows:
            at = p.published_at.astimezone(env.settings.tz).strftime("%H:%M %d/%m/%Y")
            click.echo(f"{p.version}  {at}  {p.size // 1024} KB  {p.sha256}")
