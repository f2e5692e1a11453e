"""`loaxa apikey add|key|scope|revoke|list`: who may read the open API (/api/v1/stations, …) and what."""

from __future__ import annotations

import click

from scheduler import apikeys
from scheduler.db.session import transaction
from scheduler.wire import OPENAPI_PATH
from web.app import system_clock
from web.cli.context import load_env

SCOPE_HELP = "Phạm vi, cách nhau bằng dấu phẩy: " + ", ".join(apikeys.SCOPES) + "."


@click.group(help="Khóa API cho các hệ thống đọc dữ liệu của loaxa "
             "(hệ thống thông tin nguồn, bảng điều khiển của tỉnh).")
def apikey() -> None:
    pass


def _run(action: str, name: str, scope: str | None = None) -> str:
    env = load_env()
    try:
        with transaction(env.sessions) as session:
            now = system_clock()
            if action == "add":
                _, key = apikeys.add_consumer(session, name, scope or "", now)
                return key
            if action == "key":
                return apikeys.new_key(session, name, now)
            if action == "scope":
                return ",".join(apikeys.set_scopes(session, name, scope or "", now).scopes)
            apikeys.revoke(session, name, now)
            return ""
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


@apikey.command("add", help="Tạo bên dùng API và in khóa của nó (chỉ hiện một lần).")
@click.argument("name")
@click.option("--scope", "scope", required=True, help=SCOPE_HELP)
def apikey_add(name: str, scope: str) -> None:
    click.echo(_run("add", name, scope))
    click.echo(f"Đã tạo «{name}». Khóa trên chỉ hiện một lần: gửi kèm tiêu đề X-API-Key. "
               f"Tài liệu API: {OPENAPI_PATH}", err=True)


@apikey.command("key", help="Cấp khóa mới (khóa cũ hết hiệu lực ngay).")
@click.argument("name")
def apikey_key(name: str) -> None:
    click.echo(_run("key", name))


@apikey.command("scope", help="Đổi phạm vi được đọc.")
@click.argument("name")
@click.option("--scope", "scope", required=True, help=SCOPE_HELP)
def apikey_scope(name: str, scope: str) -> None:
    click.echo(f"Phạm vi của «{name}» nay là: {_run('scope', name, scope)}")


@apikey.command("revoke", help="Khóa ngay khóa API (cấp khóa mới bằng «loaxa apikey key TÊN»).")
@click.argument("name")
def apikey_revoke(name: str) -> None:
    _run("revoke", name)
    click.echo(f"Đã khóa khóa API của «{name}».")


@apikey.command("list", help="Các bên dùng API, phạm vi và lần dùng gần nhất.")
def apikey_list() -> None:
    env = load_env()
    with env.sessions() as session:
        rows = apikeys.list_consumers(session)
    if not rows:
        click.echo("Chưa có bên dùng API nào. Tạo bằng: loaxa apikey add TÊN --scope read:stations")
    for row in rows:
        used = row.last_used_at.astimezone(env.settings.tz).strftime("%H:%M %d/%m/%Y") if row.last_used_at else "chưa"
        click.echo(f"{row.name}  {'hoạt động' if row.active else 'đã khóa'}  {','.join(row.scopes or [])}  "
                   f"dùng gần nhất: {used}")
