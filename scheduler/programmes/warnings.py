"""What keeps bulletins off the air this week, as Vietnamese warnings for the dashboard.

Render failures and bulletins waiting for audio, stations without any windows, stations without
a programme, programmes waiting for a rebuild, and programmes stations have not fetched yet.
Each is one bounded query, whatever the number of stations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from scheduler.db.models import Bulletin, Commune, Programme, Province, Station
from scheduler.domain import BulletinStatus, IsoWeek

Scope = Callable[[Select[Any]], Select[Any]]  # narrows a query over Station to what the reader may see


def _all(query: Select[Any]) -> Select[Any]:
    return query


def bulletin_warnings(db: Session) -> list[str]:
    """Render failures (at most five named) and approved bulletins still waiting for their audio."""
    warnings: list[str] = []
    failed = db.execute(
        select(Bulletin.code, Bulletin.render_error)
        .where(Bulletin.render_error.is_not(None), Bulletin.status != BulletinStatus.ARCHIVED.value)
        .order_by(Bulletin.code)
        .limit(5)
    )
    for code, error in failed:
        warnings.append(f"Bản tin {code} chưa tạo được âm thanh: {error}")
    waiting_audio = db.scalar(
        select(func.count()).where(
            Bulletin.status == BulletinStatus.APPROVED.value,
            Bulletin.audio_asset_id.is_(None),
            Bulletin.render_error.is_(None),
        )
    )
    if waiting_audio:
        warnings.append(f"{waiting_audio} bản tin đã duyệt đang chờ tạo âm thanh; chưa thể xếp lịch.")
    return warnings


def station_warnings(db: Session, week: IsoWeek, scope: Scope = _all) -> list[str]:
    """Stations (within `scope`) without windows, without a programme for `week`, with one waiting for
    a rebuild, or with a version they have not fetched yet."""
    warnings: list[str] = []
    no_windows = db.scalar(
        scope(
            select(func.count())
            .select_from(Station)
            .join(Station.commune)
            .join(Commune.province)
            .where(
                Station.active,
                Station.windows == "",
                Commune.default_windows == "",
                Province.default_windows == "",
            )
        )
    )
    if no_windows:
        warnings.append(f"{no_windows} đài chưa có khung giờ phát (cả đài, xã và tỉnh đều để trống).")
    in_week = and_(Programme.station_id == Station.id, Programme.week == str(week))
    missing = db.scalar(
        scope(select(func.count()).select_from(Station).outerjoin(Programme, in_week)
              .where(Station.active, Programme.id.is_(None)))
    )  # fmt: skip
    if missing:
        warnings.append(f"{missing} đài chưa có lịch phát {week.label.lower()}. Hãy lập lịch ở trang Lịch phát.")
    # inputs_hash is cleared when something displaced items (an emergency); a changed input shows
    # on the station's week page, which computes its digest.
    pending = db.scalar(
        scope(select(func.count()).select_from(Station).join(Programme, in_week)
              .where(Station.active, Programme.inputs_hash.is_(None)))
    )  # fmt: skip
    if pending:
        warnings.append(f"{pending} đài đang chờ lập lại lịch {week.label.lower()} (tự động trong vòng một phút).")
    undelivered = db.scalar(
        scope(select(func.count()).select_from(Station).join(Programme, in_week)
              .where(Station.active, Programme.acked_version < Programme.version))
    )  # fmt: skip
    if undelivered:
        warnings.append(f"{undelivered} đài chưa nhận phiên bản lịch mới nhất của {week.label.lower()}.")
    return warnings
