"""`loaxa programme build|export|explain` and `loaxa emergency start|list|cancel`."""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler import emergencies
from scheduler.db.models import Bulletin, Commune, Emergency, Programme, Station, User
from scheduler.db.session import transaction
from scheduler.domain import IsoWeek
from scheduler.planning import collector_paused
from scheduler.programmes import build_week, current_weeks
from scheduler.programmes.explain import explain_week, format_rows
from scheduler.programmes.exports import export_programme
from web.app import system_clock
from web.cli.context import load_env


def _week(value: str | None, now: datetime, tz: ZoneInfo) -> IsoWeek:
    if not value:
        return current_weeks(now, tz)[1]
    try:
        return IsoWeek.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from None


WEEK_HELP = "Tuần dạng NĂM-Wtuần, ví dụ 2026-W48 (mặc định: tuần sau)."


@click.group(help="Lịch phát tuần: lập lịch, xuất lịch, giải thích lịch.")
def programme() -> None:
    pass


@programme.command("build", help="Lập (hoặc lập lại) lịch phát tuần; chỉ đài có thay đổi mới tăng phiên bản.")
@click.option("--week", "week_text", default=None, help=WEEK_HELP)
@click.option("--station", default=None, help="Chỉ lập cho đài có mã này.")
def build(week_text: str | None, station: str | None) -> None:
    env = load_env()
    now = system_clock()
    week = _week(week_text, now, env.settings.tz)
    try:
        with transaction(env.sessions) as session, collector_paused():  # a batch: no web request shares it
            result = build_week(session, week, now, env.settings.tz, env.settings.no_change_minutes,
                                station_code=station)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Tuần {week}: {len(result.changed)} đài có lịch mới, {len(result.unchanged)} đài không đổi.")
    for code in result.changed:
        click.echo(f"  mới: {code}")
    if result.plan is not None and result.plan.shortfalls:
        click.echo(f"{len(result.plan.shortfalls)} cặp đài–bản tin thiếu lượt phát; xem «loaxa programme explain "
                   f"--week {week}».")


def _load_programme(session: Session, week: IsoWeek, station: str) -> Programme:
    programme = session.scalar(
        select(Programme)
        .join(Station)
        .options(
            selectinload(Programme.items),
            selectinload(Programme.station).selectinload(Station.commune).selectinload(Commune.province),
        )
        .where(Station.code == station, Programme.week == str(week))
    )
    if programme is None:
        if session.scalar(select(Station.id).where(Station.code == station)) is None:
            raise click.ClickException(f"Không có đài mã «{station}». Xem danh sách: loaxa station list.")
        raise click.ClickException(
            f"Chưa có lịch tuần {week} cho đài {station}: chạy «loaxa programme build --week {week}» trước."
        )
    return programme


def write_atomically(target: Path, data: bytes) -> None:
    """Write the whole file or nothing: a half-written export never replaces a good one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@programme.command("export", help="Xuất lịch tuần của một đài: json (manifest), m3u, ics (lịch) hoặc pdf (bản in).")
@click.option("--week", "week_text", required=True, help="Tuần dạng NĂM-Wtuần, ví dụ 2026-W48.")
@click.option("--station", required=True, help="Mã đài.")
@click.option("--format", "fmt", type=click.Choice(["json", "m3u", "ics", "pdf"]), default="json", show_default=True)
@click.option("-o", "--output", required=True, help="Tệp kết quả; «-» để in ra màn hình (trừ pdf).")
def export(week_text: str, station: str, fmt: str, output: str) -> None:
    env = load_env()
    week = _week(week_text, system_clock(), env.settings.tz)
    with env.sessions() as session:
        programme = _load_programme(session, week, station)
        data = export_programme(programme, fmt, env.settings.tz, env.settings.public_url)
    if output == "-":
        if fmt == "pdf":
            raise click.BadParameter("Tệp PDF không in ra màn hình được: ghi -o TÊN_TỆP.pdf.", param_hint="-o")
        sys.stdout.write(data.decode())
        return
    write_atomically(Path(output), data)
    click.echo(f"Đã ghi lịch tuần {week} của đài {station} ({fmt}) vào {output}.", err=True)


@programme.command("explain", help="Giải thích lịch tuần: số lượt đã xếp so với yêu cầu, và lý do thiếu.")
@click.option("--week", "week_text", default=None, help=WEEK_HELP)
@click.option("--station", default=None, help="Chỉ xem đài có mã này.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def explain_cmd(week_text: str | None, station: str | None, fmt: str) -> None:
    env = load_env()
    now = system_clock()
    week = _week(week_text, now, env.settings.tz)
    try:
        with env.sessions() as session:
            rows = explain_week(session, week, now, env.settings.tz, env.settings.no_change_minutes, station)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if fmt == "json":
        click.echo(json.dumps({"week": str(week), "rows": rows}, ensure_ascii=False, indent=2))
    else:
        click.echo(f"Tuần {week} (lập thử, không lưu):")
        click.echo(format_rows(rows))


# --- emergencies -------------------------------------------------------------------------------------


def _clock_time(value: str, option: str) -> time:
    try:
        return time.fromisoformat(value.strip().replace("h", ":"))
    except ValueError:
        raise click.BadParameter(f"Giờ «{value}» không hợp lệ: dùng dạng HH:MM, ví dụ 07:00.",
                                 param_hint=option) from None


def _local(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz)


def _user(session: Session, username: str | None) -> User | None:
    if not username:
        return None
    user = session.scalar(select(User).where(User.username == username, User.active))
    if user is None:
        raise click.ClickException(f"Không có tài khoản đang hoạt động tên «{username}».")
    return user


@click.group(help="Phát khẩn cấp: phát ngay trên các đài, lặp lại theo quy tắc, chen trước mọi nội dung.")
def emergency() -> None:
    pass


@emergency.command("start", help="Phát khẩn cấp một bản tin đã duyệt ngay bây giờ, có thể lặp lại.")
@click.option("--bulletin", "code", required=True, help="Mã bản tin (đã duyệt, đã có âm thanh).")
@click.option("--targets", required=True, help="Mã đài hoặc tên xã, cách nhau bởi dấu phẩy; «*» là tất cả.")
@click.option("--every", type=int, default=None, help="Lặp lại mỗi SỐ phút (từ 5 phút trở lên).")
@click.option("--from", "from_text", default=None, help="Mốc lặp hôm nay, HH:MM (mặc định: bây giờ).")
@click.option("--until", "until_text", default=None,
              help="Lặp đến HH:MM (hôm nay; nếu giờ đó đã qua thì là ngày mai).")
@click.option("--times", type=int, default=None, help="Tổng số lần phát, kể cả lần phát ngay.")
@click.option("--user", "username", default=None, help="Người ra lệnh (ghi vào nhật ký).")
def emergency_start(code: str, targets: str, every: int | None, from_text: str | None, until_text: str | None,
                    times: int | None, username: str | None) -> None:
    env = load_env()
    tz = env.settings.tz
    now = system_clock()
    today = now.astimezone(tz).date()
    first_at = _local(today, _clock_time(from_text, "--from"), tz) if from_text else None
    until = None
    if until_text:
        until = _local(today, _clock_time(until_text, "--until"), tz)
        if until <= now:
            until = _local(today + timedelta(days=1), _clock_time(until_text, "--until"), tz)
    rule = emergencies.RepeatRule(every_minutes=every, first_at=first_at, until=until, times=times)
    target_list = [t for t in re.split(r"[,;]", targets) if t.strip()]
    try:
        with transaction(env.sessions) as session:
            bulletin = session.scalar(
                select(Bulletin).options(selectinload(Bulletin.audio)).where(Bulletin.code == code)
            )
            if bulletin is None:
                raise ValueError(f"Không có bản tin mã «{code}».")
            row = emergencies.start_emergency(session, bulletin, target_list, rule, _user(session, username), now)
            plays = emergencies.emergency_plays(row)
            stations = [s.code for s in emergencies.target_stations(session, row.targets)]
            emergency_id = row.id
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    # After the commit: a station told to play now must find the emergency in its programme.
    with env.sessions() as session:
        committed = session.scalars(
            select(Emergency).options(selectinload(Emergency.bulletin).selectinload(Bulletin.audio))
            .where(Emergency.id == emergency_id)
        ).one()
        announced = emergencies.announce(env.settings, committed, stations, now)
    local = [p.astimezone(tz) for p in plays]
    click.echo(f"Lệnh khẩn cấp số {emergency_id}: bản tin {code} trên {len(stations)} đài, {len(plays)} lần phát.")
    click.echo("Giờ phát: " + ", ".join(f"{p:%H:%M %d/%m}" for p in local))
    if not announced:
        click.echo("Các đài sẽ nhận lịch mới khi đồng bộ qua HTTP (không gửi được lệnh MQTT).", err=True)


@emergency.command("list", help="Các lệnh khẩn cấp đang hiệu lực.")
def emergency_list() -> None:
    env = load_env()
    tz = env.settings.tz
    now = system_clock()
    with env.sessions() as session:
        rows = emergencies.list_active(session, now)
        if not rows:
            click.echo("Không có lệnh khẩn cấp nào đang hiệu lực.")
            return
        for row in rows:
            plays = emergencies.emergency_plays(row)
            upcoming = [p for p in plays if p > now]
            nxt = f"{upcoming[0].astimezone(tz):%H:%M %d/%m}" if upcoming else "đang phát lần cuối"
            click.echo(
                f"#{row.id}  {row.bulletin.code}  nơi phát: {', '.join(row.targets)}  "
                f"{len(plays)} lần, lần kế tiếp {nxt}, "
                f"kết thúc {emergencies.emergency_ends_at(row).astimezone(tz):%H:%M %d/%m}"
            )


@emergency.command("cancel", help="Hủy một lệnh khẩn cấp: bỏ các lần phát chưa diễn ra.")
@click.argument("emergency_id", type=int)
@click.option("--user", "username", default=None, help="Người hủy lệnh (ghi vào nhật ký).")
def emergency_cancel(emergency_id: int, username: str | None) -> None:
    env = load_env()
    now = system_clock()
    try:
        with transaction(env.sessions) as session:
            row = session.get(Emergency, emergency_id)
            if row is None:
                raise ValueError(f"Không có lệnh khẩn cấp số {emergency_id}. Xem: loaxa emergency list.")
            stations = emergencies.cancel_emergency(session, row, _user(session, username), now)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Đã hủy lệnh khẩn cấp số {emergency_id}; lịch của {len(stations)} đài đã được cập nhật.")
