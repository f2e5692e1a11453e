"""`loaxa backup -o DIR` and `loaxa restore BACKUP_DIR`: the database and the media files together."""

from __future__ import annotations

from pathlib import Path

import click

from scheduler.ops import OpsError
from scheduler.ops.backup import create_backup
from scheduler.ops.restore import restore_backup
from web.app import system_clock
from web.cli.context import load_env


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


@click.command(help="Sao lưu cơ sở dữ liệu và thư mục media vào thư mục -o (mới hoặc trống).")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Thư mục sao lưu (mới hoặc trống).")
def backup(out_dir: Path) -> None:
    env = load_env()
    try:
        summary = create_backup(env.engine, env.settings.media_dir, out_dir, system_clock())
    except OpsError as exc:
        raise click.ClickException(str(exc)) from None
    rows = sum(summary.tables.values())
    click.echo(
        f"Đã sao lưu vào {summary.path}: {len(summary.tables)} bảng, {rows} dòng, "
        f"{summary.media_files} tệp media ({_size(summary.media_bytes)}), lược đồ phiên bản {summary.revision}."
    )


@click.command(help="Khôi phục bản sao lưu THƯ_MỤC_SAO_LƯU vào cơ sở dữ liệu trống và thư mục media đang cấu hình.")
@click.argument("backup_dir", metavar="THƯ_MỤC_SAO_LƯU", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Xóa toàn bộ dữ liệu hiện có rồi thay bằng bản sao lưu.")
def restore(backup_dir: Path, force: bool) -> None:
    env = load_env()
    env.settings.media_dir.mkdir(parents=True, exist_ok=True)
    try:
        summary = restore_backup(env.engine, env.settings.media_dir, backup_dir, force=force)
    except OpsError as exc:
        raise click.ClickException(str(exc)) from None
    rows = sum(summary.tables.values())
    replaced = " (đã thay toàn bộ dữ liệu cũ)" if summary.replaced else ""
    click.echo(
        f"Đã khôi phục {rows} dòng trong {len(summary.tables)} bảng và {summary.media_files} tệp media{replaced}; "
        "tổng kiểm tra khớp. Cơ sở dữ liệu đã nâng lên phiên bản lược đồ mới nhất."
    )
