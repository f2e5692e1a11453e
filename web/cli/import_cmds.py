"""`loaxa import stations|bulletins FILE`: bulk input from the CSV or XLSX files people keep."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from scheduler import audit, imports
from scheduler.db.models import User
from scheduler.db.session import transaction
from scheduler.imports import ImportFailed, Sheet, import_bulletins, import_stations
from web.app import system_clock
from web.cli.context import ProgressBar, load_env

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def read_table(path: Path) -> str | Sheet:
    """The file's table (scheduler.imports.read_table); a ClickException saying why it cannot be read."""
    try:
        return imports.read_table(path.read_bytes(), path.name)
    except ImportFailed as exc:
        raise click.ClickException(f"Không nhập gì từ {path.name}: " + " ".join(exc.errors)) from None


@click.group("import", help="Nhập danh sách đài hoặc bản tin từ tệp CSV hoặc Excel (.xlsx).")
def import_group() -> None:
    pass


@import_group.command(
    "stations", help="Nhập đài từ CSV/XLSX: code,name,commune,area,province,languages,windows,lat,lon,speakers"
)
@click.argument("file", metavar="TỆP", type=FILE)
def stations(file: Path) -> None:
    env = load_env()
    try:
        with transaction(env.sessions) as session, ProgressBar("Đang ghi đài") as bar:
            result = import_stations(session, read_table(file), progress=bar)
            audit.record(session, system_clock(), None, "station.import", "station", file.name,
                         after={"codes": result.codes})
    except ImportFailed as exc:
        raise click.ClickException(f"Không nhập gì từ {file.name} vì có lỗi:\n" + "\n".join(exc.errors)) from None
    click.echo(f"Đã nhập {result.created} đài mới, cập nhật {result.updated} đài, {result.unchanged} đài không đổi.")


@import_group.command("bulletins", help="Nhập bản tin từ CSV/XLSX (xem docs/csv-formats.md).")
@click.argument("file", metavar="TỆP", type=FILE)
@click.option("--approve-as", default=None, help="Đánh dấu các bản tin là đã duyệt bởi người dùng này.")
def bulletins(file: Path, approve_as: str | None) -> None:
    env = load_env()
    now = system_clock()
    try:
        with transaction(env.sessions) as session:
            approver = None
            if approve_as:
                approver = session.scalar(select(User).where(User.username == approve_as, User.active))
                if approver is None or approver.role not in ("approver", "admin"):
                    raise click.ClickException(
                        f"«{approve_as}» không phải tài khoản người duyệt hoặc quản trị đang hoạt động."
                    )
            result = import_bulletins(session, read_table(file), file.parent, env.settings.media_dir, now, approver)
            audit.record(session, now, approver, "bulletin.import", "bulletin", file.name,
                         after={"codes": result.codes, "approved": bool(approver)})
    except ImportFailed as exc:
        raise click.ClickException(f"Không nhập gì từ {file.name} vì có lỗi:\n" + "\n".join(exc.errors)) from None
    click.echo(f"Đã nhập {result.created} bản tin mới, cập nhật {result.updated} bản tin.")
