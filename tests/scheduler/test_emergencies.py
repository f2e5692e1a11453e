"""Emergencies (khẩn cấp): played at once, repeated by a rule, pre-empting the programme, cancellable."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import Result
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from scheduler.db.models import AudioAsset, AuditLog, Bulletin, Emergency, PlayLog, Programme, ProgrammeItem, Station
from scheduler.db.session import transaction
from scheduler.domain import IsoWeek
from scheduler.emergencies import (
    RepeatRule,
    announce,
    cancel_emergency,
    emergency_plays,
    list_active,
    plays_for,
    start_emergency,
)
from scheduler.imports import import_stations
from scheduler.playlog import ingest
from scheduler.programmes import build_week
from scheduler.settings import Settings
from tests.fake_clock import FakeClock

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WEEK = IsoWeek(2026, 48)  # Monday 23 Nov 2026
STATIONS = """code,name,commune,area,province,languages,windows,lat,lon,speakers
IAGRAI-01,Cụm loa thôn Plei Ơi,Ia Grai,,Gia Lai,vi,T2-CN 05:30-06:30; T2-CN 17:00-18:00,,,4
IAGRAI-02,Cụm loa làng Bàu,Ia Grai,,Gia Lai,vi,T2-CN 05:30-06:30; T2-CN 17:00-18:00,,,3
CHUPAH-01,Cụm loa trung tâm,Chư Păh,,Gia Lai,vi,T2-CN 05:30-06:30,,,2
"""
STORM = "Cảnh báo bão số 9: người dân khẩn trương chằng chống nhà cửa, không ra khơi."
FLOOD = "Cảnh báo lũ quét và sạt lở đất tại các xã vùng núi, di dời người dân khỏi vùng nguy hiểm."
NEWS = "Tuyên truyền cơ chế một cửa, một cửa liên thông trong giải quyết thủ tục hành chính."


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant given in Hà Nội wall-clock time, November 2026."""
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)


def add_bulletin(
    session: Session, code: str, title: str, now: datetime, *, priority: str = "khan_cap", status: str = "da_duyet",
    duration_ms: int | None = 90_000, plays: int = 3, targets: tuple[str, ...] = ("*",),
) -> Bulletin:
    """A bulletin with (or without) a rendered audio asset; the planner only needs duration and hash."""
    audio = None
    if duration_ms is not None:
        sha = hashlib.sha256(code.encode()).hexdigest()
        audio = AudioAsset(sha256=sha, file_name=f"audio/{sha}.mp3", duration_ms=duration_ms, engine="test",
                           created_at=now)
    bulletin = Bulletin(
        code=code, title=title, text=title, topic="khan_cap" if priority == "khan_cap" else "mot_cua",
        priority=priority, status=status, valid_from=date(2026, 11, 1), valid_to=date(2026, 12, 31),
        plays_per_week=plays, targets=list(targets), audio=audio, created_at=now, updated_at=now,
    )
    session.add(bulletin)
    session.flush()
    return bulletin


@pytest.fixture
def world(sessions: sessionmaker[Session], clock: FakeClock) -> sessionmaker[Session]:
    with transaction(sessions) as session:
        import_stations(session, STATIONS)
        add_bulletin(session, "KC-BAO9", STORM, clock())
        add_bulletin(session, "KC-LU", FLOOD, clock(), duration_ms=60_000)
        add_bulletin(session, "MC-01", NEWS, clock(), priority="thuong", duration_ms=120_000, plays=7)
    return sessions


def start(session: Session, code: str, targets: list[str], rule: RepeatRule, now: datetime) -> Emergency:
    bulletin = session.scalars(select(Bulletin).where(Bulletin.code == code)).one()
    return start_emergency(session, bulletin, targets, rule, None, now)


def items_of(session: Session, station: str, week: IsoWeek = WEEK) -> list[ProgrammeItem]:
    programme = session.scalar(
        select(Programme).join(Station).options(selectinload(Programme.items))
        .where(Station.code == station, Programme.week == str(week))
    )
    return sorted(programme.items, key=lambda i: i.start) if programme else []


def version_of(session: Session, station: str, week: IsoWeek = WEEK) -> int:
    return session.scalar(
        select(Programme.version).join(Station).where(Station.code == station, Programme.week == str(week))
    ) or 0


# --- the repeat rule (pure) --------------------------------------------------------------------------


def test_without_a_rule_the_emergency_plays_once_at_once() -> None:
    now = local(23, 9, 17)
    assert plays_for(now, RepeatRule()) == [now]


def test_hourly_rule_plays_now_then_on_the_hour_grid_until_the_end() -> None:
    now = local(23, 9, 20)
    plays = plays_for(now, RepeatRule(every_minutes=60, first_at=local(23, 7), until=local(23, 20)))
    assert plays[0] == now
    assert plays[1:] == [local(23, h) for h in range(10, 21)]


def test_a_repeat_due_minutes_after_the_immediate_play_is_dropped() -> None:
    now = local(23, 9, 58)
    plays = plays_for(now, RepeatRule(every_minutes=60, first_at=local(23, 7), until=local(23, 12)))
    assert plays == [now, local(23, 11), local(23, 12)]


def test_times_counts_every_play_including_the_first() -> None:
    now = local(23, 14, 5)
    plays = plays_for(now, RepeatRule(every_minutes=30, times=3))
    assert plays == [now, now + timedelta(minutes=30), now + timedelta(minutes=60)]


def test_a_rule_starting_later_today_still_plays_once_at_once() -> None:
    now = local(23, 6, 0)
    plays = plays_for(now, RepeatRule(every_minutes=60, first_at=local(23, 7), until=local(23, 9)))
    assert plays == [now, local(23, 7), local(23, 8), local(23, 9)]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (RepeatRule(every_minutes=2, times=3), "quá ngắn"),
        (RepeatRule(every_minutes=60, until=local(23, 8)), "đã qua"),
        (RepeatRule(until=local(23, 20)), "--every"),
        (RepeatRule(times=4), "--every"),
        (RepeatRule(every_minutes=60), "--until"),
        (RepeatRule(every_minutes=60, times=0), "từ 1 đến"),
        (RepeatRule(every_minutes=60, until=local(23, 9) + timedelta(days=8)), "7 ngày"),
    ],
)
def test_bad_rules_are_refused_in_vietnamese(rule: RepeatRule, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plays_for(local(23, 9), rule)


# --- placing plays in programmes ---------------------------------------------------------------------


def test_emergency_plays_at_once_on_every_target_station_only(world: sessionmaker[Session], clock: FakeClock) -> None:
    now = clock()
    with transaction(world) as s:
        row = start(s, "KC-BAO9", ["Ia Grai"], RepeatRule(), now)
        emergency_id = row.id
    with world() as s:
        for code in ("IAGRAI-01", "IAGRAI-02"):
            (item,) = items_of(s, code)
            assert (item.kind, item.priority, item.locked) == ("emergency", "khan_cap", True)
            assert item.start == now and item.end == now + timedelta(seconds=90)
            assert item.bulletin_code == "KC-BAO9" and item.title == STORM and item.audio_sha256
            assert version_of(s, code) == 1
        assert items_of(s, "CHUPAH-01") == []
        stored = s.get(Emergency, emergency_id)
        assert stored is not None and stored.repeat_count == 1 and stored.created_at == now


def test_hourly_emergency_puts_each_repeat_in_the_programme(world: sessionmaker[Session], clock: FakeClock) -> None:
    clock.current = local(23, 9, 20).astimezone(UTC)
    with transaction(world) as s:
        start(s, "KC-BAO9", ["*"], RepeatRule(every_minutes=60, first_at=local(23, 7), until=local(23, 20)), clock())
    with world() as s:
        starts = [i.start.astimezone(TZ) for i in items_of(s, "CHUPAH-01")]
        assert starts == [local(23, 9, 20)] + [local(23, h) for h in range(10, 21)]
        assert version_of(s, "CHUPAH-01") == 1  # one bump for the whole order


def test_emergency_bumps_versions_only_for_the_target_stations(world: sessionmaker[Session], clock: FakeClock) -> None:
    with transaction(world) as s:
        build_week(s, WEEK, clock(), TZ)
    clock.advance(hours=1)
    with transaction(world) as s:
        start(s, "KC-BAO9", ["IAGRAI-02"], RepeatRule(), clock())
    with world() as s:
        assert [version_of(s, c) for c in ("IAGRAI-01", "IAGRAI-02", "CHUPAH-01")] == [1, 2, 1]


def test_emergency_cuts_the_item_on_air_and_removes_those_due_in_its_slot(
    world: sessionmaker[Session], clock: FakeClock
) -> None:
    def bulletin(code: str, begin: datetime, seconds: int, locked: bool = False) -> ProgrammeItem:
        return ProgrammeItem(start=begin.astimezone(UTC), end=(begin + timedelta(seconds=seconds)).astimezone(UTC),
                             kind="bulletin", bulletin_code=code, title=NEWS, duration_ms=seconds * 1000,
                             audio_sha256="ab" * 32, locked=locked)

    with transaction(world) as s:
        station = s.scalars(select(Station).where(Station.code == "IAGRAI-01")).one()
        s.add(Programme(station=station, week=str(WEEK), version=4, built_at=clock(), items=[
            bulletin("A", local(23, 5, 30), 120),  # on air when the emergency comes
            bulletin("B", local(23, 5, 32) + timedelta(seconds=2), 60, locked=True),  # pinned, due in the slot
            bulletin("C", local(23, 5, 40), 120),  # after the slot
        ]))
    clock.current = local(23, 5, 31).astimezone(UTC)
    with transaction(world) as s:
        start(s, "KC-BAO9", ["IAGRAI-01"], RepeatRule(), clock())
    with world() as s:
        shape = [(i.kind, i.bulletin_code, i.start.astimezone(TZ), i.end.astimezone(TZ))
                 for i in items_of(s, "IAGRAI-01")]
        assert version_of(s, "IAGRAI-01") == 5
    assert shape == [
        ("bulletin", "A", local(23, 5, 30), local(23, 5, 31)),
        ("emergency", "KC-BAO9", local(23, 5, 31), local(23, 5, 32) + timedelta(seconds=30)),
        ("bulletin", "C", local(23, 5, 40), local(23, 5, 42)),
    ]


def test_a_relay_block_is_split_around_the_emergency(world: sessionmaker[Session], clock: FakeClock) -> None:
    with transaction(world) as s:
        station = s.scalars(select(Station).where(Station.code == "CHUPAH-01")).one()
        programme = Programme(station=station, week=str(WEEK), version=1, built_at=clock(), items=[
            ProgrammeItem(start=local(23, 17).astimezone(UTC), end=local(23, 17, 30).astimezone(UTC), kind="relay",
                          title="Thời sự VOV", stream_url="http://vov.example/live", duration_ms=1_800_000),
        ])
        s.add(programme)
    clock.current = local(23, 16, 50).astimezone(UTC)
    rule = RepeatRule(every_minutes=30, first_at=local(23, 17, 10), times=2)
    with transaction(world) as s:
        start(s, "KC-LU", ["CHUPAH-01"], rule, clock())
    with world() as s:
        shape = [(i.kind, i.start.astimezone(TZ), i.end.astimezone(TZ)) for i in items_of(s, "CHUPAH-01")]
    assert shape == [
        ("emergency", local(23, 16, 50), local(23, 16, 51)),
        ("relay", local(23, 17), local(23, 17, 10)),
        ("emergency", local(23, 17, 10), local(23, 17, 11)),
        ("relay", local(23, 17, 11), local(23, 17, 30)),
    ]


def test_two_emergencies_at_once_play_back_to_back(world: sessionmaker[Session], clock: FakeClock) -> None:
    now = clock()
    with transaction(world) as s:
        start(s, "KC-BAO9", ["CHUPAH-01"], RepeatRule(), now)
        start(s, "KC-LU", ["CHUPAH-01"], RepeatRule(), now)
    with world() as s:
        first, second = items_of(s, "CHUPAH-01")
    assert (first.bulletin_code, second.bulletin_code) == ("KC-BAO9", "KC-LU")
    assert second.start == first.end + timedelta(seconds=2)


def test_emergency_across_sunday_midnight_lands_in_both_weeks(world: sessionmaker[Session], clock: FakeClock) -> None:
    clock.current = local(29, 23, 30).astimezone(UTC)  # Sunday night
    until = datetime(2026, 11, 30, 1, 0, tzinfo=TZ)  # Monday 01:00
    with transaction(world) as s:
        start(s, "KC-BAO9", ["CHUPAH-01"], RepeatRule(every_minutes=60, first_at=local(29, 23, 30), until=until),
              clock())
    with world() as s:
        this_week = [i.start.astimezone(TZ) for i in items_of(s, "CHUPAH-01", WEEK)]
        next_week = [i.start.astimezone(TZ) for i in items_of(s, "CHUPAH-01", WEEK.next())]
    assert this_week == [local(29, 23, 30)]
    assert next_week == [datetime(2026, 11, 30, 0, 30, tzinfo=TZ)]


def test_rebuild_keeps_the_emergency_and_plans_around_it(world: sessionmaker[Session], clock: FakeClock) -> None:
    clock.current = local(23, 16, 0).astimezone(UTC)
    with transaction(world) as s:
        start(s, "KC-BAO9", ["IAGRAI-01"], RepeatRule(every_minutes=30, first_at=local(23, 17), times=3), clock())
    with transaction(world) as s:
        build_week(s, WEEK, clock(), TZ)
    with world() as s:
        items = items_of(s, "IAGRAI-01")
    emergency = [i.start.astimezone(TZ) for i in items if i.kind == "emergency"]
    assert emergency == [local(23, 16), local(23, 17), local(23, 17, 30)]
    for a, b in zip(items, items[1:], strict=False):
        assert a.end <= b.start, f"{a.kind} {a.start} overlaps {b.kind} {b.start}"
    assert any(i.kind == "bulletin" for i in items)


def test_emergency_needs_an_approved_bulletin_with_audio_and_stores_nothing_otherwise(
    world: sessionmaker[Session], clock: FakeClock
) -> None:
    with transaction(world) as s:
        add_bulletin(s, "KC-NHAP", STORM, clock(), status="cho_duyet")
        add_bulletin(s, "KC-CAM", STORM, clock(), duration_ms=None)
    for code, message in (("KC-NHAP", "Chờ duyệt"), ("KC-CAM", "chưa có âm thanh")):
        with pytest.raises(ValueError, match=message), transaction(world) as s:
            start(s, code, ["*"], RepeatRule(), clock())
    with pytest.raises(ValueError, match="Xã Không Có"), transaction(world) as s:
        start(s, "KC-BAO9", ["Xã Không Có"], RepeatRule(), clock())
    with world() as s:
        assert s.scalar(select(func.count()).select_from(Emergency)) == 0
        assert s.scalar(select(func.count()).select_from(Programme)) == 0


def test_a_bulletin_already_airing_as_emergency_cannot_be_started_twice(
    world: sessionmaker[Session], clock: FakeClock
) -> None:
    with transaction(world) as s:
        first = start(s, "KC-BAO9", ["*"], RepeatRule(every_minutes=60, times=3), clock()).id
    with pytest.raises(ValueError, match=f"lệnh số {first}"), transaction(world) as s:
        start(s, "KC-BAO9", ["*"], RepeatRule(), clock())


def test_interval_shorter_than_the_bulletin_is_refused(world: sessionmaker[Session], clock: FakeClock) -> None:
    with transaction(world) as s:
        add_bulletin(s, "KC-DAI", STORM, clock(), duration_ms=8 * 60_000)
    with pytest.raises(ValueError, match="ngắn hơn thời lượng"), transaction(world) as s:
        start(s, "KC-DAI", ["*"], RepeatRule(every_minutes=5, times=2), clock())


# --- cancel, list, audit, play log -------------------------------------------------------------------


def test_cancel_removes_only_plays_not_yet_started_and_bumps_versions(
    world: sessionmaker[Session], clock: FakeClock
) -> None:
    clock.current = local(23, 9, 0).astimezone(UTC)
    with transaction(world) as s:
        emergency_id = start(s, "KC-BAO9", ["Chư Păh"], RepeatRule(every_minutes=60, until=local(23, 13)),
                             clock()).id
    clock.current = local(23, 10, 30).astimezone(UTC)
    with transaction(world) as s:
        row = s.get(Emergency, emergency_id)
        assert row is not None
        touched = cancel_emergency(s, row, None, clock())
    assert touched == ["CHUPAH-01"]
    with world() as s:
        left = [i.start.astimezone(TZ) for i in items_of(s, "CHUPAH-01")]
        assert left == [local(23, 9), local(23, 10)]
        assert version_of(s, "CHUPAH-01") == 2
        assert list_active(s, clock()) == []
        row = s.get(Emergency, emergency_id)
        assert row is not None and row.cancelled_at == clock()
    with pytest.raises(ValueError, match="đã được hủy"), transaction(world) as s:
        row = s.get(Emergency, emergency_id)
        assert row is not None
        cancel_emergency(s, row, None, clock())


def test_list_active_shows_an_emergency_until_its_last_play_ends(world: sessionmaker[Session], clock: FakeClock) -> None:
    with transaction(world) as s:
        start(s, "KC-LU", ["*"], RepeatRule(every_minutes=30, times=2), clock())
    plays_end = clock() + timedelta(minutes=30, seconds=60)
    clock.current = plays_end - timedelta(seconds=1)
    with world() as s:
        assert [e.bulletin.code for e in list_active(s, clock())] == ["KC-LU"]
    clock.current = plays_end
    with world() as s:
        assert list_active(s, clock()) == []


def test_stored_rule_gives_back_the_same_plays(world: sessionmaker[Session], clock: FakeClock) -> None:
    clock.current = local(23, 9, 58).astimezone(UTC)
    rule = RepeatRule(every_minutes=60, first_at=local(23, 7), until=local(23, 20))
    with transaction(world) as s:
        emergency_id = start(s, "KC-BAO9", ["*"], rule, clock()).id
    with world() as s:
        row = s.get(Emergency, emergency_id)
        assert row is not None
        assert emergency_plays(row) == plays_for(clock(), rule)


def test_start_and_cancel_are_audited(world: sessionmaker[Session], clock: FakeClock) -> None:
    with transaction(world) as s:
        emergency_id = start(s, "KC-BAO9", ["Ia Grai"], RepeatRule(every_minutes=60, times=2), clock()).id
    clock.advance(minutes=5)
    with transaction(world) as s:
        row = s.get(Emergency, emergency_id)
        assert row is not None
        cancel_emergency(s, row, None, clock())
    with world() as s:
        rows = s.scalars(select(AuditLog).order_by(AuditLog.id)).all()
    assert [r.action for r in rows] == ["emergency.start", "emergency.cancel"]
    assert rows[0].after is not None and rows[0].after["stations"] == ["IAGRAI-01", "IAGRAI-02"]
    assert rows[1].after is not None and rows[1].after["removed_plays"] == 2
    assert rows[0].username == "hệ thống"


def test_an_emergency_play_reaches_the_play_log_as_emergency(world: sessionmaker[Session], clock: FakeClock) -> None:
    with transaction(world) as s:
        start(s, "KC-BAO9", ["CHUPAH-01"], RepeatRule(), clock())
    with transaction(world) as s:
        (item,) = items_of(s, "CHUPAH-01")
        station = s.scalars(select(Station).where(Station.code == "CHUPAH-01")).one()
        ingest(s, station, [{"play_id": "p-1", "item_id": item.id, "actual_start": clock().isoformat(),
                             "played_ms": 90_000, "result": "played"}], clock())
    with world() as s:
        log = s.scalars(select(PlayLog)).one()
    assert (log.kind, log.priority, log.bulletin_code, log.topic) == ("emergency", "khan_cap", "KC-BAO9", "khan_cap")


def test_announce_without_a_reachable_broker_reports_false_and_never_raises(
    world: sessionmaker[Session], clock: FakeClock, settings: Settings
) -> None:
    with transaction(world) as s:
        emergency_id = start(s, "KC-BAO9", ["*"], RepeatRule(), clock()).id
    with world() as s:
        row = s.get(Emergency, emergency_id)
        assert row is not None
        assert announce(replace(settings, mqtt_url=None), row, ["CHUPAH-01"], clock()) is False
        # Nobody listens on port 9: the programme already carries the emergency, so this must not raise.
        assert announce(replace(settings, mqtt_url="mqtt://127.0.0.1:9"), row, ["CHUPAH-01"], clock()) is False


@pytest.mark.mqtt
def test_announce_sends_a_play_now_command_to_each_target_station(
    world: sessionmaker[Session], clock: FakeClock, settings: Settings
) -> None:
    import threading

    import paho.mqtt.client as mqtt

    from scheduler.delivery.mqtt_topics import station_topics

    with transaction(world) as s:
        emergency_id = start(s, "KC-BAO9", ["CHUPAH-01"], RepeatRule(), clock()).id
    received: list[dict[str, object]] = []
    subscribed, got = threading.Event(), threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)  # type: ignore[attr-defined]
    client.on_subscribe = lambda *_args: subscribed.set()

    def on_message(_client: object, _userdata: object, message: mqtt.MQTTMessage) -> None:
        received.append(json.loads(message.payload))
        got.set()

    client.on_message = on_message
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    try:
        with world() as s:
            row = s.get(Emergency, emergency_id)
            station = s.scalars(select(Station).where(Station.code == "CHUPAH-01")).one()
            assert row is not None
            client.subscribe(station_topics(station).cmd, qos=1)
            assert subscribed.wait(10)
            assert announce(replace(settings, mqtt_url="mqtt://127.0.0.1:1883"), row, ["CHUPAH-01"], clock())
        assert got.wait(10)
    finally:
        client.loop_stop()
        client.disconnect()
    assert "KC-BAO9" in json.dumps(received[0], ensure_ascii=False)


# --- `loaxa emergency start|list|cancel` (real clock: assertions only relate plays to each other) ---


def _cli(settings: Settings, *args: str, stdin: str | None = None) -> Result:
    from click.testing import CliRunner

    from web.cli import main

    env = {"LOAXA_DATABASE_URL": settings.database_url, "LOAXA_DATA_DIR": str(settings.data_dir),
           "LOAXA_MEDIA_DIR": str(settings.media_dir), "LOAXA_TTS_ENGINES": "espeak"}
    return CliRunner().invoke(main, list(args), env=env, input=stdin, catch_exceptions=False)


def test_emergency_commands_start_list_and_cancel(world: sessionmaker[Session], settings: Settings) -> None:
    started = _cli(settings, "emergency", "start", "--bulletin", "KC-BAO9", "--targets", "Ia Grai,CHUPAH-01",
                   "--every", "60", "--times", "3", "--yes")
    assert started.exit_code == 0, started.output
    assert "3 đài, 3 lần phát" in started.output
    with world() as s:
        row = s.scalars(select(Emergency)).one()
        plays = emergency_plays(row)
        assert [b - a for a, b in zip(plays, plays[1:], strict=False)] == [timedelta(hours=1)] * 2
        assert s.scalar(select(func.count()).select_from(ProgrammeItem).where(ProgrammeItem.kind == "emergency")) == 9
        assert row.origin == "cli"
    listed = _cli(settings, "emergency", "list")
    assert f"#{row.id}  [Đang chạy]  KC-BAO9" in listed.output and "3 lần" in listed.output
    cancelled = _cli(settings, "emergency", "cancel", str(row.id))
    assert cancelled.exit_code == 0 and "3 đài được cập nhật" in cancelled.output
    assert "Không có lệnh khẩn cấp nào" in _cli(settings, "emergency", "list").output
    with world() as s:
        assert s.scalar(select(func.count()).select_from(ProgrammeItem).where(ProgrammeItem.kind == "emergency")) == 3


def test_typed_words_from_stdin_start_an_emergency_and_status_prints_every_station(
        world: sessionmaker[Session], settings: Settings) -> None:
    refused = _cli(settings, "emergency", "start", "--text", "-", "--targets", "Ia Grai", stdin=STORM + "\n")
    assert refused.exit_code == 1 and "Máy sẽ đọc:" in refused.output  # asked, no answer: nothing airs
    with world() as s:
        assert s.scalar(select(func.count()).select_from(Emergency)) == 0
    started = _cli(settings, "emergency", "start", "--text", "-", "--targets", "Ia Grai", "--yes",
                   "--own-volume", "--expires", "30", stdin=STORM + "\n")
    assert started.exit_code == 0, started.output
    assert "Máy sẽ đọc: Cảnh báo bão số chín" in started.output and "2 đài, 1 lần phát" in started.output
    with world() as s:
        row = s.scalars(select(Emergency)).one()
        assert (row.full_volume, row.expires_minutes, row.bulletin.text) == (False, 30, STORM)
        assert row.bulletin.audio is not None and row.bulletin.audio.engine == "espeak"
    status = _cli(settings, "emergency", "status", str(row.id), "--format", "json")
    board = json.loads(status.output)
    assert board["headline"] == "0/2 đài đã phát"
    assert [(r["station"], r["state"]) for r in board["rows"]] == [("IAGRAI-01", "cho_gui"), ("IAGRAI-02", "cho_gui")]
    text = _cli(settings, "emergency", "status", str(row.id)).output
    assert "0/2 đài đã phát" in text and "IAGRAI-01" in text and "Chờ gửi" in text


def test_emergency_command_errors_are_clear_and_store_nothing(world: sessionmaker[Session], settings: Settings) -> None:
    missing = _cli(settings, "emergency", "start", "--bulletin", "KHONG-CO", "--targets", "*", "--yes")
    assert missing.exit_code == 1 and "KHONG-CO" in missing.output
    bad_time = _cli(settings, "emergency", "start", "--bulletin", "KC-BAO9", "--targets", "*", "--every", "60",
                    "--until", "25:00", "--yes")
    assert bad_time.exit_code == 2 and "25:00" in bad_time.output
    no_end = _cli(settings, "emergency", "start", "--bulletin", "KC-BAO9", "--targets", "*", "--every", "60", "--yes")
    assert no_end.exit_code == 1 and "--until" in no_end.output
    two = _cli(settings, "emergency", "start", "--bulletin", "KC-BAO9", "--text", "-", "--targets", "*", stdin="x")
    assert two.exit_code == 2 and "đúng một nội dung" in two.output
    assert "số 99" in _cli(settings, "emergency", "cancel", "99").output
    with world() as s:
        assert s.scalar(select(func.count()).select_from(Emergency)) == 0


def test_starting_an_emergency_takes_as_many_queries_for_many_stations_as_for_few(
        world: sessionmaker[Session], clock: FakeClock) -> None:
    """A province has thousands of stations: programmes, plays and board rows go in batches, not one by one.
    (SQLite's driver inserts rows one statement at a time; PostgreSQL batches those too.)"""
    from sqlalchemy import event

    def queries_to_start(code: str) -> tuple[int, int]:
        """(statements other than INSERT, INSERT statements) of one start on every station."""
        statements: list[str] = []
        with transaction(world) as s:
            add_bulletin(s, code, f"{STORM} Bản tin {code}.", clock())
        with transaction(world) as s:
            engine = s.get_bind()
            listener = lambda *args: statements.append(args[2])  # noqa: E731
            event.listen(engine, "before_cursor_execute", listener)
            try:
                start(s, code, ["*"], RepeatRule(), clock())
                s.flush()
            finally:
                event.remove(engine, "before_cursor_execute", listener)
        clock.advance(minutes=5)
        inserts = sum(1 for q in statements if q.lstrip().upper().startswith("INSERT"))
        return len(statements) - inserts, inserts

    queries_to_start("KC-T1")  # every station now holds a programme
    few = queries_to_start("KC-T2")
    with transaction(world) as s:
        station = s.scalars(select(Station)).first()
        assert station is not None
        for n in range(12):  # five times as many stations
            s.add(Station(code=f"IAGRAI-X{n:02d}", name=f"Cụm loa {n}", commune_id=station.commune_id, status={}))
    queries_to_start("KC-T3")
    many = queries_to_start("KC-T4")
    with world() as s:
        assert s.scalar(select(func.count()).select_from(ProgrammeItem).where(ProgrammeItem.kind == "emergency")) \
            == 3 + 3 + 15 + 15
    assert many[0] == few[0]
    if world.kw["bind"].dialect.name == "postgresql":
        assert many[1] == few[1]
