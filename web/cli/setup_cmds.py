"""`loaxa init`, `loaxa user …`, `loaxa station …`: schema, accounts and station tokens."""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler import accounts, audit
from scheduler.db.models import Station, User
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


@user.command("add", help="Thêm tài khoản. Vai trò: admin, editor, approver, operator, viewer. "
                          "Phạm vi: --commune (một xã) hoặc --area (một khu vực); bỏ trống là toàn tỉnh.")
@click.argument("username", metavar="TÊN")
@click.option("--role", required=True, type=click.Choice(sorted(accounts.ROLES)),
              help="Vai trò: " + ", ".join(f"{k} ({v})" for k, v in sorted(accounts.ROLES.items())) + ".")
@click.option("--commune", default=None, help="Xã: phạm vi làm việc (bắt buộc với vai trò operator).")
@click.option("--area", default=None, help="Khu vực (huyện cũ): phạm vi làm việc của biên tập viên, người duyệt.")
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Tệp chứa mật khẩu (dòng đầu); bỏ trống để nhập từ bàn phím.")
def user_add(username: str, role: str, commune: str | None, area: str | None, password_file: Path | None) -> None:
    from scheduler.access import describe

    env = load_env()
    password = _read_password(password_file)
    try:
        with transaction(env.sessions) as session:
            row = accounts.create_user(session, username, role, password, system_clock(), commune, area)
            audit.record(session, system_clock(), None, "user.create", "user", row.id,
                         after={"username": username, "role": role, "commune": commune, "area": area})
            scope = describe(row)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Đã tạo tài khoản «{username}» ({accounts.ROLES[role]}, phạm vi: {scope}).")


MIN_PASSWORD_LENGTH = 8  # the same rule as scheduler.accounts.create_user


def _find_user(session: Session, username: str) -> User:
    row = session.scalar(select(User).where(User.username == username))
    if row is None:
        raise click.ClickException(f"Không có tài khoản «{username}». Xem danh sách bằng lệnh: loaxa user list")
    return row


@user.command("list", help="Liệt kê các tài khoản: tên, vai trò, phạm vi, trạng thái.")
def user_list() -> None:
    from scheduler.access import describe

    env = load_env()
    with env.sessions() as session:
        rows = session.scalars(select(User).order_by(User.username)).all()
        table = [("Tên đăng nhập", "Vai trò", "Phạm vi", "Trạng thái")]
        for row in rows:
            state = "hoạt động" if row.active else "đã khóa"
            role = accounts.ROLES.get(row.role, row.role)
            table.append((row.username, role, describe(row), state))
    if len(table) == 1:
        click.echo("Chưa có tài khoản nào. Thêm bằng lệnh: loaxa user add TÊN --role admin")
        return
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    for r in table:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())


@user.command("disable", help="Khóa tài khoản TÊN: không đăng nhập được nữa, lịch sử vẫn giữ.")
@click.argument("name", metavar="TÊN")
def user_disable(name: str) -> None:
    env = load_env()
    now = system_clock()
    with transaction(env.sessions) as session:
        row = _find_user(session, name)
        if not row.active:
            click.echo(f"Tài khoản «{name}» đã bị khóa từ trước.")
            return
        if row.role == "admin":
            admins = session.scalar(select(func.count()).select_from(User).where(User.role == "admin", User.active))
            if (admins or 0) <= 1:
                raise click.ClickException(
                    f"Không khóa «{name}»: đây là tài khoản quản trị cuối cùng còn hoạt động. "
                    "Tạo một tài khoản quản trị khác trước (loaxa user add TÊN --role admin)."
                )
        row.active = False
        audit.record(
            session, now, None, "user.disable", "user", row.id, before={"active": True}, after={"active": False}
        )
    click.echo(f"Đã khóa tài khoản «{name}».")


@user.command("enable", help="Mở khóa tài khoản TÊN.")
@click.argument("name", metavar="TÊN")
def user_enable(name: str) -> None:
    env = load_env()
    with transaction(env.sessions) as session:
        row = _find_user(session, name)
        if row.active:
            click.echo(f"Tài khoản «{name}» đang hoạt động.")
            return
        row.active = True
        before, after = {"active": False}, {"active": True}
        audit.record(session, system_clock(), None, "user.enable", "user", row.id, before=before, after=after)
    click.echo(f"Đã mở khóa tài khoản «{name}».")


@user.command("passwd", help="Đặt lại mật khẩu cho tài khoản TÊN.")
@click.argument("name", metavar="TÊN")
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Tệp chứa mật khẩu (dòng đầu); bỏ trống để nhập từ bàn phím.")
def user_passwd(name: str, password_file: Path | None) -> None:
    env = load_env()
    with env.sessions() as session:
        _find_user(session, name)  # fail before asking for a password
    password = _read_password(password_file)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.ClickException(
            f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự; mật khẩu đã nhập có {len(password)}."
        )
    with transaction(env.sessions) as session:
        row = _find_user(session, name)
        row.password_hash = accounts.hash_password(password)
        audit.record(session, system_clock(), None, "user.passwd", "user", row.id)
    click.echo(f"Đã đặt lại mật khẩu cho «{name}».")


@click.group(help="Quản lý đài (cụm loa).")
def station() -> None:
    pass


@station.command(
    "token", help="In mã truy cập mới cho đài MÃ_ĐÀI, hoặc với --all ghi mã mọi đài vào tệp CSV. Mã cũ bị thu hồi."
)
@click.argument("code", metavar="[MÃ_ĐÀI]", required=False)
@click.option("--all", "all_stations", is_flag=True, help="Cấp mã mới cho mọi đài đang hoạt động.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Tệp CSV (code,token) để ghi mã khi dùng --all; chỉ chủ tệp đọc được (0600).")
def station_token(code: str | None, all_stations: bool, output: Path | None) -> None:
    if all_stations == (code is not None):
        raise click.UsageError(
            "Ghi mã một đài (loaxa station token MÃ_ĐÀI) hoặc dùng --all -o tokens.csv, không dùng cả hai."
        )
    if all_stations:
        if output is None:
            raise click.UsageError("Với --all cần -o TỆP.csv: mã truy cập của mọi đài không in ra màn hình.")
        count = _issue_all_tokens(output)
        click.echo(f"Đã cấp mã mới cho {count} đài, ghi vào {output} (chỉ chủ tệp đọc được).")
        return
    if output is not None:
        raise click.UsageError("-o chỉ dùng cùng --all.")
    env = load_env()
    with transaction(env.sessions) as session:
        row = session.scalar(select(Station).where(Station.code == code))
        if row is None:
            raise click.ClickException(f"Không có đài mã «{code}». Xem danh sách đài trong trang quản trị.")
        token = accounts.issue_station_token(row, system_clock())
        audit.record(session, system_clock(), None, "station.token", "station", code)
    click.echo(token)


def _issue_all_tokens(output: Path) -> int:
    """New tokens for every active station, written 0600; the file appears only if the database commits."""
    env = load_env()
    now = system_clock()
    output = output.resolve()
    if not output.parent.is_dir():
        raise click.ClickException(f"Thư mục {output.parent} không tồn tại. Tạo thư mục trước hoặc chọn chỗ khác.")
    tmp = output.with_name(f".{output.name}.{os.getpid()}.part")
    try:
        with transaction(env.sessions) as session:
            rows = session.scalars(select(Station).where(Station.active).order_by(Station.code)).all()
            if not rows:
                raise click.ClickException(
                    "Chưa có đài nào đang hoạt động. Nhập đài trước: loaxa import stations TỆP.csv"
                )
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(("code", "token"))
                for row in rows:
                    writer.writerow((row.code, accounts.issue_station_token(row, now)))
                    audit.record(session, now, None, "station.token", "station", row.code, after={"bulk": True})
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)
    return len(rows)
