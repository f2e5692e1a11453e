"""Content from above (TT 39): a commune choosing its province-level thông thường bulletins.

Xã Ia Grai (IAGRAI-01, IAGRAI-02) and Xã Chư Păh (CHUPAH-01). TREN-01 is a thông thường bulletin
written at the province for everyone; XA-01 is Ia Grai's own; UT-01 is ưu tiên from the province.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from scheduler import commune_choice
from scheduler.accounts import create_user
from scheduler.commune_choice import Choice, ChoiceRefused, CommunePolicy
from scheduler.db.models import AudioAsset, AuditLog, Bulletin, Commune, CommuneDecision, Programme, Station, User
from scheduler.db.session import transaction
from scheduler.domain import IsoWeek
from scheduler.imports import import_stations
from scheduler.item_states import ItemState, load_states, week_items
from scheduler.programmes import build_week
from scheduler.programmes.explain import explain_week, format_rows, unplaced_for
from scheduler.programmes.inputs import bulletin_inputs, load_stations, policy_for
from scheduler.reports.airtime import AirtimeReport, ReportRequest, build_report
from scheduler.reports.exports.header import summary_lines
from scheduler.reports.exports.json_file import report_dict
from scheduler.reports.periods import Period
from scheduler.reports.scope import Scope
from scheduler.settings import Settings
from tests.fake_clock import FakeClock
from web.cli import main

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WEEK = IsoWeek(2026, 48)
STATIONS = """code,name,commune,area,province,languages,windows,lat,lon,speakers
IAGRAI-01,Cụm loa thôn Plei Ơi,Xã Ia Grai,,Gia Lai,vi,T2-CN 05:30-06:00; T2-CN 17:00-17:30,,,4
IAGRAI-02,Cụm loa làng Bàu,Xã Ia Grai,,Gia Lai,vi,T2-CN 05:30-06:00; T2-CN 17:00-17:30,,,3
CHUPAH-01,Cụm loa trung tâm,Xã Chư Păh,,Gia Lai,vi,T2-CN 05:30-06:00; T2-CN 17:00-17:30,,,2
"""
IA_GRAI = ("IAGRAI-01", "IAGRAI-02")
EVERY = frozenset({"IAGRAI-01", "IAGRAI-02", "CHUPAH-01"})


def _bulletin(s: Session, code: str, now: datetime, author: str, targets: tuple[str, ...], priority: str = "thuong",
              ) -> None:
    sha = hashlib.sha256(code.encode()).hexdigest()
    audio = AudioAsset(sha256=sha, file_name=f"audio/{sha}.mp3", duration_ms=60_000, engine="test", created_at=now)
    user = s.scalars(select(User).where(User.username == author)).one()
    s.add(Bulletin(
        code=code, title=f"Tin {code}", text="Nội dung", topic="tthc", priority=priority, status="da_duyet",
        valid_from=date(2026, 11, 1), valid_to=date(2026, 12, 31), plays_per_week=3, targets=list(targets),
        audio=audio, author_id=user.id, approved_at=now, created_at=now, updated_at=now,
    ))  # fmt: skip


@pytest.fixture
def world(sessions: sessionmaker[Session], clock: FakeClock) -> sessionmaker[Session]:
    now = clock()
    with transaction(sessions) as s:
        import_stations(s, STATIONS)
        create_user(s, "bientap", "editor", "mat-khau-dai", now)
        create_user(s, "bt_xa", "editor", "mat-khau-dai", now, commune="Xã Ia Grai")
        create_user(s, "duyet_xa", "approver", "mat-khau-dai", now, commune="Xã Ia Grai")
        create_user(s, "duyet_cp", "approver", "mat-khau-dai", now, commune="Xã Chư Păh")
        create_user(s, "duyet", "approver", "mat-khau-dai", now)
        _bulletin(s, "TREN-01", now, "bientap", ("*",))
        _bulletin(s, "XA-01", now, "bt_xa", ("Xã Ia Grai",))
        _bulletin(s, "UT-01", now, "bientap", ("*",), priority="uu_tien")
    return sessions


def planned_on(sessions: sessionmaker[Session]) -> dict[str, frozenset[str]]:
    with sessions() as s:
        return {b.code: b.stations for b in bulletin_inputs(s, WEEK, load_stations(s))}


def set_policy(sessions: sessionmaker[Session], now: datetime, **values: object) -> None:
    with transaction(sessions) as s:
        commune = commune_choice.find_commune(s, "Xã Ia Grai")
        commune_choice.set_policy(s, commune, now, None, **values)  # type: ignore[arg-type]


def decide(sessions: sessionmaker[Session], now: datetime, code: str, answer: str, username: str = "duyet_xa",
           commune: str = "Xã Ia Grai") -> None:
    with transaction(sessions) as s:
        user = s.scalars(select(User).where(
            User.username == username)).one()
        bulletin = s.scalars(select(Bulletin).where(Bulletin.code == code)).one()
        row = s.scalars(select(Commune).options(selectinload(Commune.stations)).where(Commune.name == commune)).one()
        commune_choice.decide(s, bulletin, row, answer, user, now)


def test_by_default_a_commune_airs_everything_from_above(world: sessionmaker[Session]) -> None:
    assert planned_on(world) == {"TREN-01": EVERY, "UT-01": EVERY, "XA-01": frozenset(IA_GRAI)}


def test_a_choosing_commune_holds_only_normal_bulletins_from_above_until_it_answers(
    world: sessionmaker[Session], clock: FakeClock
) -> None:
    set_policy(world, clock(), mode="chon")
    assert planned_on(world) == {
        "TREN-01": frozenset({"CHUPAH-01"}),  # waits for Ia Grai; Chư Păh airs it as before
        "UT-01": EVERY,  # ưu tiên is never held
        "XA-01": frozenset(IA_GRAI),  # the commune's own bulletin is not "from above"
    }
    decide(world, clock(), "TREN-01", "nhan")
    assert planned_on(world)["TREN-01"] == EVERY
    decide(world, clock(), "TREN-01", "khong")
    assert planned_on(world)["TREN-01"] == frozenset({"CHUPAH-01"})


def test_an_answer_is_audited_with_who_and_what(world: sessionmaker[Session], clock: FakeClock) -> None:
    set_policy(world, clock(), mode="chon")
    decide(world, clock(), "TREN-01", "khong")
    with world() as s:
        row = s.scalars(select(AuditLog).where(AuditLog.action == "bulletin.commune_choice")).one()
        assert row.username == "duyet_xa"
        assert row.after == {"commune": "Xã Ia Grai", "decision": "khong", "by_default": False}
        decision = s.scalars(select(CommuneDecision)).one()
        assert (decision.bulletin_code, decision.decision, decision.by_default) == ("TREN-01", "khong", False)


@pytest.mark.parametrize(("default", "planned"), [("khong", frozenset({"CHUPAH-01"})), ("nhan", EVERY)])
def test_the_default_applies_exactly_at_the_deadline(
    world: sessionmaker[Session], clock: FakeClock, default: str, planned: frozenset[str]
) -> None:
    approved = clock()
    set_policy(world, approved, mode="chon", deadline_hours=24, default=default)
    clock.advance(hours=23, minutes=59, seconds=59)
    with transaction(world) as s:
        assert commune_choice.apply_deadlines(s, clock()) == []
    assert planned_on(world)["TREN-01"] == frozenset({"CHUPAH-01"})
    clock.advance(seconds=1)
    with transaction(world) as s:
        stored = commune_choice.apply_deadlines(s, clock())
        assert [(d.bulletin_code, d.decision, d.by_default) for d in stored] == [("TREN-01", default, True)]
    assert planned_on(world)["TREN-01"] == planned
    with transaction(world) as s:
        assert commune_choice.apply_deadlines(s, clock() + timedelta(hours=1)) == []  # stored once
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "bulletin.commune_choice")).one()
        assert audit.username == "hệ thống" and audit.after is not None and audit.after["by_default"] is True


def test_an_answer_before_the_deadline_is_not_overridden_by_the_default(
    world: sessionmaker[Session], clock: FakeClock
) -> None:
    set_policy(world, clock(), mode="chon", deadline_hours=2, default="khong")
    decide(world, clock(), "TREN-01", "nhan")
    clock.advance(hours=3)
    with transaction(world) as s:
        assert commune_choice.apply_deadlines(s, clock()) == []
    assert planned_on(world)["TREN-01"] == EVERY


def test_the_deadline_runs_from_the_policy_change_when_it_comes_after_approval(
    world: sessionmaker[Session], clock: FakeClock
) -> None:
    clock.advance(days=3)  # TREN-01 was approved three days before the commune started choosing
    set_policy(world, clock(), mode="chon", deadline_hours=24, default="khong")
    with world() as s:
        waiting = commune_choice.choices(s, clock())
        assert [(w.bulletin.code, w.choice, w.due) for w in waiting] == [
            ("TREN-01", Choice.PENDING, clock() + timedelta(hours=24))]
    with transaction(world) as s:
        assert commune_choice.apply_deadlines(s, clock()) == []


def test_deadline_rule_is_pure_and_crosses_midnight_in_local_time() -> None:
    approved = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)  # 23:30 in Hà Nội
    due = commune_choice.deadline(approved, CommunePolicy(mode="chon", deadline_hours=1))
    assert due.astimezone(TZ) == datetime(2026, 11, 24, 0, 30, tzinfo=TZ)
    assert not commune_choice.overdue(True, None, due, due - timedelta(microseconds=1))
    assert commune_choice.overdue(True, None, due, due)
    assert not commune_choice.overdue(True, "nhan", due, due)
    assert not commune_choice.overdue(False, None, due, due)
    assert commune_choice.choice(False, None) == Choice.AUTO
    assert commune_choice.choice(True, None) == Choice.PENDING
    assert commune_choice.choice(True, "khong") == Choice.DECLINED


@pytest.mark.parametrize(
    ("username", "code", "commune", "message"),
    [
        ("duyet_cp", "TREN-01", "Xã Ia Grai", "nằm ngoài phạm vi"),  # another commune's approver
        ("bt_xa", "TREN-01", "Xã Ia Grai", "không có quyền"),  # an editor
        ("duyet_xa", "UT-01", "Xã Ia Grai", "không chờ xã"),  # ưu tiên is never held
        ("duyet_xa", "XA-01", "Xã Ia Grai", "không chờ xã"),  # the commune's own
        ("duyet_cp", "TREN-01", "Xã Chư Păh", "không chờ xã"),  # Chư Păh airs everything as it comes
    ],
)
def test_who_may_answer_and_for_what(
    world: sessionmaker[Session], clock: FakeClock, username: str, code: str, commune: str, message: str
) -> None:
    set_policy(world, clock(), mode="chon")
    with pytest.raises(ChoiceRefused, match=message):
        decide(world, clock(), code, "khong", username, commune)
    with world() as s:
        assert s.scalars(select(CommuneDecision)).all() == []


def test_a_province_approver_may_answer_for_a_commune(world: sessionmaker[Session], clock: FakeClock) -> None:
    set_policy(world, clock(), mode="chon")
    decide(world, clock(), "TREN-01", "khong", "duyet")
    assert planned_on(world)["TREN-01"] == frozenset({"CHUPAH-01"})


def test_a_declined_bulletin_is_not_planned_and_items_left_from_before_show_as_declined(
    world: sessionmaker[Session], clock: FakeClock
) -> None:
    with transaction(world) as s:
        build_week(s, WEEK, clock(), TZ, 30)
    set_policy(world, clock(), mode="chon")
    decide(world, clock(), "TREN-01", "khong")
    with world() as s:
        station_ids = {r[0]: r[1] for r in s.execute(select(Station.code, Station.id))}
        before = week_items(s, [station_ids["IAGRAI-01"]], str(WEEK))
        states = load_states(s, before, clock())
        declined = {states[i.id].state for i in before if i.bulletin_code == "TREN-01"}
        assert declined == {ItemState.DECLINED}
        assert {states[i.id].state for i in before if i.bulletin_code == "XA-01"} == {ItemState.UPCOMING}
    with transaction(world) as s:
        build_week(s, WEEK, clock(), TZ, 30)
    with world() as s:
        codes = {
            code: {i.bulletin_code for i in week_items(s, [sid], str(WEEK))}
            for code, sid in s.execute(select(Station.code, Station.id))
        }
        assert s.scalar(select(Programme.id).limit(1)) is not None
    assert "TREN-01" not in codes["IAGRAI-01"] and "TREN-01" not in codes["IAGRAI-02"]
    assert "TREN-01" in codes["CHUPAH-01"] and "XA-01" in codes["IAGRAI-01"]


def test_policy_values_are_checked_in_vietnamese(world: sessionmaker[Session], clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="Hạn quyết định 0 giờ không hợp lệ"):
        set_policy(world, clock(), mode="chon", deadline_hours=0)
    with pytest.raises(ValueError, match="Chế độ «luon» không hợp lệ"):
        set_policy(world, clock(), mode="luon")
    with world() as s:
        assert s.scalar(select(Commune.upstream_mode).where(Commune.name == "Xã Ia Grai")) == "tu-dong"


@pytest.fixture
def run(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """`loaxa` on the test database: run(main, [args…])."""
    monkeypatch.setenv("LOAXA_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LOAXA_DATA_DIR", str(settings.data_dir))
    return CliRunner().invoke


def test_loaxa_commune_policy_sets_and_prints_the_policy(world: sessionmaker[Session], run: Callable[..., Result]) -> None:
    result = run(main, ["commune", "policy", "Xã Ia Grai", "--mode", "chon", "--deadline-hours", "12",
                        "--default", "khong"])
    assert result.exit_code == 0, result.output
    assert "xã chọn nhận hay không, hạn 12 giờ; quá hạn thì «Không phát»" in result.output
    with world() as s:
        row = s.scalars(select(Commune).where(Commune.name == "Xã Ia Grai")).one()
        assert (row.upstream_mode, row.upstream_deadline_hours, row.upstream_default) == ("chon", 12, "khong")
        assert s.scalars(select(AuditLog.action).where(AuditLog.entity == "commune")).all() == ["commune.policy"]
    listed = run(main, ["commune", "choices", "--commune", "Xã Ia Grai"])
    assert listed.exit_code == 0 and "TREN-01  Chờ xã quyết định" in listed.output
    bad = run(main, ["commune", "policy", "Xã Không Có", "--mode", "chon"])
    assert bad.exit_code == 1 and "Không tìm thấy xã «Xã Không Có»" in bad.output
    hours = run(main, ["commune", "policy", "Xã Ia Grai", "--deadline-hours", "9999"])
    assert hours.exit_code == 1 and "từ 1 đến 336 giờ" in hours.output


def test_loaxa_commune_decide_answers_like_the_page_within_the_approvers_scope(
    world: sessionmaker[Session], run: Callable[..., Result]
) -> None:
    assert run(main, ["commune", "policy", "Xã Ia Grai", "--mode", "chon"]).exit_code == 0
    outside = run(main, ["commune", "decide", "TREN-01", "--commune", "Xã Ia Grai", "--answer", "khong",
                         "--as", "duyet_cp"])
    assert outside.exit_code == 1 and "Xã «Xã Ia Grai» nằm ngoài phạm vi" in outside.output
    editor = run(main, ["commune", "decide", "TREN-01", "--commune", "Xã Ia Grai", "--answer", "khong",
                        "--as", "bt_xa"])
    assert editor.exit_code == 1 and "không có quyền quyết định" in editor.output
    own = run(main, ["commune", "decide", "XA-01", "--commune", "Xã Ia Grai", "--answer", "khong",
                     "--as", "duyet_xa"])  # the commune's own bulletin does not wait for it
    assert own.exit_code == 1 and "không chờ xã «Xã Ia Grai» quyết định" in own.output
    for wrong in (["NHAM-99", "--as", "duyet_xa"], ["TREN-01", "--as", "khong-ai"]):
        result = run(main, ["commune", "decide", wrong[0], "--commune", "Xã Ia Grai", "--answer", "khong", *wrong[1:]])
        assert result.exit_code == 1 and ("NHAM-99" in result.output or "khong-ai" in result.output)
    assert planned_on(world)["TREN-01"] == frozenset({"CHUPAH-01"})  # waiting: not planned in Ia Grai
    done = run(main, ["commune", "decide", "TREN-01", "--commune", "Xã Ia Grai", "--answer", "nhan", "--as", "duyet_xa"])
    assert done.exit_code == 0 and "Xã Ia Grai: «Nhận phát» bản tin TREN-01." in done.output
    assert planned_on(world)["TREN-01"] == EVERY
    again = run(main, ["commune", "decide", "TREN-01", "--commune", "Xã Ia Grai", "--answer", "khong", "--as", "duyet"])
    assert again.exit_code == 0  # changed later, by a province approver
    assert planned_on(world)["TREN-01"] == frozenset({"CHUPAH-01"})
    listed = run(main, ["commune", "choices", "--commune", "Xã Ia Grai"])
    assert "TREN-01  Xã không phát" in listed.output
    with world() as s:
        history = s.scalars(select(AuditLog).where(AuditLog.action == "bulletin.commune_choice")
                            .order_by(AuditLog.id)).all()
        assert [(a.after or {}).get("decision") for a in history] == ["nhan", "khong"]


def test_the_commune_week_page_lists_the_bulletins_from_above_kept_off_its_stations(
    world: sessionmaker[Session], settings: Settings, clock: FakeClock
) -> None:
    from web.app import create_app
    from web.auth import session_fingerprint

    app = create_app(settings, clock=clock, testing=True)
    client = app.test_client()
    with world() as s, app.app_context():
        user = s.scalars(select(User).where(User.username == "duyet_xa")).one()
        commune = s.scalars(select(Commune).where(Commune.name == "Xã Ia Grai")).one()
        fingerprint, commune_id = session_fingerprint(user), commune.id
    with client.session_transaction() as session:
        session["uid"], session["fp"] = user.id, fingerprint
    page = f"/lich-phat/?xa={commune_id}&tuan={WEEK}"
    assert "Tin tuyến trên không có trong lịch" not in client.get(page).get_data(as_text=True)  # tu-dong: none held
    with transaction(world) as s:
        commune_choice.set_policy(s, s.get_one(Commune, commune_id), clock(), None, mode="chon")
    html = client.get(page).get_data(as_text=True)
    assert "Tin tuyến trên không có trong lịch tuần này" in html
    assert "<strong>TREN-01</strong> — Tin TREN-01" in html and "Đang chờ xã chọn «Nhận phát» hay «Không phát»" in html
    assert "Không xếp cho 2 đài: IAGRAI-01, IAGRAI-02." in html and "XA-01</strong>" not in html
    assert "Trả lời trên trang «Tin tuyến trên»" in html  # the approver may answer
    with transaction(world) as s:
        bulletin = s.scalars(select(Bulletin).where(Bulletin.code == "TREN-01")).one()
        commune_choice.decide(s, bulletin, s.get_one(Commune, commune_id), "khong",
                              s.scalars(select(User).where(User.username == "duyet_xa")).one(), clock())
    html = client.get(page).get_data(as_text=True)
    assert "Xã đã chọn «Không phát» tin này của tuyến trên" in html and "Đang chờ xã chọn" not in html


def test_explain_says_which_bulletins_wait_for_the_commune_and_which_it_declined(
    world: sessionmaker[Session], clock: FakeClock
) -> None:
    set_policy(world, clock(), mode="chon", deadline_hours=24)
    with world() as s:
        station = s.scalars(select(Station).where(Station.code == "IAGRAI-01")).one()
        rows = unplaced_for(s, station, WEEK, clock(), TZ).rows
        assert [(r.code, r.reasons) for r in rows] == [("TREN-01", (
            "Đang chờ xã chọn «Nhận phát» hay «Không phát» (Thông tư 39/2020/TT-BTTTT); hạn 05:00 24/11/2026.",))]
    decide(world, clock(), "TREN-01", "khong")
    with world() as s:
        station = s.scalars(select(Station).where(Station.code == "IAGRAI-01")).one()
        rows = unplaced_for(s, station, WEEK, clock(), TZ).rows
        assert [r.reasons[0] for r in rows] == [
            "Xã đã chọn «Không phát» tin này của tuyến trên (Thông tư 39/2020/TT-BTTTT)."]
        text = format_rows(explain_week(s, WEEK, clock(), TZ, 30))
    lines = [line.split() for line in text.splitlines()]
    assert ["IAGRAI-02", "TREN-01", "0/3", "XÃ", "TỪ", "CHỐI", "Tin", "TREN-01"] in lines
    assert not any(line[:2] == ["CHUPAH-01", "TREN-01"] and "CHỐI" in line for line in lines)
    assert text.endswith("2 cặp xã không phát hoặc chưa chọn (Thông tư 39).")


def test_the_planner_learns_which_bulletins_are_the_communes_own_and_its_priority_order(
    world: sessionmaker[Session], clock: FakeClock
) -> None:
    with world() as s:
        own = {b.code: b.own_commune for b in bulletin_inputs(s, WEEK, load_stations(s))}
        assert own == {"TREN-01": "", "UT-01": "", "XA-01": "Xã Ia Grai"}
        assert {st.code: policy_for(st).own_priority_first for st in load_stations(s)} == dict.fromkeys(EVERY, False)
    set_policy(world, clock(), priority_order="xa-truoc")
    with world() as s:
        firsts = {st.code: policy_for(st).own_priority_first for st in load_stations(s)}
    assert firsts == {"IAGRAI-01": True, "IAGRAI-02": True, "CHUPAH-01": False}


def test_the_airtime_report_lists_what_communes_declined_beside_planned_and_aired(
    world: sessionmaker[Session], clock: FakeClock
) -> None:
    set_policy(world, clock(), mode="chon", deadline_hours=1, default="khong")
    decide(world, clock(), "TREN-01", "khong")
    november = Period.custom(date(2026, 11, 1), date(2026, 11, 30))

    def report(scope: Scope, period: Period = november) -> AirtimeReport:
        with world() as s:
            return build_report(s, ReportRequest(period, scope=scope), clock(), TZ)

    whole = report(Scope())
    assert [(d.commune, d.bulletin_code, d.stations, d.by_default, d.decided_by) for d in whole.declined] == [
        ("Xã Ia Grai", "TREN-01", 2, False, "duyet_xa")]
    assert whole.declined_pairs == 2
    assert "Tin tuyến trên xã chọn không phát (Thông tư 39): 1 bản tin, 2 lượt đài × bản tin." in summary_lines(whole)
    data = report_dict(whole)
    assert data["declined_pairs"] == 2 and data["declined"][0]["valid_to"] == "2026-12-31"
    assert report(Scope("station", "IAGRAI-01")).declined_pairs == 1
    assert report(Scope("commune", "Xã Chư Păh")).declined == []
    assert report(Scope(), Period.custom(date(2027, 1, 1), date(2027, 1, 31))).declined == []  # after validity
    with transaction(world) as s:  # the bulletin deleted: the decline still counts in the month it was made
        s.execute(delete(Bulletin).where(Bulletin.code == "TREN-01"))
    assert [d.title for d in report(Scope()).declined] == ["Tin TREN-01"]


def test_a_bulletin_approved_again_after_an_edit_is_asked_again(world: sessionmaker[Session], clock: FakeClock) -> None:
    set_policy(world, clock(), mode="chon", deadline_hours=24, default="khong")
    decide(world, clock(), "TREN-01", "khong")
    assert planned_on(world)["TREN-01"] == frozenset({"CHUPAH-01"})
    clock.advance(hours=2)
    with transaction(world) as s:  # edited and approved again by the province
        s.scalars(select(Bulletin).where(Bulletin.code == "TREN-01")).one().approved_at = clock()
    with world() as s:
        waiting = commune_choice.choices(s, clock())
        assert [(w.bulletin.code, w.choice, w.due) for w in waiting] == [
            ("TREN-01", Choice.PENDING, clock() + timedelta(hours=24))]
        station_ids = [r for r in s.scalars(select(Station.id))]
        assert commune_choice.declined_pairs(s, station_ids, ["TREN-01"]) == set()
    decide(world, clock(), "TREN-01", "nhan")
    assert planned_on(world)["TREN-01"] == EVERY
