"""Phát trực tiếp end to end: Chromium with a fake microphone (a known tone), `loaxa serve`, a private
Mosquitto and Icecast (scripts/icecast.sh), and two real `loaxa agent` boxes whose player captures
what they play with ffmpeg. The tone reaches both boxes; stopping ends it on both; the play log, the
airtime report and the recording show it. Every wait is a timeout, never a timing assertion
(latency is measured in benchmarks/bench_live.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from e2e_support import PASSWORD, TONE_HZ, Seeded
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scheduler" / "delivery"))
from delivery_world import Broker, free_port, subscriber, wait_for, wait_port  # noqa: E402

from audio.ffmpeg import decode_to_pcm, ffmpeg_exe  # noqa: E402
from scheduler.accounts import issue_station_token  # noqa: E402
from scheduler.db.models import LiveBroadcast, PlayLog, Station  # noqa: E402
from scheduler.db.session import transaction  # noqa: E402
from scheduler.domain import DEFAULT_TZ  # noqa: E402
from scheduler.settings import Settings  # noqa: E402
from tests.icecast_server import Icecast  # noqa: E402
from tests.tone import tone_seconds  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.mqtt]
LOAXA = [str(Path(sys.executable).with_name("loaxa"))] if Path(sys.executable).with_name("loaxa").exists() \
    else [sys.executable, "-m", "web.cli"]
CODES = ("IADER-01", "IADER-02")  # the two stations of Xã Ia Dêr in the e2e seed
RATE = 16000


@dataclass
class System:
    url: str
    env: dict[str, str]
    log: Path
    captures: dict[str, Path]
    procs: list[subprocess.Popen[bytes]]
    icecast: Icecast

    def heard(self, code: str) -> float:
        """Seconds of the microphone's tone in what the box has played so far."""
        path = self.captures[code]
        return tone_seconds(path.read_bytes(), RATE, TONE_HZ) if path.exists() else 0.0

    def loaxa(self, *args: str) -> str:
        done = subprocess.run([*LOAXA, *args], env=self.env, capture_output=True, timeout=120)
        assert done.returncode == 0, (done.stdout + done.stderr).decode()
        return done.stdout.decode()


@pytest.fixture
def system(settings: Settings, sessions: sessionmaker[Session], seeded: Seeded, tmp_path: Path) -> Iterator[System]:
    now = datetime.now(UTC)
    with transaction(sessions) as s:
        tokens = {st.code: issue_station_token(st, now) for st in s.scalars(select(Station)) if st.code in CODES}
    port, log = free_port(), tmp_path / "processes.log"
    with Icecast(tmp_path / "icecast") as icecast, Broker(tmp_path) as broker:
        env = {**os.environ, "LOAXA_DATABASE_URL": settings.database_url, "LOAXA_MEDIA_DIR": str(settings.media_dir),
               "LOAXA_DATA_DIR": str(settings.data_dir), "LOAXA_PUBLIC_URL": f"http://127.0.0.1:{port}",
               "LOAXA_MQTT_URL": broker.url, "LOAXA_ICECAST_URL": icecast.source_url, "LOAXA_TTS_ENGINES": "espeak"}
        procs: list[subprocess.Popen[bytes]] = []
        captures = {code: tmp_path / f"played-{code}.pcm" for code in CODES}
        with open(log, "ab") as out:
            procs.append(subprocess.Popen([*LOAXA, "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", "8"],
                                          env=env, stdout=out, stderr=subprocess.STDOUT))
            wait_port(port, timeout=60)  # the boxes ask it for their broker at start
            for code in CODES:
                # The box's loudspeaker is ffmpeg writing raw PCM: what it "plays" is what it captures.
                player = (f"sh -c 'exec \"$0\" -nostdin -loglevel error -i \"$1\" -ac 1 -ar {RATE} -f s16le - "
                          f">> \"$2\"' {ffmpeg_exe()} {{source}} {captures[code]}")
                procs.append(subprocess.Popen(
                    [*LOAXA, "agent", "--server", f"http://127.0.0.1:{port}", "--station", code, "--token", tokens[code],
                     "--cache", str(tmp_path / f"cache-{code}"), "--upload-every", "1", "--status-every", "5",
                     "--mqtt", broker.url, "--player", "custom", "--player-cmd", player, "--ffmpeg", ffmpeg_exe()],
                    env=env, stdout=out, stderr=subprocess.STDOUT))
        system = System(f"http://127.0.0.1:{port}", env, log, captures, procs, icecast)
        try:
            with subscriber(broker.url, [f"loaxa/+/+/{code}/status" for code in CODES]) as heard:
                try:
                    wait_for(lambda: all(any(code in t and b'"online"' in p for t, p, _ in heard) for code in CODES),
                             timeout=60)
                except AssertionError:
                    raise AssertionError(f"{[t for t, _, _ in heard]}\n{log.read_text()[-5000:]}") from None
            yield system
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()


def test_an_approver_speaks_live_from_a_phone_and_both_stations_play_it_until_stopped(
        mic_browser: Any, system: System, artifacts: Path, sessions: sessionmaker[Session], settings: Settings) -> None:
    from playwright.sync_api import expect

    phone = mic_browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN", is_mobile=True,
                                    permissions=["microphone"])
    page = phone.new_page()
    page.goto(f"{system.url}/dang-nhap")
    page.fill('input[name="username"]', "duyet")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{system.url}/")
    page.goto(f"{system.url}/truc-tiep/")
    page.fill("[data-live-title]", "Trưởng thôn thông báo họp dân")
    page.check('[data-live-commune][value="Xã Ia Dêr"]')
    page.click("button:has-text('Bắt đầu nói')")
    try:
        expect(page.locator("[data-live-note]")).to_contain_text("Đang phát trực tiếp tới 2 đài", timeout=30_000)
        # Both loudspeakers carry the microphone's tone.
        wait_for(lambda: all(system.heard(code) >= 3.0 for code in CODES), timeout=60, step=0.5)
    except AssertionError:
        raise AssertionError(f"{ {c: system.heard(c) for c in CODES} } icecast up: {system.icecast.alive()} "
                             f"port {system.icecast.port}\n{system.log.read_text()[-5000:]}") from None
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling on a phone
    page.screenshot(path=str(artifacts / "40-dien-thoai-phat-truc-tiep.png"), full_page=True)
    page.click("button:has-text('Kết thúc')")
    expect(page.locator("[data-live-note]")).to_contain_text("Đã kết thúc", timeout=30_000)
    # Stopping ends it on both: their play-log rows arrive, closed as played, source trực tiếp.
    def live_rows() -> list[PlayLog]:
        with sessions() as s:
            return list(s.scalars(select(PlayLog).where(PlayLog.kind == "live")))
    try:
        wait_for(lambda: {r.station_code for r in live_rows() if r.result == "played"} == set(CODES), timeout=60,
                 step=0.5)
    except AssertionError:
        raise AssertionError(f"{[(r.station_code, r.result, r.reason) for r in live_rows()]}\n"
                             f"{system.log.read_text()[-5000:]}") from None
    rows = live_rows()
    assert all(r.priority == "truc_tiep" and r.title == "Trưởng thôn thông báo họp dân" for r in rows)
    sizes = {code: system.captures[code].stat().st_size for code in CODES}
    page.wait_for_timeout(3000)
    assert {code: system.captures[code].stat().st_size for code in CODES} == sizes  # nothing more plays
    # The broadcast was recorded on the server and carries the tone.
    with sessions() as s:
        broadcast = s.scalars(select(LiveBroadcast)).one()
        assert broadcast.state == "da_ket_thuc" and broadcast.recording_file
        recording = settings.media_dir / broadcast.recording_file
        # Reports take local calendar days: after 17:00 UTC the broadcast is on tomorrow's date.
        aired_on = broadcast.started_at.astimezone(ZoneInfo(DEFAULT_TZ)).date().isoformat()
    assert tone_seconds(decode_to_pcm(recording, sample_rate=RATE), RATE, TONE_HZ) >= 3.0
    # The airtime report counts it, by source: trực tiếp.
    report = json.loads(system.loaxa("report", "airtime", "--from", aired_on, "--to", aired_on, "--by", "source",
                                     "--format", "json"))
    text = json.dumps(report, ensure_ascii=False)
    assert "Trực tiếp" in text, text[:2000]
    page.reload()
    expect(page.locator(".live-list")).to_contain_text("Trưởng thôn thông báo họp dân")
    # It stands in both stations' programme grids, as Trực tiếp.
    for code in CODES:
        page.goto(f"{system.url}/lich-phat/?dai={code}")
        expect(page.locator(".item.kind-live")).to_contain_text("Trưởng thôn thông báo họp dân")
    page.goto(f"{system.url}/truc-tiep/")
    page.screenshot(path=str(artifacts / "41-dien-thoai-truc-tiep-da-xong.png"), full_page=True)
    phone.close()
