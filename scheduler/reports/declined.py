"""Bulletins from above that a commune chose not to air (TT 39), for the airtime report of a period.

Planned · declined · aired: a declined bulletin is never planned on the commune's stations, so the
report lists it beside the planned and aired figures. A decline belongs to a period when the
bulletin's validity overlaps it (when the bulletin was deleted since, when the answer was given).
Rows are copies (`commune_decision` keeps the bulletin's code and title), so they outlive the bulletin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from scheduler.db.models import Area, Bulletin, Commune, CommuneDecision, Station, User
from scheduler.reports.periods import Period
from scheduler.reports.scope import Scope


@dataclass(frozen=True)
class DeclinedRow:
    commune: str
    area: str
    bulletin_code: str
    title: str
    stations: int  # the commune's stations inside the report's scope
    valid_from: date | None
    valid_to: date | None
    by_default: bool  # the commune's default, applied at the deadline
    decided_by: str
    decided_at: datetime

    @property
    def how(self) -> str:
        return "mặc định khi quá hạn" if self.by_default else f"{self.decided_by} quyết định"


def declined_rows(session: Session, period: Period, scope: Scope, tz: ZoneInfo) -> list[DeclinedRow]:
    """Every «Không phát» answer concerning the period and the scope, by commune then bulletin code."""
    stations: dict[str, int] = {}
    for commune, in session.execute(
        select(Commune.name).select_from(Station).join(Commune, Commune.id == Station.commune_id)
        .outerjoin(Area, Area.id == Commune.area_id).where(scope.condition(Station.code, Commune.name, Area.name))
    ):
        stations[commune] = stations.get(commune, 0) + 1
    if not stations:
        return []
    first, last = period.utc_bounds(tz)
    rows = session.execute(
        select(CommuneDecision, Commune.name, Area.name, Bulletin.valid_from, Bulletin.valid_to, User.username)
        .join(Commune, Commune.id == CommuneDecision.commune_id)
        .outerjoin(Area, Area.id == Commune.area_id)
        .outerjoin(Bulletin, Bulletin.id == CommuneDecision.bulletin_id)
        .outerjoin(User, User.id == CommuneDecision.decided_by_id)
        .where(
            CommuneDecision.decision == "khong",
            # an answer to an earlier approved version no longer holds (scheduler.commune_choice.current)
            or_(Bulletin.approved_at.is_(None), CommuneDecision.decided_at >= Bulletin.approved_at),
            Commune.name.in_(sorted(stations)),
            or_(
                and_(Bulletin.id.is_not(None), Bulletin.valid_from <= period.last, Bulletin.valid_to >= period.first),
                and_(Bulletin.id.is_(None), CommuneDecision.decided_at >= first, CommuneDecision.decided_at < last),
            ),
        )
        .order_by(Commune.name, CommuneDecision.bulletin_code)
    )
    return [
        DeclinedRow(commune, area or "", d.bulletin_code, d.title, stations[commune], valid_from, valid_to,
                    d.by_default, username or "hệ thống", d.decided_at)
        for d, commune, area, valid_from, valid_to, username in rows
    ]
