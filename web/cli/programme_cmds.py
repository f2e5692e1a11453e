"""`loaxa programme build|export|explain` and `loaxa emergency start|list|cancel`."""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler import emergencies
from scheduler.db.models import Commune, Emergency, Programme, Station, User
from scheduler.db.session import transaction
from scheduler.domain import IsoWeek
from scheduler.planning import collector_paused
from scheduler.programmes import build_week, current_weeks
from scheduler.programmes.explain import explain_week, format_rows
from scheduler.programmes.exports import export_programme
from scheduler.programmes.inputs import week_bulletins
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
            silent = [(b.code, b.render_error) for b in session.scalars(week_bulletins(week, rendered=False))]
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{week.label}: {len(result.changed)} đài có lịch mới, {len(result.unchanged)} đài không đổi.")
    for code in result.changed:
        click.echo(f"  mới: {code}")
    if result.plan is not None and result.plan.shortfalls:
        click.echo(f"{len(result.plan.shortfalls)} cặp đài–bản tin thiếu lượt phát; xem «loaxa programme explain "
                   f"--week {week}».")
    if silent:
        # The planner only places bulletins that have audio (scheduler.programmes.inputs.week_bulletins).
        shown = ", ".join(code for code, _ in silent[:10]) + (", …" if len(silent) > 10 else "")
        click.echo(f"{len(silent)} bản tin đã duyệt chưa có âm thanh nên chưa được xếp vào lịch "
                   f"{week.label.lower()}: {shown}. Chạy «loaxa render» rồi «loaxa programme build --week {week}» "
                   "(bộ lập lịch nền tự làm việc này khi đang chạy).")
        for code, error in silent:
            if error:
                click.echo(f"  {code}: lần đọc trước bị lỗi: {error}")


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
@click.option("--format", "fmt", type=click.Choice(["json", "m3u", "ics", "pdf"]), default="json", show_default=True,
              help="Định dạng tệp: json (như đài nhận), m3u (danh sách phát), ics (lịch), pdf (bản in).")
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
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: để đọc; json: cho chương trình khác.")
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


def _rule(tz: ZoneInfo, now: datetime, every: int | None, from_text: str | None, until_text: str | None,
          times: int | None) -> emergencies.RepeatRule:
    today = now.astimezone(tz).date()
    first_at = _local(today, _clock_time(from_text, "--from"), tz) if from_text else None
    until = None
    if until_text:
        until = _local(today, _clock_time(until_text, "--until"), tz)
        if until <= now:
            until = _local(today + timedelta(days=1), _clock_time(until_text, "--until"), tz)
    return emergencies.RepeatRule(every_minutes=every, first_at=first_at, until=until, times=times)


@emergency.command("start", help="Phát khẩn cấp ngay: lời gõ (--text), bản ghi âm (--recording) hoặc bản tin khẩn cấp "
                                 "đã duyệt (--bulletin); có thể lặp lại. Hỏi xác nhận trước khi phát (trừ khi --yes).")
@click.option("--text", "text_file", type=click.File("r", encoding="utf-8"), default=None,
              help="Tệp chứa lời cảnh báo; «-» để đọc từ bàn phím / đầu vào chuẩn.")
@click.option("--recording", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Tệp ghi âm (MP3, WAV, OGG…).")
@click.option("--bulletin", "code", default=None, help="Mã bản tin khẩn cấp đã duyệt, đã có âm thanh.")
@click.option("--title", default="", help="Tiêu đề (mặc định: những chữ đầu của lời cảnh báo).")
@click.option("--targets", required=True,
              help="«*» là toàn tỉnh; hoặc tên khu vực, tên xã, mã đài, cách nhau bởi dấu phẩy.")
@click.option("--every", type=int, default=None, help="Lặp lại mỗi SỐ phút (từ 5 phút trở lên).")
@click.option("--from", "from_text", default=None, help="Mốc lặp hôm nay, HH:MM (mặc định: bây giờ).")
@click.option("--until", "until_text", default=None,
              help="Lặp đến HH:MM (hôm nay; nếu giờ đó đã qua thì là ngày mai).")
@click.option("--times", type=int, default=None, help="Tổng số lần phát, kể cả lần phát ngay.")
@click.option("--full-volume/--own-volume", default=True, show_default=True,
              help="Phát to hết cỡ rồi trả lại âm lượng cũ, hay giữ âm lượng của từng đài.")
@click.option("--expires", type=int, default=15, show_default=True,
              help="Đài nhận lệnh muộn quá SỐ phút sau mỗi lượt thì không phát.")
@click.option("--yes", is_flag=True, help="Không hỏi lại: phát ngay (dùng trong kịch bản).")
@click.option("--user", "username", default=None,
              help="Người ra lệnh (ghi vào nhật ký; biên tập viên chỉ gửi yêu cầu).")
def emergency_start(text_file: Any, recording: Path | None, code: str | None, title: str, targets: str,
                    every: int | None, from_text: str | None, until_text: str | None, times: int | None,
                    full_volume: bool, expires: int, yes: bool, username: str | None) -> None:
    from scheduler.emergencies import orders
    from scheduler.imports import store_upload

    chosen = [x for x in (text_file, recording, code) if x is not None]
    if len(chosen) != 1:
        raise click.UsageError("Chọn đúng một nội dung: --text TỆP (hoặc -), --recording TỆP hoặc --bulletin MÃ.")
    env = load_env()
    tz = env.settings.tz
    now = system_clock()
    rule = _rule(tz, now, every, from_text, until_text, times)
    order = orders.Order(
        source=orders.WORDS if text_file else orders.RECORDING if recording else orders.BULLETIN,
        text=text_file.read() if text_file else "", title=title,
        recording_file=store_upload(recording, env.settings.media_dir) if recording else None,
        bulletin_code=code, targets=[t for t in re.split(r"[,;]", targets) if t.strip()], rule=rule,
        full_volume=full_volume, expires_minutes=expires,
    )
    try:
        with transaction(env.sessions) as session:
            user = _user(session, username)
            prepared = orders.prepare(session, order, env.settings.media_dir, env.settings.audio, now, user)
            click.echo(f"Tiêu đề: {prepared.title}")
            if prepared.spoken:
                click.echo(f"Máy sẽ đọc: {prepared.spoken}")
            click.echo(f"Thời lượng: {prepared.duration_ms / 1000:.1f} giây (bộ đọc {prepared.engine}); "
                       f"{len(prepared.stations)} đài; {len(prepared.plays)} lượt: "
                       + ", ".join(f"{p.astimezone(tz):%H:%M %d/%m}" for p in prepared.plays[:12]))
            if not yes and not click.confirm("Phát khẩn cấp ngay?", default=False):
                raise click.Abort()
            row = orders.launch(session, prepared, user, system_clock(), origin="cli")
            emergency_id, state = row.id, row.state
            stations = [s.code for s in prepared.stations]
            plays = emergencies.emergency_plays(row)
    except orders.OrderInvalid as exc:
        raise click.ClickException(" ".join(exc.errors.values())) from None
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if state == emergencies.PENDING:
        click.echo(f"Lệnh khẩn cấp số {emergency_id} chờ người duyệt cho phát "
                   f"(loaxa emergency release {emergency_id}).")
        return
    # After the commit: a station told to play now must find the emergency on the server.
    with transaction(env.sessions) as session:
        committed = session.get(Emergency, emergency_id)
        assert committed is not None
        announced = emergencies.announce(env.settings, committed, stations, system_clock())
    click.echo(f"Lệnh khẩn cấp số {emergency_id}: {len(stations)} đài, {len(plays)} lần phát. "
               f"Theo dõi: loaxa emergency status {emergency_id}")
    if not announced:
        click.echo("Các đài sẽ nhận lệnh ở lần liên lạc HTTP kế tiếp (không gửi được lệnh MQTT).", err=True)


@emergency.command("list", help="Các lệnh khẩn cấp đang chạy, tạm dừng hoặc chờ duyệt.")
def emergency_list() -> None:
    env = load_env()
    tz = env.settings.tz
    now = system_clock()
    with env.sessions() as session:
        rows = emergencies.list_active(session, now) + emergencies.list_pending(session, now)
        if not rows:
            click.echo("Không có lệnh khẩn cấp nào đang hiệu lực.")
            return
        for row in rows:
            plays = emergencies.emergency_plays(row)
            upcoming = [p for p in plays if p > now]
            nxt = f"{upcoming[0].astimezone(tz):%H:%M %d/%m}" if upcoming else "đang phát lần cuối"
            click.echo(
                f"#{row.id}  [{emergencies.state_label(row, now)}]  {row.bulletin.code}  "
                f"nơi phát: {', '.join(row.targets)}  {len(plays)} lần, lần kế tiếp {nxt}, "
                f"kết thúc {emergencies.emergency_ends_at(row).astimezone(tz):%H:%M %d/%m}"
            )


@emergency.command("status", help="Bảng theo dõi một lệnh khẩn cấp: trạng thái của từng đài.")
@click.argument("emergency_id", metavar="SỐ_LỆNH", type=int)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: để đọc; json: cho chương trình khác.")
def emergency_status(emergency_id: int, fmt: str) -> None:
    from scheduler.emergencies import tracking

    env = load_env()
    tz = env.settings.tz
    now = system_clock()
    with env.sessions() as session:
        row = session.get(Emergency, emergency_id)
        if row is None:
            raise click.ClickException(f"Không có lệnh khẩn cấp số {emergency_id}. Xem: loaxa emergency list.")
        board = tracking.board(session, row, now)
        label = emergencies.state_label(row, now)
    if fmt == "json":
        data = board.to_dict()
        data["state_label"] = label
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(f"Lệnh khẩn cấp số {emergency_id} [{label}]: {board.title}")
    click.echo(board.headline + "  (" + ", ".join(f"{tracking.LABELS[k]} {v}" for k, v in board.counts.items() if v)
               + ")")
    for r in board.rows:
        when = r.started_at or r.received_at or r.sent_at
        at = f" lúc {datetime.fromisoformat(when).astimezone(tz):%H:%M:%S %d/%m}" if when else ""
        click.echo(f"  {r.station:<16} {r.label}{at}{(' — ' + r.reason) if r.reason else ''}")


def _act(emergency_id: int, username: str | None, action: str) -> None:
    env = load_env()
    now = system_clock()
    try:
        with transaction(env.sessions) as session:
            row = session.get(Emergency, emergency_id)
            if row is None:
                raise ValueError(f"Không có lệnh khẩn cấp số {emergency_id}. Xem: loaxa emergency list.")
            user = _user(session, username)
            steps = {"cancel": emergencies.cancel_emergency, "hold": emergencies.hold_emergency,
                     "resume": emergencies.resume_emergency}
            if action == "release":
                emergencies.release_emergency(session, row, user, now)
                stations = [s.code for s in emergencies.target_stations(session, row.targets)]
            else:
                stations = steps[action](session, row, user, now)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    with transaction(env.sessions) as session:
        row = session.get(Emergency, emergency_id)
        assert row is not None
        if action in ("release", "resume"):
            emergencies.announce(env.settings, row, stations, system_clock())
        else:
            emergencies.stop_playing(env.settings, session, row, system_clock())
    done = {"cancel": "Đã hủy", "hold": "Đã tạm dừng", "resume": "Đã tiếp tục", "release": "Đã cho phát"}[action]
    click.echo(f"{done} lệnh khẩn cấp số {emergency_id}; {len(stations)} đài được cập nhật.")


@emergency.command("cancel", help="Hủy một lệnh khẩn cấp: bỏ các lần phát chưa diễn ra, dừng đài đang phát nó.")
@click.argument("emergency_id", metavar="SỐ_LỆNH", type=int)
@click.option("--user", "username", default=None, help="Người hủy lệnh (ghi vào nhật ký).")
def emergency_cancel(emergency_id: int, username: str | None) -> None:
    _act(emergency_id, username, "cancel")


@emergency.command("hold", help="Tạm dừng một lệnh khẩn cấp (tiếp tục bằng «loaxa emergency resume»).")
@click.argument("emergency_id", metavar="SỐ_LỆNH", type=int)
@click.option("--user", "username", default=None, help="Người ra lệnh (ghi vào nhật ký).")
def emergency_hold(emergency_id: int, username: str | None) -> None:
    _act(emergency_id, username, "hold")


@emergency.command("resume", help="Tiếp tục một lệnh đã tạm dừng: đài chưa phát sẽ phát ngay.")
@click.argument("emergency_id", metavar="SỐ_LỆNH", type=int)
@click.option("--user", "username", default=None, help="Người ra lệnh (ghi vào nhật ký).")
def emergency_resume(emergency_id: int, username: str | None) -> None:
    _act(emergency_id, username, "resume")


@emergency.command("release", help="Cho phát một lệnh đang chờ duyệt (yêu cầu của biên tập viên, cảnh báo CAP).")
@click.argument("emergency_id", metavar="SỐ_LỆNH", type=int)
@click.option("--user", "username", default=None, help="Người duyệt (ghi vào nhật ký).")
def emergency_release(emergency_id: int, username: str | None) -> None:
    _act(emergency_id, username, "release")
