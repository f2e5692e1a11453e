"""`loaxa playlist today|confirm|missed`: the operator's day from the command line."""

from __future__ import annotations

import json
from datetime import date, datetime

import click
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler.access import in_scope
from scheduler.db.models import Commune, ProgrammeItem, Station, User
from scheduler.db.session import transaction
from scheduler.delivery import audio_links
from scheduler.delivery.operator import (
    MISSED_REASONS,
    audio_name,
    confirm_played,
    m3u_for_day,
    mark_missed,
    missed_reason,
)
from scheduler.delivery.today import DayRow, day_rows, station_tz
from scheduler.item_states import NO_LOG_REASON, ItemState, load_states
from scheduler.reports.periods import parse_local_date
from scheduler.settings import Settings
from web.auth import can
from web.cli.context import load_env, now_from


def _station(session: Session, code: str) -> Station:
    station = session.scalar(
        select(Station).options(selectinload(Station.commune).selectinload(Commune.province))
        .where(Station.code == code.strip())
    )
    if station is None:
        raise click.ClickException(f"Không có đài mã «{code}». Xem danh sách đài trên trang «Đài và cụm loa».")
    return station


def _user(session: Session, username: str, permission: str | None = None) -> User:
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.active:
        raise click.ClickException(f"Không có tài khoản đang hoạt động tên «{username}».")
    if permission and not can(user, permission):
        raise click.ClickException(f"Tài khoản «{user.username}» không có quyền xác nhận phát "
                                   "(chỉ vận hành xã và quản trị).")
    return user


def _day(text: str | None, now: datetime, station: Station, settings: Settings) -> date:
    if not text:
        return now.astimezone(station_tz(station, settings.timezone)).date()
    try:
        return parse_local_date(text)
    except ValueError as exc:
        raise click.UsageError(f"--date: {exc}") from None


def _text_line(row: DayRow) -> str:
    item, tz = row.item, row.tz
    line = (f"{row.item.id:>7}  {item.start.astimezone(tz):%H:%M}–{item.end.astimezone(tz):%H:%M}  "
            f"{row.verdict.label:<26}  {item.title or item.kind}")
    reason = row.verdict.reason
    shown = reason and reason != NO_LOG_REASON and (row.verdict.manual or row.verdict.state != ItemState.AIRED)
    return line + (f" — {reason}" if shown else "")


@click.group(help="Danh sách phát trong ngày của một đài: xem, xác nhận đã phát, báo không phát được.")
def playlist() -> None:
    pass


NOW_OPTION = click.option("--now", "now_text", hidden=True, help="Như tại thời điểm này (ISO, có múi giờ).")


@playlist.command("today", help="Các mục phát trong ngày của đài cùng trạng thái: sắp phát, đang phát, đã phát "
                                "(tự động/xác nhận tay), phát dở, bỏ lỡ, bị thay bởi lệnh khẩn cấp, bị từ chối.")
@click.option("--station", "code", required=True, help="Mã đài, ví dụ IADER-01.")
@click.option("--date", "day_text", default=None, metavar="NGÀY", help="Ngày: 2026-11-24 hoặc 24/11/2026 "
                                                                          "(mặc định: hôm nay).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "m3u"]), default="text", show_default=True,
              help="text: bảng dễ đọc; json: danh sách mục; m3u: danh sách phát cho VLC/mpv (đường dẫn có hạn 24 giờ).")
@click.option("--by", "username", default=None, help="Chỉ cho xem nếu đài thuộc phạm vi của tài khoản này.")
@NOW_OPTION
def today(code: str, day_text: str | None, fmt: str, username: str | None, now_text: str | None) -> None:
    env = load_env()
    now = now_from(now_text)
    with env.sessions() as session:
        station = _station(session, code)
        if username is not None and not in_scope(_user(session, username), station):
            raise click.ClickException(f"Đài {station.code} nằm ngoài phạm vi của tài khoản «{username}».")
        day = _day(day_text, now, station, env.settings)
        if fmt == "m3u":
            secret, base = env.settings.secret_key, env.settings.public_url

            def link(item: ProgrammeItem) -> str:
                assert item.audio_sha256 is not None
                return audio_links.url(base, secret, item.audio_sha256, audio_name(item), now)

            click.echo(m3u_for_day(session, station.code, day, env.settings, link=link), nl=False)
            return
        rows = day_rows(session, [station], day, now, env.settings.timezone)
        if fmt == "json":
            click.echo(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=2))
            return
        click.echo(f"Đài {station.code} — {station.name}, ngày {day:%d/%m/%Y}: {len(rows)} mục.")
        if rows:
            click.echo(f"{'Số mục':>7}  {'Giờ':<11}  {'Trạng thái':<26}  Nội dung")
        for row in rows:
            click.echo(_text_line(row))


def _answer(code: str, item_id: int, username: str, now_text: str | None, reason: str | None) -> None:
    env = load_env()
    now = now_from(now_text)
    try:
        with transaction(env.sessions) as session:
            user = _user(session, username, "playlog.confirm")
            if reason is None:
                outcome = confirm_played(session, code.strip(), item_id, user, now)
            else:
                outcome = mark_missed(session, code.strip(), item_id, user, now, reason)
            item = session.get(ProgrammeItem, item_id)
            assert item is not None
            verdict = load_states(session, [item], now)[item.id]
            title = item.title or item.kind
    except (LookupError, PermissionError, ValueError) as exc:
        raise click.ClickException(str(exc).strip("'\"")) from None
    if outcome.stored:
        click.echo(f"Đã ghi: «{title}» — {verdict.label}" + (f" ({verdict.reason})." if reason else "."))
    else:
        click.echo(f"Không ghi thêm: «{title}» đã có câu trả lời từ trước — {verdict.label}"
                   + (f" ({verdict.reason})." if verdict.reason else "."))


@playlist.command("confirm", help="Xác nhận một mục ĐÃ PHÁT (phát tay, không có máy thu tự động). Gửi lại nhiều "
                                  "lần vẫn chỉ ghi một lần.")
@click.option("--station", "code", required=True, help="Mã đài.")
@click.option("--item", "item_id", required=True, type=int, help="Số của mục (cột đầu của «loaxa playlist today»).")
@click.option("--by", "username", required=True, help="Tài khoản vận hành xác nhận.")
@NOW_OPTION
def confirm(code: str, item_id: int, username: str, now_text: str | None) -> None:
    _answer(code, item_id, username, now_text, None)


@playlist.command("missed", help="Báo một mục KHÔNG PHÁT ĐƯỢC, kèm lý do; báo cáo tính là bỏ lỡ với lý do đó.")
@click.option("--station", "code", required=True, help="Mã đài.")
@click.option("--item", "item_id", required=True, type=int, help="Số của mục.")
@click.option("--reason", required=True, metavar="LÝ DO",
              help=f"{', '.join(MISSED_REASONS.values())} (hoặc mã: {', '.join(MISSED_REASONS)}); "
                   "lời khác được ghi là «Khác: …».")
@click.option("--by", "username", required=True, help="Tài khoản vận hành báo.")
@NOW_OPTION
def missed(code: str, item_id: int, reason: str, username: str, now_text: str | None) -> None:
    try:
        text = missed_reason(reason)
    except ValueError as exc:
        raise click.UsageError(f"--reason: {exc}") from None
    _answer(code, item_id, username, now_text, text)
