"""Remote care with real processes: `loaxa care` on the server, a `loaxa agent` process obeying over the
HTTP fallback (no MQTT), its configured reboot and amplifier commands, a restart that really exits and
comes back, and each result reported back to the server."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from care_world import agent_args, loaxa_serve, run_cli, start_agent
from delivery_world import add_station, free_port, wait_for
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler import wire
from scheduler.db.models import Station, StationCommand
from scheduler.db.session import transaction
from scheduler.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("backend", ["postgresql"], indirect=True)]
CODE = "GL-IAGRAI-01"


def station_status(sessions: sessionmaker[Session]) -> dict[str, object]:
    with sessions() as s:
        return dict(s.scalars(select(Station.status).where(Station.code == CODE)).one() or {})


def results(sessions: sessionmaker[Session]) -> list[tuple[str, str, str]]:
    with sessions() as s:
        return [(r.kind, r.result, r.message) for r in s.scalars(select(StationCommand).order_by(StationCommand.id))]


def test_volume_amplifier_reboot_resync_and_restart_on_a_real_agent(
        settings: Settings, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    with transaction(sessions) as s:
        _station, token = add_station(s, CODE, now, commune="Xã Ia Grai")
    port, cache, log = free_port(), tmp_path / "cache", tmp_path / "processes.log"
    amp, rebooted = tmp_path / "amplifier.txt", tmp_path / "rebooted.txt"
    py = sys.executable
    extra = ["--amplifier-cmd", f"{py} -c \"import sys; open('{amp}', 'w').write(sys.argv[1])\" {{state}}",
             "--reboot-cmd", f"{py} -c \"open('{rebooted}', 'w').write('yes')\""]
    url = f"http://127.0.0.1:{port}"
    with loaxa_serve(settings, port, log):
        agent = start_agent(agent_args(url, CODE, token, cache, *extra), log)
        try:
            wait_for(lambda: station_status(sessions).get("agent_version"), timeout=60, step=0.2)
            answer = run_cli(settings, "care", CODE, "volume", "35", "--wait", "60")
            assert answer.output.endswith("Đầu thu trả lời: Xong. Đã đặt âm lượng 35.\n"), log.read_text()
            wait_for(lambda: station_status(sessions).get("volume") == 35, timeout=30, step=0.2)

            answer = run_cli(settings, "care", CODE, "amplifier", "off", "--wait", "60")
            assert answer.output.endswith("Đầu thu trả lời: Xong. Đã tắt ampli.\n"), log.read_text()
            assert amp.read_text() == "off"
            wait_for(lambda: station_status(sessions).get("amplifier") == "off", timeout=30, step=0.2)

            assert run_cli(settings, "care", CODE, "resync", "--wait", "60").output.endswith(
                "Đầu thu trả lời: Xong. Đã kiểm tra lại lịch phát và âm thanh; mọi tệp đều đúng.\n")

            # The box runs its reboot command and reports the reboot under way; it is done once the
            # agent runs again (here the test stands in for the boot by starting the agent).
            run_cli(settings, "care", CODE, "reboot")
            wait_for(lambda: ("reboot", "running", "Đang khởi động lại đầu thu.") in results(sessions), timeout=60)
            assert rebooted.read_text() == "yes"

            # A restart: the process exits with RESTART_EXIT_CODE, and reports done once started again.
            run_cli(settings, "care", CODE, "restart")
            assert agent.wait(timeout=60) == wire.RESTART_EXIT_CODE, log.read_text()
            agent = start_agent(agent_args(url, CODE, token, cache, *extra), log)
            wait_for(lambda: ("restart", "ok", "Phần mềm đầu thu đã chạy lại.") in results(sessions), timeout=60)
            assert ("reboot", "ok", "Đầu thu đã khởi động lại và phần mềm đã chạy.") in results(sessions)
            assert station_status(sessions).get("volume") == 35  # kept across the restart
        finally:
            agent.terminate()
            agent.wait(timeout=30)
    history = run_cli(settings, "care", CODE, "history").output
    assert "Khởi động lại phần mềm  Xong" in history and "Bật/tắt ampli  Xong  Đã tắt ampli." in history
