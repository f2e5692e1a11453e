"""A commune operator's day on a 390×844 phone in a real browser: log in, see today's items with their
states, confirm one, mark one missed, download today's M3U — and its first link plays with no login
and no station token (ffmpeg decodes it over HTTP, as VLC or mpv would).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audio.ffmpeg import pcm_output_args, run_ffmpeg
from scheduler.accounts import hash_password
from scheduler.db.models import AudioAsset, Commune, PlayLog, Programme, ProgrammeItem, Station, User
from scheduler.db.session import transaction
from scheduler.playlog import ingest
from scheduler.settings import Settings
from tests.fake_clock import FakeClock
from tests.tone import dominant_frequency

pytestmark = pytest.mark.browser

PASSWORD = "mat-khau-2026"
PHONE = {"width": 390, "height": 844}
TONE_HZ = 660


def _tone_mp3(media_dir: Path, seconds: float) -> tuple[str, str]:
    data = run_ffmpeg(["-v", "error", "-f", "lavfi", "-i", f"sine=frequency={TONE_HZ}:duration={seconds}",
                       "-ac", "1", "-ar", "24000", "-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3", "pipe:1"]).stdout
    sha = hashlib.sha256(data).hexdigest()
    name = f"audio/{sha}.mp3"
    (media_dir / "audio").mkdir(parents=True, exist_ok=True)
    (media_dir / name).write_bytes(data)
    return sha, name


@pytest.fixture
def operator_day(sessions: sessionmaker[Session], clock: FakeClock, media_dir: Path, seeded: Any) -> dict[str, int]:
    """IADER-01's Monday: 05:30 aired by the agent, 05:40 and 05:50 gone by unanswered, 17:00 to come; it is 06:10."""
    now = clock()  # Monday 05:00 local
    sha, name = _tone_mp3(media_dir, 3.0)
    with transaction(sessions) as s:
        s.add(AudioAsset(sha256=sha, file_name=name, duration_ms=3000, engine="test", voice="vi", warnings=[],
                         created_at=now))
        commune = s.scalars(select(Commune).where(Commune.name == "Xã Ia Dêr")).one()
        s.add(User(username="vanhanh", full_name="Vận hành Ia Dêr", role="operator", commune=commune,
                   password_hash=hash_password(PASSWORD), created_at=now))
        station = s.scalars(select(Station).where(Station.code == "IADER-01")).one()
        programme = Programme(station=station, week="2026-W48", version=1, built_at=now)
        s.add(programme)
        for title, minutes in (("Tin tuyên truyền CCHC", 30), ("Lịch tiêm chủng tháng 12", 40),
                               ("Thông báo họp dân thôn 3", 50), ("Lịch cắt điện ngày mai", 12 * 60)):
            start = now + timedelta(minutes=minutes)
            programme.items.append(ProgrammeItem(
                start=start, end=start + timedelta(minutes=2), kind="bulletin", title=title, bulletin_code="BT-1",
                audio_sha256=sha, duration_ms=120_000, language="vi", priority="thuong", topic="tthc",
            ))
        s.flush()
        ids = {i.title: i.id for i in programme.items}
        ingest(s, station, [{"play_id": "agent-1", "item_id": ids["Tin tuyên truyền CCHC"], "result": "played",
                             "actual_start": (now + timedelta(minutes=30)).isoformat(), "played_ms": 120_000}], now)
    clock.advance(minutes=70)
    return ids


def _no_sideways_scroll(page: Any, where: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    inner = page.evaluate("window.innerWidth")
    assert width <= inner, f"{where}: the page is {width}px wide on a {inner}px phone"


def test_operator_confirms_marks_missed_and_plays_todays_m3u_on_a_phone(
    browser: Any, live_server: str, artifacts: Path, operator_day: dict[str, int], sessions: sessionmaker[Session],
    settings: Settings, tmp_path: Path, clock: FakeClock,
) -> None:
    from playwright.sync_api import expect

    base = live_server
    context = browser.new_context(viewport=PHONE, locale="vi-VN", is_mobile=True, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{base}/dang-nhap")
    page.fill('input[name="username"]', "vanhanh")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{base}/hom-nay/")  # the operator lands on their day

    confirm_id, missed_id = operator_day["Lịch tiêm chủng tháng 12"], operator_day["Thông báo họp dân thôn 3"]
    expect(page.locator("h2").first).to_contain_text("Hôm nay · Thứ Hai 23/11/2026")
    expect(page.locator(f"#muc-{operator_day['Tin tuyên truyền CCHC']} .badge")).to_have_text("Đã phát (tự động)")
    expect(page.locator(f"#muc-{confirm_id} .badge")).to_have_text("Bỏ lỡ")
    expect(page.locator(f"#muc-{operator_day['Lịch cắt điện ngày mai']} .badge")).to_have_text("Sắp phát")
    _no_sideways_scroll(page, "Hôm nay")
    page.screenshot(path=str(artifacts / "40-dien-thoai-hom-nay.png"), full_page=True)

    page.click(f"#muc-{confirm_id} button:has-text('Đã phát')")
    expect(page.locator(".flash-ok")).to_contain_text("đã phát (xác nhận tay)")
    expect(page.locator(f"#muc-{confirm_id} .badge")).to_have_text("Đã phát (xác nhận tay)")
    expect(page.locator(f"#muc-{confirm_id} button")).to_have_count(0)

    page.click(f"#muc-{missed_id} summary:has-text('Không phát được')")
    page.select_option(f"#ly-do-{missed_id}", "mat-dien")
    page.fill(f"#chi-tiet-{missed_id}", "cả thôn mất điện từ 05:45")
    _no_sideways_scroll(page, "Hôm nay, reason picker open")
    page.screenshot(path=str(artifacts / "41-dien-thoai-khong-phat-duoc.png"), full_page=True)
    page.click(f"#muc-{missed_id} button:has-text('Ghi không phát được')")
    expect(page.locator(".flash-ok")).to_contain_text("không phát được — Mất điện: cả thôn mất điện từ 05:45")
    expect(page.locator(f"#muc-{missed_id}")).to_contain_text("Mất điện: cả thôn mất điện từ 05:45")
    _no_sideways_scroll(page, "Hôm nay, after answering")
    page.screenshot(path=str(artifacts / "42-dien-thoai-da-tra-loi.png"), full_page=True)

    # The page keeps itself current: at 17:01 the evening item is on air and offers the answers, no reload.
    evening = operator_day["Lịch cắt điện ngày mai"]
    expect(page.locator(f"#muc-{evening} button")).to_have_count(0)
    clock.advance(hours=10, minutes=51)
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")  # what the 20 s timer does
    expect(page.locator(f"#muc-{evening} .badge")).to_have_text("Đang phát")
    page.click(f"#muc-{evening} button:has-text('Đã phát')")  # the buttons copied in by the script post
    expect(page.locator(".flash-ok")).to_contain_text("«Lịch cắt điện ngày mai» đã phát (xác nhận tay)")
    expect(page.locator(f"#muc-{evening} .badge")).to_have_text("Đã phát (xác nhận tay)")

    with page.expect_download() as waiting:
        page.locator("a:has-text('Tải danh sách phát (M3U)')").first.click()
    download = waiting.value
    assert download.suggested_filename == "IADER-01-2026-11-23.m3u"
    playlist = Path(download.path()).read_text(encoding="utf-8")
    links = [line for line in playlist.splitlines() if line and not line.startswith("#")]
    assert len(links) == 4 and links[0].startswith(f"{base}/nghe/")

    # The grid on the phone: the commune week starts with today and shows what aired.
    page.goto(f"{base}/lich-phat/")
    expect(page.locator(".commune-days .day").first).to_contain_text("Hôm nay · Thứ Hai")
    expect(page.locator(".commune-days .day").first).to_contain_text("Đã phát (xác nhận tay)")
    _no_sideways_scroll(page, "Lịch phát")
    page.screenshot(path=str(artifacts / "43-dien-thoai-lich-phat-xa.png"), full_page=True)
    page.goto(f"{base}/dai/IADER-01")
    _no_sideways_scroll(page, "Đài IADER-01")
    page.screenshot(path=str(artifacts / "44-dien-thoai-dai.png"), full_page=True)
    context.close()

    # A player with no cookie and no station token: ffmpeg reads the first link over HTTP and hears the tone.
    pcm = run_ffmpeg(["-v", "error", "-i", links[0], *pcm_output_args(24000)]).stdout
    assert len(pcm) > 24000 * 2 * 2  # over two seconds of sound
    assert abs(dominant_frequency(pcm, 24000) - TONE_HZ) < 5

    with sessions() as s:
        rows = {r.title: (r.result, r.source, r.reason) for r in s.scalars(select(PlayLog))}
    assert rows["Lịch tiêm chủng tháng 12"][:2] == ("played", "manual")
    assert rows["Thông báo họp dân thôn 3"] == ("skipped", "manual", "Mất điện: cả thôn mất điện từ 05:45")
