"""Where an emergency plays: the whole province, areas, communes or single stations, by name."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler.db.models import Commune, Station

WHOLE_PROVINCE = ("*", "toàn tỉnh", "tất cả")


def clean_targets(targets: Sequence[str]) -> list[str]:
    return [t.strip() for t in targets if t.strip()]


def matches(target: str, station: Station) -> bool:
    """True if `target` names the station, its commune, its area or its province (or everything)."""
    if target.lower() in WHOLE_PROVINCE:
        return True
    commune = station.commune
    return target in (station.code, commune.name, commune.province.name) or (
        commune.area is not None and target == commune.area.name
    )


def target_stations(session: Session, targets: Sequence[str]) -> list[Station]:
    """Active stations named by `targets` (station codes, commune, area or province names, "*").

    ValueError (Vietnamese) if nothing is named, a name is unknown, or no active station is left.
    """
    clean = clean_targets(targets)
    if not clean:
        raise ValueError("Chưa chọn nơi phát: ghi mã đài, tên xã, tên khu vực, tên tỉnh, hoặc * cho tất cả các đài.")
    stations = list(session.scalars(
        select(Station)
        .options(selectinload(Station.commune).selectinload(Commune.province),
                 selectinload(Station.commune).selectinload(Commune.area))
        .where(Station.active)
        .order_by(Station.code)
    ))
    chosen = [s for s in stations if any(matches(t, s) for t in clean)]
    unknown = [t for t in clean if not any(matches(t, s) for s in stations)]
    if unknown:
        raise ValueError(
            f"Nơi phát «{', '.join(unknown)}» không phải mã đài, tên xã, khu vực hay tỉnh có đài đang hoạt động."
        )
    if not chosen:
        raise ValueError(f"Không có đài nào đang hoạt động thuộc nơi phát «{', '.join(clean)}».")
    return chosen
