"""Emergencies on a box, on a fake clock against the real server: the HTTP path, expiry, full volume
restored, reports kept through an outage, and reports over a real broker's event topic."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from agent_world import CODE, Station, make_agent
from delivery_world import Broker, ServerThread, add_asset, make_mp3, wait_for
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.agent.agent import Agent
from scheduler.db.models import Bulletin, Emergency, EmergencyStation
from scheduler.db.session import transaction
from scheduler.delivery.status_listener import StatusListener
from scheduler.emergencies import RepeatRule, start_emergency
from scheduler.emergencies.tracking import board
from scheduler.settings import Settings
from scheduler.wire import EmergencyReport
from tests.fake_clock import FakeClock


def start(sessions: sessionmaker[Session], media_dir: Path, now: datetime, *, full_volume: bool = True,
          expires: int = 15) -> tuple[int, str]:
    with transaction(sessions) as s:
        asset = add_asset(s, media_dir, make_mp3(4.0, 880), now, 4000)
        bulletin = Bulletin(code=f"KC-{now:%H%M%S}", title="Cảnh báo lũ quét", topic="khan_cap", priority="khan_cap",
                            valid_from=date(2026, 11, 22), valid_to=date(2026, 11, 30), targets=["*"],
                            status="da_duyet", audio=asset, created_at=now, updated_at=now)
        s.add(bulletin)
        s.flush()
        emergency = start_emergency(s, bulletin, [CODE], RepeatRule(), None, now, full_volume=full_volume,
                                    expires_minutes=expires)
        return emergency.id, asset.sha256


def row(sessions: sessionmaker[Session], emergency: int) -> EmergencyStation:
    with sessions() as s:
        return s.scalars(select(EmergencyStation).where(EmergencyStation.emergency_id == emergency)).one()


def shown(sessions: sessionmaker[Session], emergency: int, now: datetime) -> str:
    with sessions() as s:
        return board(s, s.get_one(Emergency, emergency), now).rows[0].state


def run_for(agent: Agent, clock: FakeClock, seconds: int) -> None:
    for _ in range(seconds):
        clock.advance(seconds=1)
        agent.run_once(clock())


def test_a_box_without_mqtt_learns_of_it_on_its_next_contact_reports_each_step_and_gets_its_volume_back(
        settings: Settings, station: Station, sessions: sessionmaker[Session], clock: FakeClock, media_dir: Path,
        tmp_path: Path) -> None:
    with ServerThread(settings, clock) as server:
        agent = make_agent(server.url, station.token, tmp_path / "cache", clock)
        agent.run_once(clock())  # synced; its status went out just now
        started = clock()
        emergency, sha = start(sessions, media_dir, started)
        assert row(sessions, emergency).state == "cho_gui"  # no broker here: nothing sent yet
        run_for(agent, clock, 30)
        assert row(sessions, emergency).state == "cho_gui"  # no contact yet
        run_for(agent, clock, 31)  # the next status answer (every 60 s) carries the play
        got = row(sessions, emergency)
        assert (got.state, got.via, got.sent_at) == ("dang_phat", "http", started + timedelta(seconds=60))
        assert got.received_at == got.started_at == got.sent_at  # obeyed in the same step
        source, length, volume = agent.player.started[-1]
        assert (source, length, volume) == (str(agent.cache.path(sha)), 4000, 100)  # full volume for the warning
        run_for(agent, clock, 6)
        done = row(sessions, emergency)
        assert (done.state, done.plays) == ("da_phat", 1) and done.ended_at is not None
        # The next programme item plays at the station's own volume again.
        clock.current = station.starts[0]
        agent.run_once(clock())
        assert agent.player.started[-1][0] == str(agent.cache.path(station.assets["short"].sha256))
        assert agent.player.started[-1][2] == agent.volume == 80
        agent.shutdown()


def test_a_box_back_after_the_play_expired_does_not_air_it_and_the_board_says_unreachable(
        settings: Settings, station: Station, sessions: sessionmaker[Session], clock: FakeClock, media_dir: Path,
        tmp_path: Path) -> None:
    with ServerThread(settings, clock) as server:
        agent = make_agent(server.url, station.token, tmp_path / "cache", clock)
        agent.run_once(clock())
        emergency, sha = start(sessions, media_dir, clock(), expires=15)
        clock.advance(minutes=14)
        assert shown(sessions, emergency, clock()) == "cho_gui"
        clock.advance(minutes=2)  # the box was off the whole time; the play has expired
        assert shown(sessions, emergency, clock()) == "khong_toi"
        run_for(agent, clock, 130)  # it comes back: status, then the programme with the old warning
        assert all(started[0] != str(agent.cache.path(sha)) for started in agent.player.started)
        agent.syncer.upload(clock(), force=True)
        stored = row(sessions, emergency)
        assert stored.state == "khong_toi" and "không hoạt động" in stored.reason or "Quá giờ" in stored.reason
        agent.shutdown()


class Outage(requests.Session):
    """Refuses the emergency-report path while `down` is set (the rest of the API works)."""

    down = True

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if self.down and str(url).endswith("/emergency-reports"):
            raise requests.ConnectionError("mạng chập chờn")
        return super().request(method, url, *args, **kwargs)


def test_reports_wait_in_the_box_through_an_outage_and_arrive_after(
        settings: Settings, station: Station, sessions: sessionmaker[Session], clock: FakeClock, media_dir: Path,
        tmp_path: Path) -> None:
    http = Outage()
    with ServerThread(settings, clock) as server:
        agent = make_agent(server.url, station.token, tmp_path / "cache", clock, http=http)
        agent.run_once(clock())
        emergency, _ = start(sessions, media_dir, clock())
        run_for(agent, clock, 70)
        assert [r["state"] for r in agent.reports.pending()] == ["received", "playing", "played"]
        assert row(sessions, emergency).state == "da_gui"  # the server handed it over; nothing came back yet
        http.down = False
        clock.advance(minutes=6)  # past the agent's back-off
        agent.run_once(clock())
        assert agent.reports.pending() == []
        assert (row(sessions, emergency).state, row(sessions, emergency).plays) == ("da_phat", 1)
        agent.shutdown()


def test_a_report_on_the_event_topic_reaches_the_board_through_the_listener(
        settings: Settings, station: Station, sessions: sessionmaker[Session], clock: FakeClock, media_dir: Path,
        tmp_path: Path) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    emergency, _ = start(sessions, media_dir, clock())
    with Broker(tmp_path) as broker:
        listener = StatusListener(broker.url, sessions, clock)
        listener.start()
        publisher = mqtt.Client(CallbackAPIVersion.VERSION2)
        publisher.connect("127.0.0.1", broker.port)
        publisher.loop_start()
        try:
            report = EmergencyReport(id="r1", emergency=emergency, state="playing", at=clock().isoformat(), airing=0)
            wait_for(lambda: listener.client.is_connected(), timeout=20)

            def delivered() -> bool:
                publisher.publish(f"loaxa/gia-lai/xa-ia-der/{CODE}/event", report.to_json(), qos=1)
                return row(sessions, emergency).state == "dang_phat"

            wait_for(delivered, timeout=20, step=0.5)
            bad = b'{"emergency": "x"}'
            publisher.publish(f"loaxa/gia-lai/xa-ia-der/{CODE}/event", bad, qos=1).wait_for_publish(5)
        finally:
            publisher.disconnect()
            publisher.loop_stop()
            listener.stop()
    assert row(sessions, emergency).started_at == clock()


def test_the_start_time_passed_to_the_report_rules_is_the_play_not_the_arrival() -> None:
    # A report naming no airing is matched by its scheduled instant (programme items carry no airing).
    report = EmergencyReport.from_dict({"id": "x", "emergency": 3, "state": "played", "at": "2026-11-23T05:00:00+07:00",
                                        "scheduled": "2026-11-23T06:00:02+07:00"})
    assert report.airing is None and report.scheduled == "2026-11-23T06:00:02+07:00"
    with pytest.raises(ValueError, match="Trạng thái"):
        EmergencyReport.from_dict({"id": "x", "emergency": 3, "state": "done", "at": "2026-11-23T05:00:00+07:00"})
    with pytest.raises(ValueError, match="múi giờ"):
        EmergencyReport.from_dict({"id": "x", "emergency": 3, "state": "played", "at": "2026-11-23T05:00:00"})
