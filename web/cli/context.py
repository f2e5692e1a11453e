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

from scheduler.db.session import make_engine, make_session_factory
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
