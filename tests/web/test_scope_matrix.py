"""Every route × role × scope: province, area and commune accounts see and act only inside their scope.

The place: Khu vực Ia Grai holds Xã Ia Dêr (IADER-01, IADER-02) and Xã Ia Krái (IAKRAI-01);
Xã Chư Pưh (CHUPUH-01) lies outside it. Four submitted bulletins aim at the commune, the area,
the outside commune and everywhere. The expectations below are written out by hand per scope
(not derived from scheduler.access), so the test can disagree with the code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from web_pages import World, give_audio, make_bulletin, text_of

from scheduler.db.models import Area, AuditLog, Bulletin, Commune, Station, User
from scheduler.db.session import transaction
from scheduler.domain import BulletinStatus
from scheduler.settings import Settings
from tests.fake_clock import FakeClock


@dataclass(frozen=True)
class Account:
    role: str
    scope: str  # province | area | commune


ACCOUNTS: dict[str, Account] = {
    "quantri": Account("admin", "province"),
    "bientap": Account("editor", "province"),
    "duyet": Account("approver", "province"),
    "bt_kv": Account("editor", "area"),
    "duyet_kv": Account("approver", "area"),
    "bt_xa": Account("editor", "commune"),
    "duyet_xa": Account("approver", "commune"),
    "vanhanh": Account("operator", "commune"),
    "xem": Account("viewer", "province"),
    "xem_xa": Account("viewer", "commune"),
}
# Bulletin name -> its targets.
BULLETINS = {
    "xa": ("Xã Ia Dêr",),
    "khu_vuc": ("IADER-01", "Xã Ia Krái"),
    "ngoai": ("CHUPUH-01",),
    "ca_tinh": ("*",),
}
# What each scope sees (404 for the rest) and what it wholly covers (may edit, submit, approve).
SEES = {
    "province": {"xa", "khu_vuc", "ngoai", "ca_tinh"},
    "area": {"xa", "khu_vuc", "ca_tinh"},
    "commune": {"xa", "khu_vuc", "ca_tinh"},
}
COVERS = {"province": {"xa", "khu_vuc", "ngoai", "ca_tinh"}, "area": {"xa", "khu_vuc"}, "commune": {"xa"}}
STATIONS_SEEN = {
    "province": {"IADER-01", "IAKRAI-01", "CHUPUH-01"},
    "area": {"IADER-01", "IAKRAI-01"},
    "commune": {"IADER-01"},
}
COMMUNES_SEEN = {
    "province": {"Xã Ia Dêr", "Xã Ia Krái", "Xã Chư Pưh"},
    "area": {"Xã Ia Dêr", "Xã Ia Krái"},
    "commune": {"Xã Ia Dêr"},
}
CAN_VIEW_BULLETINS = {"admin", "editor", "approver"}
CAN_EDIT_BULLETINS = {"admin", "editor"}
CAN_APPROVE = {"admin", "approver"}
CAN_SEE_STATIONS = {"admin", "editor", "approver", "operator"}
CAN_REBUILD = {"admin", "editor"}


@dataclass
class Place:
    bulletins: dict[str, int]
    communes: dict[str, int]


@pytest.fixture
def place(world: World, sessions: sessionmaker[Session], clock: FakeClock, password_hash: str) -> Place:
    """The conftest world plus an area, a third commune and scoped accounts."""
    now = clock()
    with transaction(sessions) as s:
        province_id = s.scalar(select(Commune.province_id).where(Commune.name == "Xã Ia Dêr"))
        area = Area(province_id=province_id, name="Khu vực Ia Grai")
        s.add(area)
        s.flush()
        ia_der = s.scalars(select(Commune).where(Commune.name == "Xã Ia Dêr")).one()
        ia_der.area_id = area.id
        ia_krai = Commune(province_id=province_id, name="Xã Ia Krái", area_id=area.id, policy={})
        s.add(ia_krai)
        s.flush()
        s.add(Station(code="IAKRAI-01", name="Cụm loa Ia Krái", commune=ia_krai, languages="vi", status={}))
        existing = set(s.scalars(select(User.username)))
        for username, account in ACCOUNTS.items():
            if username in existing:
                continue
            s.add(User(
                username=username, full_name=username, role=account.role, password_hash=password_hash,
                created_at=now,
                commune_id=ia_der.id if account.scope == "commune" else None,
                area_id=area.id if account.scope == "area" else None,
            ))  # fmt: skip
        communes = {c.name: c.id for c in s.scalars(select(Commune))}
    bulletins = {}
    for n, (name, targets) in enumerate(BULLETINS.items()):
        author = "bt_xa" if name == "xa" else "bientap"
        bulletins[name] = make_bulletin(
            sessions, now, author=author, status=BulletinStatus.SUBMITTED, code=f"BT-{n}", title=f"Bản tin {name}",
            targets=targets,
        )
    return Place(bulletins, communes)


def _reset(sessions: sessionmaker[Session], bulletin_id: int) -> None:
    with transaction(sessions) as s:
        s.execute(update(Bulletin).where(Bulletin.id == bulletin_id).values(status=BulletinStatus.SUBMITTED.value))


def _expect(account: Account, allowed_roles: set[str], visible: bool, covered: bool, ok: int) -> int:
    if account.role not in allowed_roles:
        return 403
    if not visible:
        return 404
    return ok if covered else 403


BULLETIN_ROUTES = [
    # (method, url, roles, needs cover, status when allowed)
    ("GET", "/ban-tin/{id}", CAN_VIEW_BULLETINS, False, 200),
    ("GET", "/ban-tin/{id}/sua", CAN_EDIT_BULLETINS, True, 200),
    ("POST", "/ban-tin/{id}/gui-duyet", CAN_EDIT_BULLETINS, True, 303),
    ("POST", "/ban-tin/{id}/duyet", CAN_APPROVE, True, 303),
    ("POST", "/ban-tin/{id}/tra-lai", CAN_APPROVE, True, 303),
    ("POST", "/ban-tin/{id}/luu-tru", CAN_EDIT_BULLETINS | CAN_APPROVE, True, 303),
]


@pytest.mark.parametrize(("method", "url", "roles", "needs_cover", "ok"), BULLETIN_ROUTES,
                         ids=[f"{m} {u}" for m, u, *_ in BULLETIN_ROUTES])
def test_bulletin_routes_by_role_and_scope(
    as_user: Callable[[str], FlaskClient], place: Place, sessions: sessionmaker[Session], method: str, url: str, roles: set[str],
    needs_cover: bool, ok: int,
) -> None:
    failures = []
    for username, account in ACCOUNTS.items():
        client = as_user(username)
        for name, bulletin_id in place.bulletins.items():
            visible = name in SEES[account.scope]
            covered = name in COVERS[account.scope] if needs_cover else True
            expected = _expect(account, roles, visible, covered, ok)
            if expected == ok and url.endswith("/duyet") and name == "xa" and username == "bt_xa":
                expected = 403  # never approve one's own bulletin (bt_xa wrote it; bt_xa cannot approve anyway)
            data = {"comment": "Sửa lại số văn bản."} if method == "POST" else None
            response = client.open(url.format(id=bulletin_id), method=method, data=data)
            if response.status_code != expected:
                failures.append(f"{username} ({account.role}, {account.scope}) {name}: "
                                f"{response.status_code} != {expected}")
            if method == "POST":
                _reset(sessions, bulletin_id)
    assert failures == []


def test_bulletin_list_shows_only_bulletins_reaching_the_scope(as_user: Callable[[str], FlaskClient], place: Place) -> None:
    for username in ("bientap", "bt_kv", "bt_xa", "duyet_xa"):
        page = text_of(as_user(username).get("/ban-tin/").get_data(as_text=True))
        seen = {name for name in BULLETINS if f"Bản tin {name}" in page}
        assert seen == SEES[ACCOUNTS[username].scope], username


@pytest.mark.parametrize("route", ["/dai/{code}", "/lich-phat/?dai={code}"])
def test_station_pages_by_role_and_scope(as_user: Callable[[str], FlaskClient], place: Place, route: str) -> None:
    failures = []
    for username, account in ACCOUNTS.items():
        client = as_user(username)
        for code in STATIONS_SEEN["province"]:
            expected = _expect(account, CAN_SEE_STATIONS, code in STATIONS_SEEN[account.scope], True, 200)
            status = client.get(route.format(code=code)).status_code
            if status != expected:
                failures.append(f"{username} {code}: {status} != {expected}")
    assert failures == []


def test_commune_week_pages_by_role_and_scope(as_user: Callable[[str], FlaskClient], place: Place) -> None:
    failures = []
    for username, account in ACCOUNTS.items():
        client = as_user(username)
        for name, commune_id in place.communes.items():
            expected = _expect(account, CAN_SEE_STATIONS, name in COMMUNES_SEEN[account.scope], True, 200)
            status = client.get(f"/lich-phat/?xa={commune_id}").status_code
            if status != expected:
                failures.append(f"{username} {name}: {status} != {expected}")
    assert failures == []


def test_station_list_and_week_index_hold_only_the_scope(as_user: Callable[[str], FlaskClient], place: Place) -> None:
    for username in ("bientap", "bt_kv", "duyet_xa", "vanhanh"):
        scope = ACCOUNTS[username].scope
        client = as_user(username)
        stations = text_of(client.get("/dai/").get_data(as_text=True))
        assert {c for c in STATIONS_SEEN["province"] if c in stations} == STATIONS_SEEN[scope], username
        week = text_of(client.get("/lich-phat/").get_data(as_text=True))
        assert {n for n in COMMUNES_SEEN["province"] if n in week} == COMMUNES_SEEN[scope], username


def test_rebuild_and_token_actions_stay_inside_the_scope(as_user: Callable[[str], FlaskClient], place: Place) -> None:
    failures = []
    for username, account in ACCOUNTS.items():
        client = as_user(username)
        for code in STATIONS_SEEN["province"]:
            visible = code in STATIONS_SEEN[account.scope]
            rebuild = client.post("/lich-phat/lap-lai", data={"dai": code}).status_code
            expected = _expect(account, CAN_REBUILD, visible, True, 303)
            if rebuild != expected:
                failures.append(f"rebuild {username} {code}: {rebuild} != {expected}")
            token = client.post(f"/dai/{code}/cap-ma").status_code
            token_roles = {"admin", "operator"}
            expected = _expect(account, token_roles, visible or account.role == "admin", True, 200)
            if token != expected:
                failures.append(f"token {username} {code}: {token} != {expected}")
    assert failures == []


@pytest.mark.parametrize(
    ("username", "targets", "accepted"),
    [
        ("bt_xa", "IADER-01", True),
        ("bt_xa", "Xã Ia Dêr", True),
        ("bt_xa", "IAKRAI-01", False),
        ("bt_xa", "*", False),
        ("bt_kv", "IAKRAI-01; Xã Ia Dêr", True),
        ("bt_kv", "CHUPUH-01", False),
        ("bientap", "*", True),
    ],
)
def test_a_scoped_editor_may_only_aim_inside_the_scope(
    as_user: Callable[[str], FlaskClient], place: Place, sessions: sessionmaker[Session], username: str, targets: str, accepted: bool
) -> None:
    before = _count(sessions)
    response = as_user(username).post("/ban-tin/moi", data={
        "title": "Lịch tiêm chủng tháng 12", "text": "Mời bà con đưa trẻ đi tiêm chủng tại trạm y tế xã.",
        "topic": "tthc", "language": "vi", "priority": "thuong", "valid_from": "2026-11-23",
        "valid_to": "2026-12-06", "plays_per_week": "3", "targets": targets,
    })  # fmt: skip
    if accepted:
        assert response.status_code == 303
        assert _count(sessions) == before + 1
    else:
        assert response.status_code == 400
        assert "nằm ngoài phạm vi của tài khoản" in text_of(response.get_data(as_text=True))
        assert _count(sessions) == before


def _count(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return len(s.scalars(select(Bulletin.id)).all())


def test_commune_approver_approval_is_audited_and_self_approval_still_refused(
    as_user: Callable[[str], FlaskClient], place: Place, sessions: sessionmaker[Session], clock: FakeClock,
    settings: Settings,
) -> None:
    own = make_bulletin(sessions, clock(), author="duyet_xa", status=BulletinStatus.SUBMITTED, code="BT-OWN",
                        targets=("IADER-02",))
    assert as_user("duyet_xa").post(f"/ban-tin/{own}/duyet").status_code == 403
    give_audio(sessions, place.bulletins["xa"], settings.media_dir, clock())  # approvers approve what they heard
    assert as_user("duyet_xa").post(f"/ban-tin/{place.bulletins['xa']}/duyet").status_code == 303
    with sessions() as s:
        approved = s.get(Bulletin, place.bulletins["xa"])
        assert approved is not None and approved.status == BulletinStatus.APPROVED.value
        row = s.scalars(select(AuditLog).where(AuditLog.action == "bulletin.approve")).one()
        assert row.username == "duyet_xa" and row.entity_id == str(place.bulletins["xa"])


def test_reports_of_a_scoped_account_stay_in_its_scope(as_user: Callable[[str], FlaskClient], place: Place) -> None:
    asked = "/bao-cao/tai-ve/json?period=thang&year=2026&index=11&level=station&value={}"

    def scope(username: str, station: str) -> str:
        return str(as_user(username).get(asked.format(station)).get_json()["scope"]["label"])

    assert scope("xem_xa", "CHUPUH-01") == "Xã: Xã Ia Dêr"  # outside: confined to the commune
    assert scope("xem_xa", "IADER-01") == "Đài: IADER-01"  # inside: may narrow to a station
    assert scope("bt_kv", "CHUPUH-01") == "Khu vực: Khu vực Ia Grai"
    assert scope("bt_kv", "IAKRAI-01") == "Đài: IAKRAI-01"
    assert scope("xem", "CHUPUH-01") == "Đài: CHUPUH-01"
