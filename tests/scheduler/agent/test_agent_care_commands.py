"""Care commands arriving on the MQTT cmd topic, decided by the agent with an injected `now`: what it
cannot do is answered `failed` with the reason, a late command is not obeyed, each id is obeyed once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scheduler import wire
from scheduler.agent.agent import Agent, AgentConfig
from scheduler.agent.care import CareConfig
from scheduler.agent.players import NullPlayer
from tests.fake_clock import FakeClock

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


def agent_for(tmp_path: Path, clock: FakeClock, care: CareConfig) -> Agent:
    config = AgentConfig(server="http://127.0.0.1:9", station="GL-01", token="t", cache_dir=tmp_path / "cache",
                         mqtt=False, care=care)
    return Agent(config, clock=clock, player=NullPlayer(clock))


def deliver(agent: Agent, command: wire.Command, now: datetime) -> None:
    agent.deliver("loaxa/gia-lai/GL-01/cmd", command.to_json())
    agent.tick_playback(now)


def test_care_commands_over_mqtt_are_answered_even_when_the_box_cannot_obey(tmp_path: Path) -> None:
    clock = FakeClock(NOW)
    amp = tmp_path / "amp.txt"
    agent = agent_for(tmp_path, clock, CareConfig(amplifier_cmd=f"sh -c 'echo -n {{state}} > {amp}'"))
    on = wire.Command.make("amplifier", NOW, state="on")
    deliver(agent, on, NOW)
    deliver(agent, on, NOW)  # QoS 1 may deliver twice: obeyed once
    reboot = wire.Command.make("reboot", NOW)
    deliver(agent, reboot, NOW)
    late = wire.Command.make("volume", NOW - timedelta(hours=1), timedelta(minutes=30), volume=10)
    deliver(agent, late, NOW)
    assert amp.read_text() == "on"
    assert agent.status(NOW)["amplifier"] == "on" and agent.volume == 80
    assert [(r["kind"], r["result"], r["message"]) for r in agent.care.results()] == [
        ("volume", "failed", "Lệnh đến đầu thu quá muộn (đã hết hạn) nên không thực hiện."),
        ("reboot", "failed", "Đầu thu chưa cấu hình lệnh khởi động lại (--reboot-cmd)."),
        ("amplifier", "ok", "Đã bật ampli."),
    ]
    assert agent.status(NOW)["care"] == agent.care.results()
    agent.shutdown()


def test_a_failing_box_command_is_reported_with_its_output(tmp_path: Path) -> None:
    clock = FakeClock(NOW)
    agent = agent_for(tmp_path, clock, CareConfig(amplifier_cmd="sh -c 'echo relay hỏng >&2; exit 3'"))
    deliver(agent, wire.Command.make("amplifier", NOW, state="off"), NOW)
    [result] = agent.care.results()
    assert result["result"] == "failed" and "(mã 3): relay hỏng" in result["message"]
    assert agent.status(NOW)["amplifier"] == "unknown"
    agent.shutdown()


def test_a_restart_stops_the_loop_with_the_restart_code_and_is_done_at_the_next_start(tmp_path: Path) -> None:
    clock = FakeClock(NOW)
    agent = agent_for(tmp_path, clock, CareConfig())
    stop = threading.Event()
    command = wire.Command.make("restart", NOW)
    agent.deliver("loaxa/gia-lai/GL-01/cmd", command.to_json())
    agent.run_forever(stop, threaded=False, tick=0)
    assert stop.is_set() and agent.exit_code == wire.RESTART_EXIT_CODE
    again = agent_for(tmp_path, clock, CareConfig())
    assert [(r["id"], r["result"]) for r in again.care.results()] == [(command.id, "ok")]
    again.shutdown()


def test_malformed_care_commands_are_refused_at_the_door() -> None:
    for body, message in ((b'{"kind": "amplifier", "state": "max"}', "Trạng thái ampli «max» không hợp lệ"),
                          (b'{"kind": "update", "sha256": null}', "thiếu package_url, sha256 hoặc version")):
        with pytest.raises(ValueError, match=message):
            wire.Command.from_json(body)
