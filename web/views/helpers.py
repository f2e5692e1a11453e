"""Small shared pieces for the admin pages: paging, local time, scoping (scheduler.access), saving."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from flask import current_app, render_template, request
from sqlalchemy import Select, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from scheduler import liveness
from scheduler.access import in_scope, scope_of, station_clause
from scheduler.db.models import Station, User
from web import context

T = TypeVar("T")

PAGE_SIZE = 50


@dataclass
class Page(Generic[T]):
    items: Sequence[T]
    page: int
    pages: int
    total: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def page_number() -> int:
    try:
        return max(1, int(request.args.get("trang", "1")))
    except ValueError:
        return 1


def paginate(db: Session, query: Select[Any], page: int, size: int = PAGE_SIZE, scalars: bool = True) -> Page[Any]:
    """One page of `query` plus the total count (two queries, whatever the table size)."""
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, math.ceil(total / size))
    page = min(page, pages)
    limited = query.limit(size).offset((page - 1) * size)
    items = list(db.scalars(limited)) if scalars else list(db.execute(limited).all())
    return Page(items, page, pages, total)


def local(value: datetime | None) -> datetime | None:
    """An instant in the configured zone (Asia/Ho_Chi_Minh)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(context.settings().tz)


def local_today() -> date:
    return context.now().astimezone(context.settings().tz).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants where a local calendar day starts and the next one starts."""
    tz = context.settings().tz
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def to_utc(local_naive: datetime) -> datetime:
    """A wall-clock time typed by a person, read in the configured zone."""
    return local_naive.replace(tzinfo=context.settings().tz).astimezone(UTC)


def online_clause(now: datetime) -> Any:
    """scheduler.liveness.online_clause with the configured silence limit."""
    return liveness.online_clause(now, context.settings().silent_minutes)


def is_online(station: Station, now: datetime) -> bool:
    """scheduler.liveness.is_online with the configured silence limit."""
    return liveness.is_online(station, now, context.settings().silent_minutes)


def scope_stations(query: Select[Any], user: User) -> Select[Any]:
    """Only the stations inside the user's scope (scheduler.access): a commune, an area or all."""
    if scope_of(user).everywhere:
        return query
    return query.where(station_clause(user))


def may_see_station(user: User, station: Station) -> bool:
    return in_scope(user, station)


@contextmanager
def saving(db: Session) -> Iterator[Session]:
    """Commit the request's changes, or roll all of them back if anything raises."""
    try:
        yield db
        db.commit()
    except BaseException:
        db.rollback()
        raise


def client_ip() -> str:
    return request.remote_addr or "?"


def safe_next(target: str | None, default: str) -> str:
    """Only follow same-site paths after login. Browsers drop tabs and line breaks from a URL and read a
    backslash as a slash, so `/<tab>/evil.example` would become `//evil.example`: any control character,
    space or backslash is refused, and what remains must parse as a bare path."""
    if not target or any(c.isspace() or not c.isprintable() or c == "\\" for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


UNAVAILABLE_RETRY_SECONDS = 30


def unavailable() -> tuple[str, int, dict[str, str]]:
    """The page for a database that does not answer (503): standalone, since the usual layout asks the
    database who is signed in."""
    page = current_app.jinja_env.get_template("unavailable.html").render(seconds=UNAVAILABLE_RETRY_SECONDS,
                                                                          request=request)
    return page, 503, {"Retry-After": str(UNAVAILABLE_RETRY_SECONDS)}


def error_page(code: int, message: str) -> Any:
    """error.html with `message`; the 503 page instead when the layout cannot reach the database."""
    try:
        return render_template("error.html", code=code, message=message), code
    except OperationalError:
        return unavailable()
