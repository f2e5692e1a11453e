"""Content from above (Thông tư 39/2020/TT-BTTTT): does a commune air a province-level bulletin?

The one home of the rule. Each commune has a policy for *thông thường* bulletins sent down from
above: `tu-dong` (the default: they air as they come) or `chon` (each waits for the commune
approver's **Nhận phát** / **Không phát**; once `upstream_deadline_hours` have passed since the
bulletin was approved — or since the policy was set, if later — the commune's default applies).
*Ưu tiên* and *khẩn cấp* bulletins are never held: *ưu tiên* from above airs first, unless the
commune puts its own *ưu tiên* items first (`priority_order`, used by the planner), and *khẩn cấp*
goes out at once.

A bulletin is *from above* for a commune unless its author is an account tied to that commune
(bulletins from an upstream source system, CSV imports and province or area editors all come from
above). Answers are stored in `commune_decision`; `apply_deadlines` stores the default as an answer
(`by_default`) once the deadline passes, so what the planner reads is always stored data:
`withheld` names the stations a bulletin must not be planned on (scheduler.programmes.inputs).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from scheduler import access, audit
from scheduler.db.models import Bulletin, Commune, CommuneDecision, Station, User
from scheduler.domain import DEFAULT_TZ, BulletinStatus, Priority

LOCAL_TZ = ZoneInfo(DEFAULT_TZ)
MODES: dict[str, str] = {"tu-dong": "Tự động phát", "chon": "Xã chọn nhận hay không"}
ANSWERS: dict[str, str] = {"nhan": "Nhận phát", "khong": "Không phát"}
ORDERS: dict[str, str] = {
    "tren-truoc": "Tin ưu tiên của tuyến trên phát trước tin ưu tiên của xã",
    "xa-truoc": "Tin ưu tiên của xã phát trước tin ưu tiên của tuyến trên",
}
MAX_DEADLINE_HOURS = 24 * 14
DECIDERS = frozenset({"admin", "approver"})


class Choice(enum.StrEnum):
    AUTO = "tu_dong"  # the commune airs content from above as it comes (or the bulletin is not held)
    PENDING = "cho"
    ACCEPTED = "nhan"
    DECLINED = "khong"

    @property
    def label(self) -> str:
        return {
            "tu_dong": "Tự động phát",
            "cho": "Chờ xã quyết định",
            "nhan": "Xã nhận phát",
            "khong": "Xã không phát",
        }[self.value]

    @property
    def airs(self) -> bool:
        return self in (Choice.AUTO, Choice.ACCEPTED)


class ChoiceRefused(ValueError):
    """The decision is not allowed (message in Vietnamese)."""


@dataclass(frozen=True)
class CommunePolicy:
    mode: str = "tu-dong"
    deadline_hours: int = 24
    default: str = "nhan"
    priority_order: str = "tren-truoc"
    set_at: datetime | None = None

    def describe(self) -> str:
        if self.mode != "chon":
            text = "Tin thông thường của tuyến trên: tự động phát."
        else:
            text = (f"Tin thông thường của tuyến trên: xã chọn nhận hay không, hạn {self.deadline_hours} giờ; "
                    f"quá hạn thì «{ANSWERS[self.default]}».")
        return f"{text} {ORDERS.get(self.priority_order, '')}."


def policy_of(commune: Commune) -> CommunePolicy:
    return CommunePolicy(
        commune.upstream_mode or "tu-dong", commune.upstream_deadline_hours or 24, commune.upstream_default or "nhan",
        commune.priority_order or "tren-truoc", commune.upstream_set_at,
    )


# -- the pure rule --------------------------------------------------------------------------------


def from_above(author_commune_id: int | None, commune_id: int) -> bool:
    """A bulletin is the commune's own only when written by an account tied to that commune."""
    return author_commune_id != commune_id


def held(priority: str, above: bool, policy: CommunePolicy) -> bool:
    """Whether the commune must answer before the bulletin airs on its stations."""
    return policy.mode == "chon" and priority == Priority.NORMAL.value and above


def deadline(approved_at: datetime, policy: CommunePolicy) -> datetime:
    """When the default applies: hours after approval, or after the policy was set if that is later."""
    start = max(approved_at, policy.set_at) if policy.set_at is not None else approved_at
    return start + timedelta(hours=policy.deadline_hours)


def choice(is_held: bool, answer: str | None) -> Choice:
    """The commune's choice for one bulletin: not held airs; held waits for a stored answer."""
    if not is_held:
        return Choice.AUTO
    if answer is None:
        return Choice.PENDING
    return Choice.ACCEPTED if answer == "nhan" else Choice.DECLINED


def current(decided_at: datetime, approved_at: datetime | None) -> bool:
    """An answer holds for the version approved before it: a bulletin edited and approved again is asked again."""
    return approved_at is None or decided_at >= approved_at


def overdue(is_held: bool, answer: str | None, due: datetime, now: datetime) -> bool:
    """A held bulletin still unanswered at or after its deadline: the default is to be stored."""
    return is_held and answer is None and now >= due


# -- policy ---------------------------------------------------------------------------------------


def find_commune(session: Session, name: str) -> Commune:
    commune = session.scalar(select(Commune).where(Commune.name == name.strip()))
    if commune is None:
        known = ", ".join(session.scalars(select(Commune.name).order_by(Commune.name).limit(8))) or "chưa có xã nào"
        raise ValueError(f"Không tìm thấy xã «{name}». Các xã đã có: {known}.")
    return commune


def set_policy(
    session: Session, commune: Commune, now: datetime, user: User | None = None, *, mode: str | None = None,
    deadline_hours: int | None = None, default: str | None = None, priority_order: str | None = None,
) -> CommunePolicy:
    """Change a commune's policy (only the values given); ValueError (Vietnamese) naming a bad value. Audited."""
    if user is not None and user.role != "admin":
        raise ChoiceRefused(f"Tài khoản «{user.username}» không có quyền đặt chính sách nhận tin của xã.")
    errors = []
    if mode is not None and mode not in MODES:
        errors.append(f"Chế độ «{mode}» không hợp lệ: dùng tu-dong hoặc chon.")
    if deadline_hours is not None and not 1 <= deadline_hours <= MAX_DEADLINE_HOURS:
        errors.append(f"Hạn quyết định {deadline_hours} giờ không hợp lệ: từ 1 đến {MAX_DEADLINE_HOURS} giờ.")
    if default is not None and default not in ANSWERS:
        errors.append(f"Mặc định «{default}» không hợp lệ: dùng nhan (nhận phát) hoặc khong (không phát).")
    if priority_order is not None and priority_order not in ORDERS:
        errors.append(f"Thứ tự «{priority_order}» không hợp lệ: dùng tren-truoc hoặc xa-truoc.")
    if errors:
        raise ValueError(" ".join(errors))
    before = _policy_dict(commune)
    if mode is not None and mode != commune.upstream_mode:
        commune.upstream_mode = mode
        commune.upstream_set_at = now
    if deadline_hours is not None:
        commune.upstream_deadline_hours = deadline_hours
    if default is not None:
        commune.upstream_default = default
    if priority_order is not None:
        commune.priority_order = priority_order
    session.flush()
    after = _policy_dict(commune)
    if after != before:
        audit.record(session, now, user, "commune.policy", "commune", commune.id, before, after)
    return policy_of(commune)


def _policy_dict(commune: Commune) -> dict[str, object]:
    return {"commune": commune.name, "mode": commune.upstream_mode, "deadline_hours": commune.upstream_deadline_hours,
            "default": commune.upstream_default, "priority_order": commune.priority_order}


# -- what the planner reads -----------------------------------------------------------------------


def _author_communes(session: Session, bulletins: Iterable[Bulletin]) -> dict[int, int | None]:
    ids = sorted({b.author_id for b in bulletins if b.author_id is not None})
    if not ids:
        return {}
    return {r[0]: r[1] for r in session.execute(select(User.id, User.commune_id).where(User.id.in_(ids)))}


def own_communes(session: Session, bulletins: Sequence[Bulletin]) -> dict[int, str]:
    """Per bulletin id, the name of the commune whose own bulletin it is (written by an account tied to it)."""
    ids = sorted({b.author_id for b in bulletins if b.author_id is not None})
    if not ids:
        return {}
    names = {r[0]: r[1] for r in session.execute(
        select(User.id, Commune.name).join(Commune, Commune.id == User.commune_id).where(User.id.in_(ids)))}
    return {b.id: names[b.author_id] for b in bulletins if b.author_id in names}


@dataclass(frozen=True)
class Held:
    """Why a bulletin from above is kept off a station: the commune's choice, and when the default applies."""

    choice: Choice
    due: datetime
    by_default: bool = False

    def reason(self, tz: ZoneInfo = LOCAL_TZ) -> str:
        if self.choice == Choice.DECLINED:
            how = " (mặc định khi quá hạn)" if self.by_default else ""
            return f"Xã đã chọn «Không phát» tin này của tuyến trên{how} (Thông tư 39/2020/TT-BTTTT)."
        return (f"Đang chờ xã chọn «Nhận phát» hay «Không phát» (Thông tư 39/2020/TT-BTTTT); "
                f"hạn {self.due.astimezone(tz):%H:%M %d/%m/%Y}.")


def held_back(
    session: Session, bulletins: Sequence[Bulletin], stations: Sequence[Station], targeted: Mapping[int, frozenset[str]]
) -> dict[tuple[int, str], Held]:
    """(bulletin id, station code) -> Held, for every targeted station whose commune has not (yet) chosen to air it."""
    choosing = [s for s in stations if s.commune.upstream_mode == "chon"]
    normal = [b for b in bulletins if b.priority == Priority.NORMAL.value]
    if not choosing or not normal:
        return {}
    ids = [b.id for b in normal]
    answers = {(d.bulletin_id, d.commune_id): d for d in session.scalars(
        select(CommuneDecision).where(CommuneDecision.bulletin_id.in_(ids)))}  # fmt: skip
    authors = _author_communes(session, normal)
    out: dict[tuple[int, str], Held] = {}
    for b in normal:
        author_commune = authors.get(b.author_id) if b.author_id is not None else None
        for s in choosing:
            if s.code not in targeted.get(b.id, frozenset()):
                continue
            policy = policy_of(s.commune)
            row = answers.get((b.id, s.commune_id))
            row = row if row is not None and current(row.decided_at, b.approved_at) else None
            found = choice(held(b.priority, from_above(author_commune, s.commune_id), policy),
                           row.decision if row else None)
            if not found.airs:
                out[(b.id, s.code)] = Held(found, deadline(b.approved_at or b.updated_at, policy),
                                           bool(row and row.by_default))
    return out


def withheld(
    session: Session, bulletins: Sequence[Bulletin], stations: Sequence[Station], targeted: Mapping[int, frozenset[str]]
) -> dict[int, frozenset[str]]:
    """Per bulletin id, the codes of its targeted stations whose commune has not (yet) chosen to air it."""
    out: dict[int, set[str]] = {}
    for bulletin_id, code in held_back(session, bulletins, stations, targeted):
        out.setdefault(bulletin_id, set()).add(code)
    return {k: frozenset(v) for k, v in out.items()}


def declined_pairs(session: Session, station_ids: Iterable[int], bulletin_codes: Iterable[str]) -> set[tuple[str, str]]:
    """(station code, bulletin code) pairs whose bulletin the station's commune answered «Không phát»."""
    ids, codes = sorted(set(station_ids)), sorted(set(bulletin_codes))
    if not ids or not codes:
        return set()
    rows = session.execute(
        select(Station.code, CommuneDecision.bulletin_code)
        .join(CommuneDecision, CommuneDecision.commune_id == Station.commune_id)
        .outerjoin(Bulletin, Bulletin.id == CommuneDecision.bulletin_id)
        .where(Station.id.in_(ids), CommuneDecision.decision == "khong", CommuneDecision.bulletin_code.in_(codes),
               or_(Bulletin.approved_at.is_(None), CommuneDecision.decided_at >= Bulletin.approved_at))
    )
    return {(s, b) for s, b in rows}


# -- what waits for a commune ---------------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    """One bulletin from above and one commune: its choice, and when the default applies."""

    bulletin: Bulletin
    commune: Commune
    choice: Choice
    due: datetime
    decision: CommuneDecision | None = None


def _reaches(session: Session, bulletin: Bulletin, commune: Commune) -> bool:
    inside = access.Places(frozenset({commune.name}), frozenset(s.code for s in commune.stations))
    return access.reaches(session, None, bulletin.targets or [], inside)


def choices(session: Session, now: datetime, communes: Sequence[Commune] | None = None) -> list[Waiting]:
    """Every held bulletin (approved, still valid) for the `chon` communes given (default: all), with
    its choice, soonest deadline first; the answered ones too, so a commune can change its mind."""
    today: date = now.astimezone(LOCAL_TZ).date()
    if communes is None:
        communes = list(session.scalars(
            select(Commune).options(selectinload(Commune.stations)).where(Commune.upstream_mode == "chon")
        ))
    communes = [c for c in communes if c.upstream_mode == "chon"]
    if not communes:
        return []
    bulletins = list(session.scalars(
        select(Bulletin).options(selectinload(Bulletin.audio)).where(
            Bulletin.status == BulletinStatus.APPROVED.value, Bulletin.priority == Priority.NORMAL.value,
            Bulletin.valid_to >= today,
        ).order_by(Bulletin.approved_at, Bulletin.code)
    ))
    answers = {(d.bulletin_id, d.commune_id): d for d in session.scalars(
        select(CommuneDecision).options(selectinload(CommuneDecision.decided_by))
        .where(CommuneDecision.bulletin_id.in_([b.id for b in bulletins]))
    )} if bulletins else {}  # fmt: skip
    authors = _author_communes(session, bulletins)
    found = []
    for commune in communes:
        policy = policy_of(commune)
        for b in bulletins:
            author_commune = authors.get(b.author_id) if b.author_id is not None else None
            is_held = held(b.priority, from_above(author_commune, commune.id), policy)
            if not is_held or not _reaches(session, b, commune):
                continue
            row = answers.get((b.id, commune.id))
            row = row if row is not None and current(row.decided_at, b.approved_at) else None
            due = deadline(b.approved_at or b.updated_at, policy)
            found.append(Waiting(b, commune, choice(True, row.decision if row else None), due, row))
    found.sort(key=lambda w: (w.choice != Choice.PENDING, w.due, w.bulletin.code, w.commune.name))
    return found


def _store(
    session: Session, bulletin: Bulletin, commune: Commune, answer: str, now: datetime, user: User | None,
    by_default: bool,
) -> CommuneDecision:
    row = session.scalar(select(CommuneDecision).where(
        CommuneDecision.bulletin_id == bulletin.id, CommuneDecision.commune_id == commune.id))
    before = None if row is None else {"decision": row.decision, "by_default": row.by_default}
    if row is None:
        row = CommuneDecision(bulletin_id=bulletin.id, commune_id=commune.id, bulletin_code=bulletin.code)
        session.add(row)
    row.title = bulletin.title[:300]
    row.decision = answer
    row.by_default = by_default
    row.decided_by_id = user.id if user is not None else None
    row.decided_at = now
    session.flush()
    audit.record(session, now, user, "bulletin.commune_choice", "bulletin", bulletin.id, before,
                 {"commune": commune.name, "decision": answer, "by_default": by_default})
    return row


def decide(
    session: Session, bulletin: Bulletin, commune: Commune, answer: str, user: User, now: datetime
) -> CommuneDecision:
    """The commune approver's «Nhận phát» (nhan) or «Không phát» (khong); may be changed later. Audited.

    ChoiceRefused (Vietnamese) for a user who may not decide for the commune or a bulletin not held there.
    """
    if answer not in ANSWERS:
        raise ValueError(f"Quyết định «{answer}» không hợp lệ: dùng nhan (nhận phát) hoặc khong (không phát).")
    if user.role not in DECIDERS or not user.active:
        raise ChoiceRefused(f"Tài khoản «{user.username}» không có quyền quyết định nhận tin cho xã.")
    if not access.in_scope(user, commune):
        raise ChoiceRefused(f"Xã «{commune.name}» nằm ngoài phạm vi của bạn ({access.describe(user)}).")
    waiting = [w for w in choices(session, now, [commune]) if w.bulletin.id == bulletin.id]
    if not waiting:
        raise ChoiceRefused(
            f"Bản tin «{bulletin.code}» không chờ xã «{commune.name}» quyết định (chỉ tin thông thường của tuyến "
            "trên, đã duyệt, còn hiệu lực, khi xã đặt chế độ chọn)."
        )
    return _store(session, bulletin, commune, answer, now, user, by_default=False)


def apply_deadlines(session: Session, now: datetime) -> list[CommuneDecision]:
    """Store each commune's default for the held bulletins still unanswered at their deadline. Audited
    as the system's; the planner then reads them like any answer (the service runs this each tick)."""
    stored = []
    for w in choices(session, now):
        if overdue(True, w.decision.decision if w.decision else None, w.due, now):
            stored.append(_store(session, w.bulletin, w.commune, w.commune.upstream_default, now, None, True))
    return stored
