"""The operator's day (scheduler.delivery.today) and `loaxa playlist today|confirm|missed`.

One station's Monday holds an item in every state the operator can meet; the commands list them,
answer "đã phát" / "không phát được" once (idempotent, audited, scope-checked) and the reports agree.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from delivery_world import ItemSpec, add_asset, add_programme, add_station, make_mp3
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.models import AuditLog, Commune, PlayLog, User
from scheduler.db.session import transaction
from scheduler.delivery import audio_links
from scheduler.delivery.operator import missed_reason
from scheduler.delivery.today import day_rows
from scheduler.playlog import ingest
from scheduler.settings import Settings
from tests.fake_clock import FakeClock
from web.cli import main

LOCAL = timedelta(hours=7)
MONDAY = datetime(2026, 11, 23, tzinfo=UTC) - LOCAL  # 00:00 local, Monday 23 Nov 2026
NOW = MONDAY + timedelta(hours=17, minutes=31)  # 17:31 local
AS_OF = "2026-11-23T17:31:00+07:00"


def at(hours: int, minutes: int, day: int = 0) -> datetime:
    return MONDAY + timedelta(days=day, hours=hours, minutes=minutes)


# title -> local start; each stands for one state of the day
PLAN = {
    "Tự động": at(5, 30),
    "Phát dở": at(5, 40),
    "Không nhật ký": at(5, 50),
    "Khẩn cấp chiếm giờ": at(6, 0),
    "Phát tay": at(17, 0),
    "Mất điện": at(17, 10),
    "Đang phát": at(17, 30),
    "Buổi tối": at(19, 0),
    "Sáng mai": at(5, 30, day=1),
}


@pytest.fixture
def day_world(sessions: sessionmaker[Session], clock: FakeClock, media_dir: Path) -> dict[str, int]:
    now = clock()
    with transaction(sessions) as s:
        station, _ = add_station(s, "IADER-01", now)
        add_station(s, "CHUPUH-01", now, commune="Xã Chư Pưh")
        news = add_asset(s, media_dir, make_mp3(2.0, 440), now, 120_000)  # slots of 2 minutes
        specs = [ItemSpec(start, news, title=title) for title, start in PLAN.items()]
        specs.append(ItemSpec(at(6, 0), kind="emergency", title="Cảnh báo bão", seconds=300))
        specs.append(ItemSpec(at(23, 58, day=-1), news, title="Khuya chủ nhật"))  # ends 00:00 Monday
        programme = add_programme(s, station, "2026-W48", sorted(specs, key=lambda x: x.start), now)
        ids = {i.title: i.id for i in programme.items}
        rows = [
            {"play_id": "a1", "item_id": ids["Tự động"], "result": "played", "actual_start": at(5, 30).isoformat(),
             "played_ms": 120_000},
            {"play_id": "a2", "item_id": ids["Phát dở"], "result": "partial", "actual_start": at(5, 40).isoformat(),
             "played_ms": 30_000, "reason": "Dừng theo lệnh"},
            {"play_id": "a3", "item_id": ids["Khẩn cấp chiếm giờ"], "result": "skipped",
             "actual_start": at(6, 0).isoformat(), "reason": "Nhường lệnh khẩn cấp"},
        ]
        ingest(s, station, rows, now)
        ia_der = s.scalar(select(Commune).where(Commune.name == "Xã Ia Dêr"))
        chu_puh = s.scalar(select(Commune).where(Commune.name == "Xã Chư Pưh"))
        s.add_all([
            User(username="vanhanh", role="operator", password_hash="x", commune=ia_der, created_at=now),
            User(username="vanhanh_cp", role="operator", password_hash="x", commune=chu_puh, created_at=now),
            User(username="xem", role="viewer", password_hash="x", created_at=now),
        ])
        return ids


def loaxa(settings: Settings, *args: str) -> Result:
    env = {"LOAXA_DATABASE_URL": settings.database_url, "LOAXA_DATA_DIR": str(settings.data_dir),
           "LOAXA_MEDIA_DIR": str(settings.media_dir), "LOAXA_SECRET_KEY": "khoa-thu-nghiem"}
    return CliRunner().invoke(main, ["playlist", *args], env=env, catch_exceptions=False)


def states(settings: Settings, *extra: str) -> dict[str, tuple[str, str]]:
    result = loaxa(settings, "today", "--station", "IADER-01", "--format", "json", "--now", AS_OF, *extra)
    assert result.exit_code == 0, result.output
    return {row["title"]: (row["state"], row["reason"]) for row in json.loads(result.output)}


def test_today_lists_each_item_of_the_local_day_with_its_live_state(day_world: dict[str, int],
                                                                     settings: Settings) -> None:
    found = states(settings)
    assert {title: state for title, (state, _) in found.items()} == {
        "Tự động": "da_phat",
        "Phát dở": "phat_do",
        "Không nhật ký": "bo_lo",
        "Khẩn cấp chiếm giờ": "bi_thay",
        "Cảnh báo bão": "bo_lo",  # the emergency item itself has no play row
        "Phát tay": "bo_lo",
        "Mất điện": "bo_lo",
        "Đang phát": "dang_phat",
        "Buổi tối": "sap_phat",
    }
    rows = json.loads(loaxa(settings, "today", "--station", "IADER-01", "--format", "json", "--now", AS_OF).output)
    first = rows[0]
    assert set(first) >= {"id", "start", "end", "title", "kind", "state"}
    assert (first["start"], first["end"], first["kind"]) == ("2026-11-23T05:30:00+07:00", "2026-11-23T05:32:00+07:00",
                                                             "bulletin")
    text = loaxa(settings, "today", "--station", "IADER-01", "--now", AS_OF).output.splitlines()
    assert text[0] == "Đài IADER-01 — Cụm loa IADER-01, ngày 23/11/2026: 9 mục."
    assert text[1].split() == ["Số", "mục", "Giờ", "Trạng", "thái", "Nội", "dung"]
    assert text[3].split()[1:] == ["05:40–05:42", "Phát", "dở", "Phát", "dở", "—", "Dừng", "theo", "lệnh"]
    tomorrow = states(settings, "--date", "24/11/2026")
    assert tomorrow == {"Sáng mai": ("sap_phat", "")}


def test_confirm_and_missed_store_one_manual_answer_each_and_the_states_follow(
        day_world: dict[str, int], settings: Settings, sessions: sessionmaker[Session]) -> None:
    confirm = ("confirm", "--station", "IADER-01", "--item", str(day_world["Phát tay"]), "--by", "vanhanh",
               "--now", AS_OF)
    missed = ("missed", "--station", "IADER-01", "--item", str(day_world["Mất điện"]), "--reason", "mất điện",
              "--by", "vanhanh", "--now", AS_OF)
    first, again = loaxa(settings, *confirm), loaxa(settings, *confirm)
    assert first.exit_code == 0 and "Đã ghi: «Phát tay» — Đã phát (xác nhận tay)." in first.output
    assert again.exit_code == 0 and "Không ghi thêm" in again.output
    assert loaxa(settings, *missed).exit_code == 0
    assert loaxa(settings, *missed).exit_code == 0
    # a later, different answer about the same item does not overwrite the first one
    late = loaxa(settings, "confirm", "--station", "IADER-01", "--item", str(day_world["Mất điện"]),
                 "--by", "vanhanh", "--now", AS_OF)
    assert "Không ghi thêm" in late.output and "Bỏ lỡ (Mất điện)" in late.output

    found = states(settings)
    assert found["Phát tay"][0] == "da_phat"
    assert found["Mất điện"] == ("bo_lo", "Mất điện")
    with sessions() as s:
        manual = s.execute(select(PlayLog.title, PlayLog.result, PlayLog.reason)
                           .where(PlayLog.source == "manual").order_by(PlayLog.title)).all()
        actions = s.scalars(select(AuditLog.action).where(AuditLog.action.like("playlog.%"))
                            .order_by(AuditLog.id)).all()
    assert [tuple(r) for r in manual] == [("Mất điện", "skipped", "Mất điện"),
                                          ("Phát tay", "played", "Xác nhận đã phát bởi vanhanh.")]
    assert actions == ["playlog.confirm", "playlog.missed"]


def test_answers_are_refused_outside_the_scope_before_the_start_and_for_readers(
        day_world: dict[str, int], settings: Settings, sessions: sessionmaker[Session]) -> None:
    item = str(day_world["Phát tay"])
    stranger = loaxa(settings, "confirm", "--station", "IADER-01", "--item", item, "--by", "vanhanh_cp",
                     "--now", AS_OF)
    assert stranger.exit_code == 1 and "ngoài phạm vi Xã Chư Pưh" in stranger.output
    reader = loaxa(settings, "confirm", "--station", "IADER-01", "--item", item, "--by", "xem", "--now", AS_OF)
    assert reader.exit_code == 1 and "không có quyền" in reader.output
    early = loaxa(settings, "confirm", "--station", "IADER-01", "--item", str(day_world["Buổi tối"]),
                  "--by", "vanhanh", "--now", AS_OF)
    assert early.exit_code == 1 and "bắt đầu lúc 19:00 ngày 23/11/2026" in early.output
    wrong = loaxa(settings, "confirm", "--station", "CHUPUH-01", "--item", item, "--by", "vanhanh_cp", "--now", AS_OF)
    assert wrong.exit_code == 1 and "không có trong lịch phát của đài CHUPUH-01" in wrong.output
    peek = loaxa(settings, "today", "--station", "IADER-01", "--by", "vanhanh_cp", "--now", AS_OF)
    assert peek.exit_code == 1 and "ngoài phạm vi" in peek.output
    for result in (stranger, reader, early, wrong, peek):
        assert "Traceback" not in result.output
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(PlayLog).where(PlayLog.source == "manual")) == 0


def test_missed_reasons_come_from_the_short_list_or_say_khac_with_the_words() -> None:
    assert missed_reason("mat-dien") == "Mất điện"
    assert missed_reason("Hỏng thiết bị", "ampli cháy") == "Hỏng thiết bị: ampli cháy"
    assert missed_reason("loa bị đổ do gió") == "Khác: loa bị đổ do gió"
    assert missed_reason("khác", "đám tang trong thôn") == "Khác: đám tang trong thôn"
    with pytest.raises(ValueError, match="ghi rõ"):
        missed_reason("khac")
    with pytest.raises(ValueError, match="mất điện, hỏng thiết bị"):
        missed_reason("  ")


def test_bad_input_gets_a_vietnamese_error(day_world: dict[str, int], settings: Settings) -> None:
    unknown = loaxa(settings, "today", "--station", "KHONG-CO", "--now", AS_OF)
    assert unknown.exit_code == 1 and "Không có đài mã «KHONG-CO»" in unknown.output
    bad_day = loaxa(settings, "today", "--station", "IADER-01", "--date", "31/02/2026", "--now", AS_OF)
    assert bad_day.exit_code == 2 and "--date" in bad_day.output
    no_reason = loaxa(settings, "missed", "--station", "IADER-01", "--item", "1", "--reason", "khác",
                      "--by", "vanhanh", "--now", AS_OF)
    assert no_reason.exit_code == 2 and "ghi rõ" in no_reason.output


def test_m3u_links_are_signed_for_a_day_and_refuse_tampering(day_world: dict[str, int], settings: Settings) -> None:
    result = loaxa(settings, "today", "--station", "IADER-01", "--format", "m3u", "--now", AS_OF)
    assert result.exit_code == 0, result.output
    links = [line for line in result.output.splitlines() if line.startswith("http")]
    assert len(links) == 8  # Monday's eight bulletins; the emergency slot has no audio
    token = links[0].split("/nghe/")[1].split("/")[0]
    sha = audio_links.verify("khoa-thu-nghiem", token, NOW + timedelta(hours=23))
    assert len(sha) == 64
    with pytest.raises(audio_links.LinkError, match="hết hạn"):
        audio_links.verify("khoa-thu-nghiem", token, NOW + timedelta(hours=24))
    with pytest.raises(audio_links.LinkError, match="không hợp lệ"):
        audio_links.verify("khoa-khac", token, NOW)
    with pytest.raises(audio_links.LinkError, match="không hợp lệ"):
        audio_links.verify("khoa-thu-nghiem", token.replace(".", ".9", 1), NOW)


def test_the_day_is_the_local_day_across_midnight(day_world: dict[str, int], sessions: sessionmaker[Session],
                                                  settings: Settings) -> None:
    # 23:58 local Sunday is still Sunday: Monday's 05:30 item is not on Sunday's list, and vice versa.
    with sessions() as s:
        from scheduler.db.models import Station

        station = s.scalars(select(Station).where(Station.code == "IADER-01")).one()
        sunday = day_rows(s, [station], (MONDAY + LOCAL - timedelta(days=1)).date(), NOW)
        monday = day_rows(s, [station], (MONDAY + LOCAL).date(), NOW)
    assert [r.item.title for r in sunday] == ["Khuya chủ nhật"] and len(monday) == 9
    assert monday[0].item.title == "Tự động"


def test_the_airtime_report_counts_the_day_as_the_states_do(day_world: dict[str, int], settings: Settings,
                                                            sessions: sessionmaker[Session]) -> None:
    from scheduler.db.models import Station
    from scheduler.item_states import ItemState
    from scheduler.reports.figures import Figures
    from scheduler.reports.raw import raw_facts, raw_missed

    loaxa(settings, "confirm", "--station", "IADER-01", "--item", str(day_world["Phát tay"]), "--by", "vanhanh",
          "--now", AS_OF)
    loaxa(settings, "missed", "--station", "IADER-01", "--item", str(day_world["Mất điện"]), "--reason", "mat-dien",
          "--by", "vanhanh", "--now", AS_OF)
    with sessions() as s:
        station = s.scalars(select(Station).where(Station.code == "IADER-01")).one()
        rows = day_rows(s, [station], (MONDAY + LOCAL).date(), NOW)
        total = Figures()
        for fact in raw_facts(s, MONDAY, MONDAY + timedelta(days=1), now=NOW):
            total.add(fact.figures)
        missed = {m.title: m.reason for m in raw_missed(s, MONDAY, MONDAY + timedelta(days=1), now=NOW)}
    states = [r.verdict.state for r in rows]
    assert total.aired_items == sum(1 for st in states if st.aired) == 3
    assert total.missed_items == sum(1 for st in states if st in (ItemState.MISSED, ItemState.REPLACED)) == 4
    assert missed["Mất điện"] == "Mất điện"
    assert "Phát tay" not in missed
