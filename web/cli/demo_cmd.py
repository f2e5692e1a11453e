"""`loaxa demo`: a demo province on the embedded default, served, scheduled and played."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from types import FrameType

import click
from sqlalchemy import func, select

from scheduler.db.models import PlayLog, Station, User
from scheduler.db.session import transaction, upgrade_schema
from scheduler.demo import DEMO_USERS, TRIAL_COMMUNE, TRIAL_STATION, seed
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
            click.echo(f"Lịch phát {week.label.lower()}: {len(result.changed)} đài có lịch mới.")
        station = session.scalar(select(Station).where(Station.code == TRIAL_STATION))
        assert station is not None
        return issue_station_token(station, system_clock())


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def _die_with_parent() -> None:
    """In the child before exec: Linux sends it SIGTERM if the demo process dies, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "web.cli", *args], env=env, preexec_fn=_die_with_parent)


def _port_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host if host not in ("0.0.0.0", "::") else "127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _wait_until_serving(server: subprocess.Popen[bytes], host: str, port: int, stop: threading.Event) -> None:
    """Block until the admin pages answer, so the station agent never starts against a closed port."""
    while not stop.is_set():
        if server.poll() is not None:
            raise click.ClickException(f"Máy chủ web không khởi động được trên cổng {port} (xem thông báo ở trên).")
        if _port_answers(host, port):
            return
        stop.wait(0.2)


def _stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    """The agent first (it would complain about the server going away), then the scheduler and the server."""
    for p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _print_accounts(env: Env) -> None:
    from scheduler.access import describe
    from scheduler.accounts import ROLES

    click.echo("Tài khoản mẫu:")
    with env.sessions() as session:
        users = {u.username: u for u in session.scalars(select(User).where(
            User.username.in_([d.username for d in DEMO_USERS])))}
        for demo_user in DEMO_USERS:
            row = users.get(demo_user.username)
            scope = describe(row) if row is not None else "?"
            click.echo(f"  {demo_user.username:<10} mật khẩu {demo_user.password:<14} "
                       f"{ROLES[demo_user.role]}, phạm vi: {scope}")


@click.command(help="Chạy bản trình diễn: dữ liệu mẫu, trang quản trị, bộ lập lịch và một đài mô phỏng.")
@click.option("--seed-only", is_flag=True, help="Chỉ tạo dữ liệu mẫu (và âm thanh, lịch phát) rồi thoát.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Địa chỉ trang quản trị lắng nghe; 0.0.0.0 cho mọi địa chỉ.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535),
              help="Cổng của trang quản trị.")
def demo(seed_only: bool, host: str, port: int) -> None:
    os.environ.setdefault("LOAXA_TTS_ENGINES", "espeak")  # the demo runs offline
    os.environ.setdefault("LOAXA_PUBLIC_URL", f"http://{host}:{port}")
    if not seed_only and _port_answers(host, port):
        raise click.ClickException(
            f"Cổng {port} đang có chương trình khác dùng (có thể là một bản trình diễn khác chưa dừng). "
            f"Dừng chương trình đó, hoặc chạy với --port khác, ví dụ --port {port + 1}.")
    env = load_env()
    token = prepare(env)
    if seed_only:
        click.echo("Xong. Chạy «loaxa demo» để mở trang quản trị.")
        return
    # From here on every way of being stopped (Ctrl+C, kill, a closed terminal) stops the children too.
    stop = threading.Event()
    received: list[int] = []

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        stop.set()

    for signum in STOP_SIGNALS:
        signal.signal(signum, _on_signal)
    child_env = {**os.environ}
    cache = env.settings.data_dir / "agent-cache"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(_spawn(["serve", "--host", host, "--port", str(port)], child_env))
        procs.append(_spawn(["scheduler"], child_env))
        _wait_until_serving(procs[0], host, port, stop)
        if stop.is_set():
            return
        procs.append(_spawn(["agent", "--server", env.settings.public_url, "--station", TRIAL_STATION,
                             "--token", token, "--cache", str(cache), "--player", "null"], child_env))
        click.echo("")
        click.echo(f"Trang quản trị: {env.settings.public_url}/")
        _print_accounts(env)
        click.echo(f"Đài mô phỏng {TRIAL_STATION} ({TRIAL_COMMUNE}) phát từ 2 phút nữa; nhật ký phát hiện dưới đây. "
                   "Ctrl+C để dừng tất cả.")
        last = -1
        while not stop.is_set() and all(p.poll() is None for p in procs):
            with env.sessions() as session:
                count = session.scalar(select(func.count()).select_from(PlayLog)) or 0
            if count != last:
                click.echo(f"Nhật ký phát: {count} lượt phát đã về máy chủ.")
                last = count
            stop.wait(5)
        names = ("máy chủ web", "bộ lập lịch", "đài mô phỏng")
        failed = [name for name, p in zip(names, procs, strict=False) if p.poll() not in (None, 0)]
        if failed and not stop.is_set():
            raise click.ClickException(f"Một phần của bản trình diễn đã dừng bất thường: {', '.join(failed)}.")
    finally:
        if procs:
            click.echo("Đang dừng máy chủ web, bộ lập lịch và đài mô phỏng…")
        _stop_all(procs)
        if procs:
            click.echo("Đã dừng bản trình diễn.")


__all__ = ["demo", "prepare"]
