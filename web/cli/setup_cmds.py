"""`loaxa init`, `loaxa user …`, `loaxa station …`: schema, accounts and station tokens."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy import select

from scheduler import accounts, audit
from scheduler.db.models import Station
from scheduler.db.session import transaction, upgrade_schema
from web.app import system_clock
from web.cli.context import load_env


@click.command(help="Tạo hoặc nâng cấp cơ sở dữ liệu lên phiên bản mới nhất.")
def init() -> None:
    env = load_env()
    env.settings.media_dir.mkdir(parents=True, exist_ok=True)
    upgrade_schema(env.engine)
    click.echo(f"Cơ sở dữ liệu đã sẵn sàng: {env.engine.url.render_as_string(hide_password=True)}")


@click.group(help="Quản lý tài khoản người dùng.")
def user() -> None:
    pass


def _read_password(password_file: Path | None) -> str:
    if password_file is not None:
        return password_file.read_text(encoding="utf-8").strip()
    if not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    return str(click.prompt("Mật khẩu", hide_input=True, confirmation_prompt="Nhập lại mật khẩu"))


@user.command("add", help="Thêm tài khoản. Vai trò: admin, editor, approver, operator, viewer.")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(sorted(accounts.ROLES)))
@click.option("--commune", default=None, help="Xã (bắt buộc với vai trò operator).")
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
def user_add(username: str, role: str, commune: str | None, password_file: Path | None) -> None:
    env = load_env()
    password = _read_password(password_file)
    try:
        with transaction(env.sessions) as session:
            row = accounts.create_user(session, username, role, password, system_clock(), commune)
            audit.record(session, system_clock(), None, "user.create", "user", row.id,
                         after={"username": username, "role": role, "commune": commune})
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Đã tạo tài khoản «{username}» ({accounts.ROLES[role]}).")


@click.group(help="Quản lý đài (cụm loa).")
def station() -> None:
    pass


@station.command("token", help="In mã truy cập mới cho đài CODE; mã cũ bị thu hồi.")
@click.argument("code")
def station_token(code: str) -> None:
    env = load_env()
    with transaction(env.sessions) as session:
        row = session.scalar(select(Station).where(Station.code == code))
        if row is None:
            raise click.ClickException(f"Không có đài mã «{code}». Xem danh sách đài trong trang quản trị.")
        token = accounts.issue_station_token(row, system_clock())
        audit.record(session, system_clock(), None, "station.token", "station", code)
    click.echo(token)
