"""What became of each programme item: the one place an item's live state is decided.

`decide` is pure: programme items, play-log rows, emergency airtime, declined bulletins and one
`now` in, a verdict per item out. `load_states` is its database edge. The operator's day page,
`loaxa playlist today` and every week grid call these, so they always agree; the airtime reports
count the same way (tests/scheduler/delivery/test_operator_day.py checks it; each rule is tested in
tests/scheduler/test_item_state_rules.py): an item is *aired* when a play answering it was `played` or
`partial`, *missed* otherwise.

A play answers an item when it is the same station's and names the item's id or, when its id
answers no item (the programme was rebuilt since), the item's scheduled start — as in
scheduler/reports/raw.py. In order, the first rule that holds decides:

1. a `played` row → **đã phát** (tự động if the station's agent logged it, else xác nhận tay);
2. an operator's own "không phát được" (source manual, skipped/failed) → **bỏ lỡ**, with their reason;
3. a `partial` row → **phát dở** (e.g. cut for an emergency: the reason says so);
4. an agent's skipped/failed row → **bị thay bởi lệnh khẩn cấp** if emergency airtime overlaps the
   item, else **bỏ lỡ** with the agent's reason;
5. no row: a bulletin the commune declined (TT 39) → **bị từ chối**; emergency airtime over the
   item once it began → **bị thay bởi lệnh khẩn cấp**; before its start → **sắp phát**; between
   start and end → **đang phát**; after its end → **bỏ lỡ** (no play log: not known to have aired).
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from scheduler import commune_choice
from scheduler.db.models import PlayLog, Programme, ProgrammeItem, Station

AIRED_RESULTS = frozenset({"played", "partial"})
NO_LOG_REASON = "Chưa có nhật ký phát: không rõ mục này đã phát hay chưa."


class ItemState(enum.StrEnum):
    UPCOMING = "sap_phat"
    ON_AIR = "dang_phat"
    AIRED = "da_phat"
    PARTIAL = "phat_do"
    MISSED = "bo_lo"
    REPLACED = "bi_thay"
    DECLINED = "bi_tu_choi"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]

    @property
    def aired(self) -> bool:
        """Counted as aired by the reports."""
        return self in (ItemState.AIRED, ItemState.PARTIAL)

    @property
    def settled(self) -> bool:
        """The item's time is over or its fate is known: nothing more will happen to it by itself."""
        return self not in (ItemState.UPCOMING, ItemState.ON_AIR)


STATE_LABELS: dict[ItemState, str] = {
    ItemState.UPCOMING: "Sắp phát",
    ItemState.ON_AIR: "Đang phát",
    ItemState.AIRED: "Đã phát",
    ItemState.PARTIAL: "Phát dở",
    ItemState.MISSED: "Bỏ lỡ",
    ItemState.REPLACED: "Bị thay bởi lệnh khẩn cấp",
    ItemState.DECLINED: "Bị từ chối",
}


@dataclass(frozen=True)
class ItemFacts:
    id: int
    station: str
    start: datetime
    end: datetime
    kind: str
    bulletin: str | None = None


@dataclass(frozen=True)
class PlayFacts:
    station: str
    item_id: int | None
    scheduled_start: datetime | None
    result: str  # played | partial | skipped | failed
    source: str = "agent"  # agent | manual
    reason: str = ""
    played_ms: int = 0


@dataclass(frozen=True)
class Airtime:
    """When an emergency held a station's loudspeakers."""

    station: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Verdict:
    state: ItemState
    manual: bool = False  # đã phát by an operator's confirmation, or bỏ lỡ by an operator's report
    reason: str = ""
    played_ms: int = 0

    @property
    def label(self) -> str:
        if self.state == ItemState.AIRED:
            return "Đã phát (xác nhận tay)" if self.manual else "Đã phát (tự động)"
        return self.state.label


def _answers(items: Sequence[ItemFacts], plays: Iterable[PlayFacts]) -> dict[int, list[PlayFacts]]:
    """Plays per item id: by the item's id, else by station and scheduled start."""
    by_id = {(i.station, i.id): i.id for i in items}
    by_start = {(i.station, i.start): i.id for i in items}
    found: dict[int, list[PlayFacts]] = defaultdict(list)
    for play in plays:
        target = by_id.get((play.station, play.item_id)) if play.item_id is not None else None
        if target is None and play.scheduled_start is not None:
            target = by_start.get((play.station, play.scheduled_start))
        if target is not None:
            found[target].append(play)
    return found


def _overlaps(item: ItemFacts, airtime: Iterable[Airtime]) -> bool:
    # An item cut at an emergency's start ends exactly where the emergency begins: touching counts.
    return any(a.start <= item.end and a.end > item.start for a in airtime)


def decide(
    items: Sequence[ItemFacts],
    plays: Iterable[PlayFacts],
    emergencies: Iterable[Airtime],
    declined: Collection[tuple[str, str]],
    now: datetime,
) -> dict[int, Verdict]:
    """The verdict for every item; `declined` holds (station code, bulletin code) pairs a commune refused."""
    answers = _answers(items, plays)
    airtime: dict[str, list[Airtime]] = defaultdict(list)
    for a in emergencies:
        airtime[a.station].append(a)
    verdicts: dict[int, Verdict] = {}
    for item in items:
        rows = answers.get(item.id, [])
        cover = [] if item.kind == "emergency" else airtime.get(item.station, [])
        verdicts[item.id] = _verdict(item, rows, cover, declined, now)
    return verdicts


def _verdict(
    item: ItemFacts, rows: list[PlayFacts], cover: list[Airtime], declined: Collection[tuple[str, str]],
    now: datetime,
) -> Verdict:
    played = [r for r in rows if r.result == "played"]
    if played:
        return Verdict(ItemState.AIRED, manual=all(r.source == "manual" for r in played),
                       reason=played[0].reason, played_ms=max(r.played_ms for r in played))
    manual_miss = [r for r in rows if r.source == "manual" and r.result not in AIRED_RESULTS]
    if manual_miss:
        return Verdict(ItemState.MISSED, manual=True, reason=manual_miss[-1].reason)
    partial = [r for r in rows if r.result == "partial"]
    if partial:
        best = max(partial, key=lambda r: r.played_ms)
        return Verdict(ItemState.PARTIAL, reason=best.reason, played_ms=best.played_ms)
    if rows:
        if _overlaps(item, cover):
            return Verdict(ItemState.REPLACED, reason=rows[-1].reason)
        return Verdict(ItemState.MISSED, reason=rows[-1].reason)
    if item.bulletin is not None and (item.station, item.bulletin) in declined:
        return Verdict(ItemState.DECLINED, reason="Xã đã chọn không phát tin này (Thông tư 39/2020/TT-BTTTT).")
    if now >= item.start and _overlaps(item, cover):
        return Verdict(ItemState.REPLACED, reason="Lệnh phát khẩn cấp chiếm giờ phát của mục này.")
    if now < item.start:
        return Verdict(ItemState.UPCOMING)
    if now < item.end:
        return Verdict(ItemState.ON_AIR)
    return Verdict(ItemState.MISSED, reason=NO_LOG_REASON)


# -- the database edge --------------------------------------------------------------------------


def item_facts(item: ProgrammeItem, station_code: str) -> ItemFacts:
    return ItemFacts(item.id, station_code, item.start, item.end, item.kind, item.bulletin_code)


def load_states(
    session: Session, items: Sequence[ProgrammeItem], now: datetime,
    declined: Collection[tuple[str, str]] | None = None,
) -> dict[int, Verdict]:
    """Verdicts for programme items already loaded (with their programmes): two queries whatever their number.

    `declined` defaults to what the communes refused (scheduler.commune_choice).
    """
    if not items:
        return {}
    station_ids = {i.programme.station_id for i in items}
    codes = dict(session.execute(select(Station.id, Station.code).where(Station.id.in_(station_ids))).all())
    facts = [item_facts(i, codes[i.programme.station_id]) for i in items]
    first = min(i.start for i in items)
    last = max(i.end for i in items)
    ids = [i.id for i in items]
    rows = session.execute(
        select(PlayLog.station_code, PlayLog.programme_item_id, PlayLog.scheduled_start, PlayLog.result,
               PlayLog.source, PlayLog.reason, PlayLog.played_ms, PlayLog.kind, PlayLog.actual_start,
               PlayLog.actual_end)
        .where(
            PlayLog.station_id.in_(station_ids),
            or_(
                PlayLog.programme_item_id.in_(ids),
                and_(PlayLog.scheduled_start >= first, PlayLog.scheduled_start <= last),
                and_(PlayLog.kind == "emergency", PlayLog.actual_start <= last, PlayLog.actual_start >= first),
            ),
        )
    ).all()
    plays = [PlayFacts(r[0], r[1], r[2], r[3], r[4], r[5] or "", r[6] or 0) for r in rows]
    emergencies = [Airtime(f.station, f.start, f.end) for f in facts if f.kind == "emergency"]
    emergencies += [
        Airtime(r[0], r[8], r[9] or r[8]) for r in rows if r[7] == "emergency" and r[3] in AIRED_RESULTS
    ]
    if declined is None:
        declined = declined_pairs(session, items)
    return decide(facts, plays, emergencies, declined, now)


def declined_pairs(session: Session, items: Sequence[ProgrammeItem]) -> set[tuple[str, str]]:
    """(station code, bulletin code) pairs whose bulletin the station's commune declined (TT 39)."""
    return commune_choice.declined_pairs(
        session, {i.programme.station_id for i in items}, {i.bulletin_code for i in items if i.bulletin_code}
    )


def week_items(session: Session, station_ids: Collection[int], week: str) -> list[ProgrammeItem]:
    """Every item of the stations' programmes for `week`, with the programme loaded."""
    return list(
        session.scalars(
            select(ProgrammeItem).join(Programme)
            .where(Programme.station_id.in_(list(station_ids)), Programme.week == week)
            .order_by(ProgrammeItem.start, ProgrammeItem.id)
        )
    )
