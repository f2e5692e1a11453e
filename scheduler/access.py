"""Where a user may act: the whole province, one area (former district) or one commune.

The one home of the scope rule. An account's scope comes from the commune or area it is tied to
(`User.commune_id`, `User.area_id`); an account tied to neither works province-wide, and so do
administrators always. Pages, commands and services ask here:

- `scope_of(user)` — the scope itself, with a Vietnamese label;
- `in_scope(user, thing)` — may the user see a Station, Commune, Area, Bulletin or ProgrammeItem
  at all (a bulletin is in scope when one of its targets reaches the scope, or the user wrote it);
- `covers(session, user, targets)` — do the targets lie wholly inside the scope (editing a bulletin,
  approving it, starting an emergency on them);
- `station_clause(user)` — the same as a SQL condition on Station, for lists.

Roles (what a user may do) stay in web.auth.PERMISSIONS; this module only says where.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session, object_session

from scheduler.db.models import Area, Bulletin, Commune, ProgrammeItem, Station, User

Level = Literal["province", "area", "commune"]
EVERYWHERE = "*"


@dataclass(frozen=True)
class UserScope:
    level: Level = "province"
    area_id: int | None = None
    commune_id: int | None = None
    label: str = "Toàn tỉnh"

    @property
    def everywhere(self) -> bool:
        return self.level == "province"


PROVINCE = UserScope()


def scope_of(user: User | None) -> UserScope:
    """The user's scope: a commune if tied to one, else an area, else the whole province (admins always)."""
    if user is None or user.role == "admin":
        return PROVINCE
    if user.commune_id is not None:
        name = user.commune.name if user.commune is not None else f"xã số {user.commune_id}"
        return UserScope("commune", commune_id=user.commune_id, label=name)
    if user.area_id is not None:
        name = user.area.name if user.area is not None else f"khu vực số {user.area_id}"
        return UserScope("area", area_id=user.area_id, label=name)
    return PROVINCE


def place_scope(area: Area | None = None, commune: Commune | None = None) -> UserScope:
    """The scope of something tied to a commune or an area rather than a user (an alert recipient)."""
    if commune is not None:
        return UserScope("commune", commune_id=commune.id, label=commune.name)
    if area is not None:
        return UserScope("area", area_id=area.id, label=area.name)
    return PROVINCE


def station_inside(scope: UserScope, station: Station) -> bool:
    """Does the scope reach this station (its commune)?"""
    return scope.everywhere or _commune_inside(scope, station.commune)


def _commune_inside(scope: UserScope, commune: Commune) -> bool:
    if scope.level == "commune":
        return commune.id == scope.commune_id
    if scope.level == "area":
        return commune.area_id == scope.area_id
    return True


def in_scope(user: User | None, thing: Station | Commune | Area | Bulletin | ProgrammeItem) -> bool:
    """May `user` see `thing` at all? (Outside the scope, pages answer 404.)"""
    scope = scope_of(user)
    if scope.everywhere:
        return True
    if isinstance(thing, Station):
        return _commune_inside(scope, thing.commune)
    if isinstance(thing, Commune):
        return _commune_inside(scope, thing)
    if isinstance(thing, Area):
        return scope.level == "area" and thing.id == scope.area_id
    if isinstance(thing, ProgrammeItem):
        return _commune_inside(scope, thing.programme.station.commune)
    if isinstance(thing, Bulletin):
        if user is not None and thing.author_id == user.id:
            return True
        session = object_session(thing)
        assert session is not None, "in_scope needs a bulletin attached to a session"
        return reaches(session, user, thing.targets or [])
    raise TypeError(f"in_scope: unknown kind {type(thing).__name__}")


@dataclass(frozen=True)
class Places:
    """The names a scope contains: commune names and station codes (targets are written with these)."""

    communes: frozenset[str]
    stations: frozenset[str]


def places(session: Session, user: User | None) -> Places | None:
    """The communes and stations inside the user's scope; None for the whole province."""
    scope = scope_of(user)
    if scope.everywhere:
        return None
    communes = select(Commune.id, Commune.name)
    if scope.level == "commune":
        communes = communes.where(Commune.id == scope.commune_id)
    else:
        communes = communes.where(Commune.area_id == scope.area_id)
    rows = session.execute(communes).all()
    ids = [r[0] for r in rows]
    codes: list[str] = list(session.scalars(select(Station.code).where(Station.commune_id.in_(ids)))) if ids else []
    return Places(frozenset(r[1] for r in rows), frozenset(codes))


def _clean(targets: Iterable[str]) -> list[str]:
    return [t.strip() for t in targets if t and t.strip()]


def reaches(session: Session, user: User | None, targets: Iterable[str], inside: Places | None = None) -> bool:
    """True if at least one of `targets` reaches into the user's scope ("*" reaches everywhere)."""
    clean = _clean(targets)
    if EVERYWHERE in clean:
        return True
    inside = inside if inside is not None else places(session, user)
    if inside is None:
        return True
    return any(t in inside.communes or t in inside.stations for t in clean)


def covers(session: Session, user: User | None, targets: Iterable[str], inside: Places | None = None) -> bool:
    """True if every one of `targets` lies inside the user's scope ("*" only for the whole province)."""
    inside = inside if inside is not None else places(session, user)
    if inside is None:
        return True
    clean = _clean(targets)
    return bool(clean) and all(t in inside.communes or t in inside.stations for t in clean)


def outside(session: Session, user: User | None, targets: Iterable[str]) -> list[str]:
    """The targets that lie outside the user's scope, for an error message (empty when all are inside)."""
    inside = places(session, user)
    if inside is None:
        return []
    return [t for t in _clean(targets) if t not in inside.communes and t not in inside.stations]


def station_clause(user: User | None) -> ColumnElement[bool]:
    """A WHERE condition on Station limiting a query to the user's scope."""
    scope = scope_of(user)
    if scope.level == "commune":
        return Station.commune_id == scope.commune_id
    if scope.level == "area":
        return Station.commune_id.in_(select(Commune.id).where(Commune.area_id == scope.area_id))
    return true()


def commune_clause(user: User | None) -> ColumnElement[bool]:
    """A WHERE condition on Commune limiting a query to the user's scope."""
    scope = scope_of(user)
    if scope.level == "commune":
        return Commune.id == scope.commune_id
    if scope.level == "area":
        return Commune.area_id == scope.area_id
    return true()


def report_scope(user: User | None) -> tuple[str, str] | None:
    """The (level, name) a user's reports are confined to, or None for the whole province."""
    scope = scope_of(user)
    if scope.level == "commune" and user is not None and user.commune is not None:
        return "commune", user.commune.name
    if scope.level == "area" and user is not None and user.area is not None:
        return "area", user.area.name
    return None


def describe(user: User | None) -> str:
    """E.g. «Xã Ia Dêr», «Khu vực Ia Grai» or «Toàn tỉnh», for pages and command output."""
    return scope_of(user).label
