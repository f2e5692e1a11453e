"""`loaxa serve` (the web application under waitress) and `loaxa scheduler` (the background service)."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

import click

from web.app import system_clock
from web.cli import logs
from web.cli.context import load_env, require_schema


@click.command(help="Chạy máy chủ web (trang quản trị và API cho các đài) bằng waitress, nhiều luồng.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Địa chỉ lắng nghe; 0.0.0.0 cho mọi địa chỉ.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535), help="Cổng lắng nghe.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64), help="Số luồng xử lý.")
@click.option("--connections", default=2000, show_default=True, type=click.IntRange(100, 20000),
              help="Số kết nối mở cùng lúc tối đa: mỗi đài giữ một kết nối HTTP (keep-alive).")
def serve(host: str, port: int, threads: int, connections: int) -> None:
    from web.app import create_app

    env = load_env()
    require_schema(env)
    app = create_app(env.settings, threads=threads)
    click.echo(f"loaxa đang phục vụ tại http://{host}:{port} ({threads} luồng). Nhấn Ctrl+C để dừng.", err=True)
    run_waitress(app, host, port, threads, connections)


def run_waitress(app: Any, host: str, port: int, threads: int, connections: int = 2000) -> None:
    """Serve `app` as `loaxa serve` does (benchmarks measure through this very call)."""
    from waitress import serve as waitress_serve

    # waitress accepts only 100 connections by default: with more stations than that keeping their
    # connection open, the rest would wait minutes (an emergency's audio download among them).
    # poll(), not select(): select() cannot watch a descriptor numbered 1024 or more, and with a thousand
    # stations connected waitress's loop died on the first one ("filedescriptor out of range").
    waitress_serve(app, host=host, port=port, threads=threads, ident="loaxa", connection_limit=connections,
                   asyncore_use_poll=True)


@click.command(help="Chạy dịch vụ lập lịch nền (tạo âm thanh, lập lịch tuần, gửi lịch, theo dõi đài). "
                    "Chạy thêm bản thứ hai để dự phòng: nó chờ và tự thay khi bản đang chạy dừng.")
@click.option("-v", "--verbose", is_flag=True, help="Ghi nhật ký chi tiết.")
def scheduler(verbose: bool) -> None:
    from scheduler.service.config import ServiceConfig
    from scheduler.service.runner import run_service

    env = load_env()
    try:
        config = ServiceConfig.from_env()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    require_schema(env)
    env.engine.dispose()
    logs.setup("bộ lập lịch", verbose)
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger(__name__).info("Nhận tín hiệu %s: đang dừng.", signal.Signals(signum).name)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, _stop)
    try:
        run_service(env.settings, config, stop, system_clock)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
