"""What every server-side command needs: settings, an engine and a session factory."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, TypeVar

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


class ProgressBar:
    """`bar(done, total)` after each step: a progress bar on a terminal, plain progress lines (each tenth
    of the way and at the end) otherwise. Use as a context manager."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.shown = 0
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if sys.stderr.isatty():
            if self.bar is None:
                from tqdm import tqdm

                self.bar = tqdm(total=total, desc=self.label, file=sys.stderr)
            self.bar.update(done - self.bar.n)
            return
        step = max(1, total // 10)
        if done // step > self.shown // step or (done == total and self.shown != total):
            click.echo(f"{self.label}: {done}/{total}", err=True)
            self.shown = done

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


def progress(items: Iterable[T], total: int, label: str) -> Iterator[T]:
    """`items` with a ProgressBar advancing as each is done."""
    with ProgressBar(label) as bar:
        for i, item in enumerate(items, 1):
            yield item
            bar(i, total)


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
