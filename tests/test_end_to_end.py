"""The whole chain through the real commands: CSV → approval → offline speech → weekly plan →
a station agent playing on an injected clock → its play log on the server → the airtime report.

Runs on SQLite and PostgreSQL (the `settings` fixture), with espeak-ng as the only TTS engine.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).parent / "scheduler" / "delivery"))
from delivery_world import ServerThread  # noqa: E402

from scheduler.agent.agent import Agent, AgentConfig  # noqa: E402
from scheduler.agent.players import NullPlayer  # noqa: E402
from scheduler.db.models import PlayLog, Programme, ProgrammeItem  # noqa: E402
from scheduler.domain import IsoWeek  # noqa: E402
from scheduler.settings import Settings  # noqa: E402
from web.cli import main  # noqa: E402

STATIONS = """code,name,commune,area,province,languages,windows,lat,lon,speakers
E2E-01,Cụm loa thôn Plei Ơi,Xã Ia Grai,Khu vực Ia Grai,Gia Lai,vi,T2-CN 05:30-06:00,13.99,107.81,6
"""
BULLETINS = """code,title,text,topic,language,priority,valid_from,valid_to,plays_per_week,targets,audio_file
E2E-B1,Nộp hồ sơ trực tuyến,"Người dân nộp hồ sơ trực tuyến tại dichvucong.gov.vn, lệ phí giảm 50%.",dvc_truc_tuyen,vi,uu_tien,{first},{last},7,*,
E2E-B2,Đường dây nóng,"Mọi phản ánh về thủ tục hành chính, gọi đường dây nóng 0269 3823 456.",duong_day_nong,vi,thuong,{first},{last},7,Xã Ia Grai,
"""


def run(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("LOAXA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LOAXA_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LOAXA_MEDIA_DIR", str(settings.media_dir))
    monkeypatch.setenv("LOAXA_TTS_ENGINES", "espeak")
    return CliRunner()


def test_bulletin_from_csv_airs_on_a_station_and_is_counted_in_the_report(
    cli_env: CliRunner, settings: Settings, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    runner = cli_env
    tz = settings.tz
    # The commands plan with the real clock, so plan next week: wholly in the future.
    week = IsoWeek.of(datetime.now(UTC).astimezone(tz).date()).next()
    monday = week.monday()
    (tmp_path / "stations.csv").write_text(STATIONS, encoding="utf-8")
    (tmp_path / "bulletins.csv").write_text(
        BULLETINS.format(first=monday, last=monday + timedelta(days=13)), encoding="utf-8")
    (tmp_path / "pw").write_text("mat-khau-duyet\n", encoding="utf-8")

    run(runner, "user", "add", "duyet", "--role", "approver", "--password-file", str(tmp_path / "pw"))
    assert "1 đài mới" in run(runner, "import", "stations", str(tmp_path / "stations.csv"))
    assert "2 bản tin mới" in run(runner, "import", "bulletins", str(tmp_path / "bulletins.csv"),
                                  "--approve-as", "duyet")
    assert "Đã đọc 2 bản tin; 0 lỗi" in run(runner, "render")
    run(runner, "programme", "build", "--week", str(week))
    token = run(runner, "station", "token", "E2E-01").strip()

    with sessions() as s:
        items = s.scalars(
            select(ProgrammeItem).join(Programme).where(Programme.week == str(week), ProgrammeItem.kind == "bulletin")
            .order_by(ProgrammeItem.start)
        ).all()
    monday_start = datetime.combine(monday, time(5, 30), tz)
    monday_items = [i for i in items if i.start.astimezone(tz).date() == monday]
    # Both bulletins air once in Monday's session, the priority one first.
    assert [i.bulletin_code for i in monday_items] == ["E2E-B1", "E2E-B2"]
    assert all(monday_start <= i.start < monday_start + timedelta(minutes=30) for i in monday_items)

    class Clock:
        current = datetime.combine(monday, time(5, 0), tz).astimezone(UTC)

        def __call__(self) -> datetime:
            return self.current

    clock = Clock()
    with ServerThread(settings, clock) as server:
        agent = Agent(AgentConfig(server=server.url, station="E2E-01", token=token, cache_dir=tmp_path / "agent",
                                  mqtt=False), clock=clock, player=NullPlayer(clock))
        agent.run_once(clock())  # fetch the manifest and all audio, acknowledge
        end = monday_start + timedelta(minutes=31)
        while clock.current < end:
            clock.current += timedelta(seconds=1)
            agent.run_once(clock.current)
        agent.syncer.upload(clock(), force=True)
        agent.shutdown()

    with sessions() as s:
        plays = s.scalars(select(PlayLog).order_by(PlayLog.actual_start)).all()
        assert [(p.bulletin_code, p.result, p.source) for p in plays] == [
            ("E2E-B1", "played", "agent"), ("E2E-B2", "played", "agent")]
        for play, item in zip(plays, monday_items, strict=True):
            assert play.scheduled_start == item.start
            assert abs((play.actual_start - item.start).total_seconds()) <= 1
            assert abs(play.played_ms - item.duration_ms) <= 1000  # the test clock steps by 1 s
        aired_ms = sum(p.played_ms for p in plays)

    day = monday.isoformat()
    report_now = (monday_start + timedelta(hours=2)).isoformat()
    out = tmp_path / "report.json"
    run(runner, "report", "airtime", "--from", day, "--to", day, "--format", "json", "-o", str(out),
        "--now", report_now)
    totals = json.loads(out.read_text(encoding="utf-8"))["totals"]
    assert (totals["planned_items"], totals["aired_items"], totals["missed_items"]) == (2, 2, 0)
    assert totals["aired_ms"] == aired_ms
    csv_out = tmp_path / "report.csv"
    run(runner, "report", "airtime", "--from", day, "--to", day, "--format", "csv", "-o", str(csv_out),
        "--now", report_now)
    raw = csv_out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert any("E2E-01" in row for row in rows)




def test_programme_build_names_approved_bulletins_left_out_for_want_of_audio(
    cli_env: CliRunner, tmp_path: Path
) -> None:
    runner = cli_env
    week = IsoWeek.of(datetime.now(UTC).date()).next()
    monday = week.monday()
    (tmp_path / "stations.csv").write_text(STATIONS, encoding="utf-8")
    (tmp_path / "bulletins.csv").write_text(
        BULLETINS.format(first=monday, last=monday + timedelta(days=13)), encoding="utf-8")
    (tmp_path / "pw").write_text("mat-khau-duyet\n", encoding="utf-8")
    run(runner, "user", "add", "duyet", "--role", "approver", "--password-file", str(tmp_path / "pw"))
    run(runner, "import", "stations", str(tmp_path / "stations.csv"))
    run(runner, "import", "bulletins", str(tmp_path / "bulletins.csv"), "--approve-as", "duyet")

    before = run(runner, "programme", "build", "--week", str(week))
    assert (f"2 bản tin đã duyệt chưa có âm thanh nên chưa được xếp vào lịch {week.label.lower()}: E2E-B1, E2E-B2. "
            f"Chạy «loaxa render» rồi «loaxa programme build --week {week}»") in before
    run(runner, "render")
    after = run(runner, "programme", "build", "--week", str(week))
    assert "chưa có âm thanh" not in after
