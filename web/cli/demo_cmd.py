"""`loaxa demo`: a demo province on the embedded default, served, scheduled and played."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import click
from sqlalchemy import func, select

from scheduler.db.models import PlayLog, Station
from scheduler.db.session import transaction, upgrade_schema
from scheduler.demo import DEMO_USERS, TRIAL_STATION, seed
from scheduler.programmes import build_week, current_weeks
from scheduler.rendering import render_pending
from web.app import system_clock
from web.cli.context import Env, load_env, progress


def prepare(env: Env) -> str:
    """Seed, render and plan; return a fresh token for the trial station's agent."""
    from scheduler.accounts import issue_station_token

    settings = env.settings
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    upgrade_schema(env.engine)
    now = system_clock()
    with transaction(env.sessions) as session:
        seed(session, now, settings.tz, settings.media_dir)
    click.echo("Đã tạo dữ liệu mẫu: tỉnh Gia Lai, 11 cụm loa, 20 bản tin CCHC.")
    summary = render_pending(env.sessions, settings.media_dir, settings.audio, system_clock,
                             show=lambda items, total: progress(items, total, "Đang đọc bản tin thành âm thanh"))
    for code, error in summary.failed.items():
        click.echo(f"Lỗi khi đọc {code}: {error}", err=True)
    with transaction(env.sessions) as session:
        for week in current_weeks(system_clock(), settings.tz):
            # horizon 0: the trial station's session starts in two minutes and nothing was
            # delivered for it yet, so there is nothing the no-change horizon must protect.
            result = build_week(session, week, system_clock(), settings.tz, horizon_minutes=0)
            click.echo(f"Lịch phát tuần {week}: {len(result.changed)} đài có lịch mới.")
        station = session.scalar(select(Station).where(Station.code == TRIAL_STATION))
        assert station is not None
        return issue_station_token(station, system_clock())


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "web.cli", *args], env=env)


@click.command(help="Chạy bản trình diễn: dữ liệu mẫu, trang quản trị, bộ lập lịch và một đài mô phỏng.")
@click.option("--seed-only", is_flag=True, help="Chỉ tạo dữ liệu mẫu (và âm thanh, lịch phát) rồi thoát.")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8080, type=int)
def demo(seed_only: bool, host: str, port: int) -> None:
    os.environ.setdefault("LOAXA_TTS_ENGINES", "espeak")  # the demo runs offline
    os.environ.setdefault("LOAXA_PUBLIC_URL", f"http://{host}:{port}")
    env = load_env()
    token = prepare(env)
    if seed_only:
        click.echo("Xong. Chạy «loaxa demo» để mở trang quản trị.")
        return
    child_env = {**os.environ}
    cache = env.settings.data_dir / "agent-cache"
    procs = [
        _spawn(["serve", "--host", host, "--port", str(port)], child_env),
        _spawn(["scheduler"], child_env),
        _spawn(["agent", "--server", env.settings.public_url, "--station", TRIAL_STATION, "--token", token,
                "--cache", str(cache), "--player", "null"], child_env),
    ]
    click.echo("")
    click.echo(f"Trang quản trị: {env.settings.public_url}/")
    click.echo("Tài khoản mẫu:")
    for user in DEMO_USERS:
        click.echo(f"  {user.username:<10} mật khẩu {user.password:<14} ({user.role})")
    click.echo(f"Đài mô phỏng {TRIAL_STATION} phát từ 2 phút nữa; nhật ký phát hiện dưới đây. Ctrl-C để dừng.")
    try:
        last = -1
        while all(p.poll() is None for p in procs):
            time.sleep(5)
            with env.sessions() as session:
                count = session.scalar(select(func.count()).select_from(PlayLog)) or 0
            if count != last:
                click.echo(f"Nhật ký phát: {count} lượt phát đã về máy chủ.")
                last = count
        failed = [p.args for p in procs if p.poll() not in (None, 0)]
        if failed:
            raise click.ClickException(f"Một tiến trình đã dừng bất thường: {failed}")
    except KeyboardInterrupt:
        click.echo("Đang dừng…")
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


__all__ = ["demo", "prepare"]
