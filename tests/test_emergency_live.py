"""Emergencies end to end with real processes: a private Mosquitto, `loaxa serve`, `loaxa agent` boxes
(some on MQTT, some HTTP only) and the `loaxa` command itself.

- typed words to played: `loaxa emergency start --text -` → play-now over MQTT (QoS 1) to one box,
  the next HTTP contact for a box without MQTT; each reports received/playing/played; a box whose
  player fails reports the reason; a box that never answers stays "sent";
- a CAP alert imported as pending, released by an approver, then held, resumed and cancelled while
  the boxes play it.
The proof is read back with `loaxa emergency status ID --format json`. The processes run on the
wall clock, so every wait is a timeout, never a timing assertion. Expiry and volume are tested on
a fake clock in tests/scheduler/agent/test_agent_emergency.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).parent / "scheduler" / "delivery"))
from delivery_world import Broker, add_station, free_port, wait_for, wait_port  # noqa: E402

from scheduler.accounts import hash_password  # noqa: E402
from scheduler.db.models import User  # noqa: E402
from scheduler.db.session import transaction  # noqa: E402
from scheduler.settings import Settings  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.mqtt, pytest.mark.parametrize("backend", ["postgresql"], indirect=True)]
LOAXA = [str(Path(sys.executable).with_name("loaxa"))] if Path(sys.executable).with_name("loaxa").exists() \
    else [sys.executable, "-m", "web.cli"]
# Long enough (about a minute of speech) that a hold reaches the boxes while they still play it.
DESCRIPTION = " ".join([
    "Mưa lớn kéo dài, lượng mưa trên 150 mi li mét trong 24 giờ tới.",
    "Nguy cơ lũ quét rất cao ở các làng ven suối; nước có thể dâng nhanh trong vài giờ.",
    "Các thôn Plei Ơi, làng Bàu, làng Bông cần theo dõi mực nước suối liên tục, cử người trực suốt đêm.",
    "Không đi qua ngầm tràn, không vớt củi trên suối, không cho trẻ em tắm suối.",
    "Chuẩn bị lương thực, nước uống, thuốc men, đèn pin cho ít nhất ba ngày.",
    "Khi nghe kẻng báo động, bà con di chuyển ngay lên nhà văn hóa thôn hoặc trường học.",
] * 2)
WARNING = ("Cảnh báo khẩn: bão số 9 đổ bộ vào đất liền lúc 17h30 hôm nay. Bà con không ra khơi, "
           "chằng chống nhà cửa, di dời khỏi vùng trũng thấp.")


@dataclass
class Live:
    settings: Settings
    env: dict[str, str]
    url: str
    broker: Broker
    tokens: dict[str, str]
    workdir: Path
    log: Path
    agents: list[subprocess.Popen[bytes]]
    sessions: sessionmaker[Session]

    def loaxa(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run([*LOAXA, *args], env=self.env, input=stdin.encode() if stdin else None,
                              capture_output=True, timeout=120)
        assert done.returncode == 0, (done.stdout + done.stderr).decode()
        return done.stdout.decode()

    def agent(self, code: str, *, mqtt: bool, player: list[str] | None = None) -> None:
        args = [*LOAXA, "agent", "--server", self.url, "--station", code, "--token", self.tokens[code],
                "--cache", str(self.workdir / f"cache-{code}"), "--poll", "5", "--upload-every", "1",
                "--status-every", "5", *(player or ["--player", "null"])]
        args += ["--mqtt", self.broker.url] if mqtt else ["--no-mqtt"]
        with open(self.log, "ab") as out:
            self.agents.append(subprocess.Popen(args, env=self.env, stdout=out, stderr=subprocess.STDOUT))

    def board(self, emergency: int) -> dict[str, Any]:
        return dict(json.loads(self.loaxa("emergency", "status", str(emergency), "--format", "json")))

    def states(self, emergency: int) -> dict[str, str]:
        """Read straight from the database while waiting (the command is checked at the end of each wait)."""
        from sqlalchemy import select

        from scheduler.db.models import EmergencyStation

        with self.sessions() as s:
            rows = s.scalars(select(EmergencyStation).where(EmergencyStation.emergency_id == emergency))
            return {r.station_code: r.state for r in rows}

    def wait_states(self, emergency: int, wanted: dict[str, str], timeout: float = 90) -> dict[str, Any]:
        try:
            wait_for(lambda: all(self.states(emergency).get(k) == v for k, v in wanted.items()), timeout, step=0.5)
        except AssertionError:
            raise AssertionError(f"{self.states(emergency)} != {wanted}\n{self.log.read_text()[-4000:]}") from None
        board = self.board(emergency)
        assert {r["station"]: r["state"] for r in board["rows"]} | wanted == {
            r["station"]: r["state"] for r in board["rows"]}
        return board


@contextmanager
def live_system(settings: Settings, sessions: sessionmaker[Session], tmp_path: Path,
                codes: list[str]) -> Iterator[Live]:
    now = datetime.now(UTC)
    with transaction(sessions) as s:
        tokens = {code: add_station(s, code, now)[1] for code in codes}
        s.add(User(username="duyet", full_name="Người duyệt", role="approver", password_hash=hash_password("x" * 12),
                   created_at=now))
    port, log = free_port(), tmp_path / "processes.log"
    with Broker(tmp_path) as broker:
        env = {**os.environ, "LOAXA_DATABASE_URL": settings.database_url, "LOAXA_MEDIA_DIR": str(settings.media_dir),
               "LOAXA_DATA_DIR": str(settings.data_dir), "LOAXA_PUBLIC_URL": f"http://127.0.0.1:{port}",
               "LOAXA_MQTT_URL": broker.url, "LOAXA_TTS_ENGINES": "espeak"}
        with open(log, "ab") as out:
            server = subprocess.Popen([*LOAXA, "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", "8"],
                                      env=env, stdout=out, stderr=subprocess.STDOUT)
        live = Live(settings, env, f"http://127.0.0.1:{port}", broker, tokens, tmp_path, log, [], sessions)
        try:
            wait_port(port, timeout=60)
            yield live
        finally:
            for proc in [*live.agents, server]:
                if proc.poll() is None:
                    proc.terminate()
            for proc in [*live.agents, server]:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()


def wait_connected(live: Live, code: str) -> None:
    """The MQTT box has subscribed (its retained status says online)."""
    from delivery_world import subscriber

    with subscriber(live.broker.url, [f"loaxa/+/+/{code}/status"]) as heard:
        wait_for(lambda: any(b'"online"' in payload for _, payload, _ in heard), timeout=60)


def test_typed_words_reach_mqtt_and_http_only_boxes_and_each_station_reports(
        settings: Settings, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    codes = ["GL-MQTT-01", "GL-HTTP-01", "GL-LOI-01", "GL-IM-01"]
    with live_system(settings, sessions, tmp_path, codes) as live:
        live.agent("GL-MQTT-01", mqtt=True)
        live.agent("GL-HTTP-01", mqtt=False)
        live.agent("GL-LOI-01", mqtt=False, player=["--player", "custom", "--player-cmd", "false {source}"])
        wait_connected(live, "GL-MQTT-01")
        out = live.loaxa("emergency", "start", "--text", "-", "--targets", ",".join(codes), "--yes",
                         "--user", "duyet", stdin=WARNING)
        assert "Máy sẽ đọc:" in out and "mười bảy giờ ba mươi" in out
        emergency = int(out.split("Lệnh khẩn cấp số ")[1].split(":")[0])
        board = live.wait_states(emergency, {"GL-MQTT-01": "da_phat", "GL-HTTP-01": "da_phat", "GL-LOI-01": "loi"})
    rows = {r["station"]: r for r in board["rows"]}
    assert board["headline"] == "2/4 đài đã phát"
    # The broker took both commands (the MQTT box may also have been handed it on a status call first,
    # on a loaded machine); the box without a live link could only get it over HTTP.
    assert "mqtt" in rows["GL-MQTT-01"]["via"].split(",")
    assert set(rows["GL-HTTP-01"]["via"].split(",")) == {"mqtt", "http"}
    for code in ("GL-MQTT-01", "GL-HTTP-01"):
        row = rows[code]
        assert row["sent_at"] <= row["received_at"] <= row["started_at"] <= row["ended_at"], row
        assert row["plays"] == 1
    assert "false" in rows["GL-LOI-01"]["reason"] or "mã lỗi" in rows["GL-LOI-01"]["reason"]
    # No box answers for GL-IM-01: the broker took the command, nothing came back (yet).
    assert rows["GL-IM-01"]["state"] == "da_gui" and rows["GL-IM-01"]["received_at"] is None


def test_a_cap_alert_waits_is_released_then_held_resumed_and_cancelled_on_live_boxes(
        settings: Settings, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    codes = ["GL-MQTT-02", "GL-HTTP-02"]
    alert = tmp_path / "canh-bao.xml"
    alert.write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>VN-PCTT-LIVE-1</identifier><sender>pctt@gialai.gov.vn</sender>
  <sent>2026-11-23T04:50:00+07:00</sent><status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
  <info><language>vi-VN</language><category>Met</category><event>Lũ quét</event><urgency>Immediate</urgency>
    <severity>Severe</severity><certainty>Likely</certainty><expires>2099-01-01T00:00:00+07:00</expires>
    <headline>Cảnh báo lũ quét và sạt lở đất tại xã Ia Dêr</headline>
    <description>{DESCRIPTION}</description>
    <instruction>Bà con ven suối di dời người già, trẻ em đến nơi an toàn ngay; không qua ngầm tràn.</instruction>
    <area><areaDesc>Xã Ia Dêr</areaDesc><geocode><valueName>loaxa:commune</valueName><value>Xã Ia Dêr</value></geocode>
    </area></info>
</alert>""", encoding="utf-8")
    with live_system(settings, sessions, tmp_path, codes) as live:
        live.agent("GL-MQTT-02", mqtt=True)
        live.agent("GL-HTTP-02", mqtt=False)
        wait_connected(live, "GL-MQTT-02")
        out = live.loaxa("cap", "import", str(alert))
        emergency = int(out.split("lệnh khẩn cấp số ")[1].split(" ")[0])
        assert "chờ duyệt: 2 đài" in out
        assert live.board(emergency)["state"] == "cho_duyet"
        assert set(live.states(emergency).values()) == {"cho_gui"}  # nothing airs before the release
        live.loaxa("emergency", "release", str(emergency), "--user", "duyet")
        live.wait_states(emergency, {"GL-MQTT-02": "dang_phat", "GL-HTTP-02": "dang_phat"})
        live.loaxa("emergency", "hold", str(emergency), "--user", "duyet")
        board = live.wait_states(emergency, {"GL-MQTT-02": "da_dung", "GL-HTTP-02": "da_dung"})
        assert board["state"] == "tam_dung" and board["played"] == 0
        live.loaxa("emergency", "resume", str(emergency), "--user", "duyet")
        board = live.wait_states(emergency, {"GL-MQTT-02": "dang_phat", "GL-HTTP-02": "dang_phat"})
        assert {r["airing"] for r in board["rows"]} == {1}  # a new play, not the one that was stopped
        live.loaxa("emergency", "cancel", str(emergency), "--user", "duyet")
        board = live.wait_states(emergency, {"GL-MQTT-02": "da_dung", "GL-HTTP-02": "da_dung"})
        assert board["state"] == "da_huy"
    with sessions() as s:
        from sqlalchemy import select

        from scheduler.db.models import AuditLog

        actions = list(s.scalars(select(AuditLog.action).where(AuditLog.entity == "emergency").order_by(AuditLog.id)))
    assert actions == ["emergency.request", "emergency.cap_import", "emergency.release", "emergency.hold",
                       "emergency.resume", "emergency.cancel"]
