"""`loaxa commune policy|choices|decide`: how a commune takes content from above (Thông tư 39/2020/TT-BTTTT)."""

from __future__ import annotations

import click
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from scheduler import commune_choice
from scheduler.db.models import Bulletin, Commune, User
from scheduler.db.session import transaction
from web.app import system_clock
from web.cli.context import load_env


@click.group(help="Xã: chính sách nhận tin từ tuyến trên (Thông tư 39/2020/TT-BTTTT).")
def commune() -> None:
    pass


@commune.command("policy", help="Xem hoặc đặt chính sách của xã với tin thông thường của tuyến trên: "
                                "tu-dong (tự động phát) hoặc chon (người duyệt của xã chọn Nhận phát / Không "
                                "phát; quá hạn thì áp dụng mặc định). Không có tùy chọn: chỉ in chính sách.")
@click.argument("name")
@click.option("--mode", type=click.Choice(sorted(commune_choice.MODES)), default=None, help="tu-dong hoặc chon.")
@click.option("--deadline-hours", type=int, default=None, help="Số giờ xã có để quyết định (1–336).")
@click.option("--default", "default", type=click.Choice(sorted(commune_choice.ANSWERS)), default=None,
              help="Quá hạn mà chưa quyết định: nhan (nhận phát) hoặc khong (không phát).")
@click.option("--priority-order", type=click.Choice(sorted(commune_choice.ORDERS)), default=None,
              help="Tin ưu tiên: tren-truoc (tuyến trên trước, mặc định) hoặc xa-truoc (tin của xã trước).")
def policy(name: str, mode: str | None, deadline_hours: int | None, default: str | None,
           priority_order: str | None) -> None:
    env = load_env()
    try:
        with transaction(env.sessions) as session:
            row = commune_choice.find_commune(session, name)
            result = commune_choice.set_policy(session, row, system_clock(), None, mode=mode,
                                               deadline_hours=deadline_hours, default=default,
                                               priority_order=priority_order)
            label = row.name
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{label}: {result.describe()}")


@commune.command("choices", help="Các tin thông thường của tuyến trên đang chờ xã quyết định (và đã quyết định).")
@click.option("--commune", "name", default=None, help="Chỉ một xã.")
def choices(name: str | None) -> None:
    env = load_env()
    tz = env.settings.tz
    with env.sessions() as session:
        communes = None
        if name:
            try:
                communes = [commune_choice.find_commune(session, name)]
            except ValueError as exc:
                raise click.ClickException(str(exc)) from None
        else:
            communes = list(session.scalars(select(Commune).options(selectinload(Commune.stations))))
        rows = commune_choice.choices(session, system_clock(), communes)
        if not rows:
            click.echo("Không có tin nào của tuyến trên chờ xã quyết định.")
        for w in rows:
            due = w.due.astimezone(tz).strftime("%H:%M %d/%m/%Y")
            how = " (mặc định khi quá hạn)" if w.decision is not None and w.decision.by_default else ""
            click.echo(f"{w.commune.name}  {w.bulletin.code}  {w.choice.label}{how}  hạn {due}  {w.bulletin.title}")


@commune.command("decide", help="Trả lời một tin thông thường của tuyến trên đang chờ xã: nhan (Nhận phát) hoặc "
                                "khong (Không phát), như nút trên trang «Tin tuyến trên». Có thể đổi lại sau; "
                                "ghi vào lịch sử bản tin. Chỉ người duyệt (của xã, khu vực, tỉnh) hoặc quản trị.")
@click.argument("code")
@click.option("--commune", "name", required=True, help="Tên xã, ví dụ \"Xã Ia Grai\".")
@click.option("--answer", type=click.Choice(sorted(commune_choice.ANSWERS)), required=True,
              help="nhan (nhận phát) hoặc khong (không phát).")
@click.option("--as", "username", required=True, help="Tài khoản quyết định (người duyệt hoặc quản trị).")
def decide(code: str, name: str, answer: str, username: str) -> None:
    env = load_env()
    try:
        with transaction(env.sessions) as session:
            row = commune_choice.find_commune(session, name)
            bulletin = session.scalar(select(Bulletin).where(Bulletin.code == code.strip()))
            if bulletin is None:
                raise ValueError(f"Không có bản tin mã «{code}». Xem danh sách bằng «loaxa commune choices».")
            user = session.scalar(select(User).where(User.username == username.strip(), User.active))
            if user is None:
                raise ValueError(f"Không có tài khoản đang hoạt động tên «{username}».")
            commune_choice.decide(session, bulletin, row, answer, user, system_clock())
            label = row.name
    except ValueError as exc:  # ChoiceRefused included: no right, outside the scope, not waiting
        raise click.ClickException(str(exc)) from None
    click.echo(f"{label}: «{commune_choice.ANSWERS[answer]}» bản tin {bulletin.code}.")
