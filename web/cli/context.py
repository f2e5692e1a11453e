"""What every server-side command needs: settings, an engine and a session factory."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TypeVar

import click
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.session import make_engine, make_session_factory, schema_state
from scheduler.settings import Settings

T = TypeVar("T")


@dataclass
class Env:
    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)


def load_env() -> Env:
    return Env(Settings.from_env())


SCHEMA_HINTS = {
    "empty": "Cơ sở dữ liệu {url} chưa được khởi tạo: chạy «loaxa init» trước (hoặc «loaxa demo» để có dữ liệu mẫu).",
    "old": "Cơ sở dữ liệu {url} còn ở phiên bản cũ: chạy «loaxa init» để nâng cấp rồi thử lại.",
}


def _schema_message(env: Env) -> str | None:
    template = SCHEMA_HINTS.get(schema_state(env.engine))
    return template.format(url=env.engine.url.render_as_string(hide_password=True)) if template else None


def require_schema(env: Env) -> None:
    """Stop a long-running command at once, in one sentence, when the schema is missing or behind."""
    message = _schema_message(env)
    if message is not None:
        raise click.ClickException(message)


def schema_hint(exc: BaseException) -> str | None:
    """The sentence to print instead of a database traceback caused by a missing or old schema."""
    from sqlalchemy.exc import DBAPIError

    if not isinstance(exc, DBAPIError):
        return None
    try:
        return _schema_message(load_env())
    except Exception:  # the database itself is unreachable: let the original error speak
        return None


def progress(items: Iterable[T], total: int, label: str) -> Iterator[T]:
    """A progress bar on a terminal, plain progress lines otherwise."""
    if sys.stderr.isatty():
        from tqdm import tqdm

        yield from tqdm(items, total=total, desc=label, file=sys.stderr)
        return
    step = max(1, total // 10)
    for i, item in enumerate(items, 1):
        yield item
        if i % step == 0 or i == total:
            click.echo(f"{label}: {i}/{total}", err=True)


def now_from(text: str | None) -> datetime:
    """The instant of a hidden `--now` option (ISO with a zone), or the system clock when absent."""
    from web.app import system_clock

    if not text:
        return system_clock()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise click.UsageError(f"--now «{text}» không hợp lệ: dùng dạng 2026-11-23T05:00:00+07:00 (có múi giờ).")
    return value
