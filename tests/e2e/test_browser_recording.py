"""Record a bulletin in the browser: Chromium's fake microphone plays a known tone, the editor records,
listens back and saves; the saved file goes through the uploads' checks and, once approved, the same
loudness processing as an uploaded recording, and the rendered audio carries the tone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from e2e_support import PASSWORD, TONE_HZ, Seeded
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audio.ffmpeg import decode_to_pcm
from scheduler.db.models import AudioAsset, Bulletin
from scheduler.rendering import render_pending
from scheduler.settings import Settings
from tests.fake_clock import FakeClock
from tests.tone import tone_seconds

pytestmark = pytest.mark.browser

TITLE = "Thông báo của trưởng thôn ghi âm trên điện thoại"


def log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/dang-nhap")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{base}/")


def test_editor_records_a_bulletin_with_the_microphone_on_a_phone_and_it_airs_with_the_tone(
        mic_browser: Any, live_server: str, artifacts: Path, sessions: sessionmaker[Session], settings: Settings,
        clock: FakeClock, seeded: Seeded) -> None:
    from playwright.sync_api import expect

    base = live_server
    phone = mic_browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN", is_mobile=True,
                                    permissions=["microphone"])
    page = phone.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, base, "bientap")
    page.goto(f"{base}/ban-tin/moi")
    page.fill('input[name="title"]', TITLE)
    page.fill('textarea[name="text"]', "Thông báo họp thôn lúc 19 giờ tối nay tại nhà văn hóa.")
    page.fill('textarea[name="targets"]', "Xã Ia Dêr")
    page.click("button:has-text('Ghi âm')")
    expect(page.locator("[data-rec-time]")).to_contain_text("Đang ghi 3 giây", timeout=10_000)
    page.click("button:has-text('Dừng')")
    expect(page.locator("[data-rec-note]")).to_contain_text("Đã ghi", timeout=10_000)
    expect(page.locator("[data-rec-playback]")).to_be_visible()
    # What the browser recorded is ready to listen back to: the player knows its length.
    listened = page.evaluate("""() => new Promise(done => {
        const a = document.querySelector('[data-rec-playback]');
        const ready = () => done(a.readyState);
        if (a.readyState >= 1) { ready(); } else { a.addEventListener('loadedmetadata', ready); }
    })""")
    assert listened >= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling on a phone
    page.screenshot(path=str(artifacts / "30-dien-thoai-ghi-am-ban-tin.png"), full_page=True)
    page.click("button:has-text('Lưu bản nháp')")
    expect(page.locator(".flash-ok")).to_contain_text("Đã lưu bản tin")
    with sessions() as s:
        bulletin = s.scalars(select(Bulletin).where(Bulletin.title == TITLE)).one()
        recording = bulletin.recording_file
    assert recording is not None and recording.endswith(".webm")
    page.click("button:has-text('Gửi duyệt')")
    expect(page.locator(".flash-ok")).to_contain_text("Đã gửi bản tin")
    bulletin_url = page.url
    phone.close()
    approver = mic_browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN", is_mobile=True)
    page = approver.new_page()
    log_in(page, base, "duyet")
    page.goto(bulletin_url)
    # The approver hears the recording as it will air (checked and loudness-processed) before approving.
    page.click("button:has-text('Tạo âm thanh ngay')")
    expect(page.locator("[data-listen] audio[data-listen-player]")).to_be_visible(timeout=30_000)
    page.click("button:has-text('Duyệt')")
    expect(page.locator(".flash-ok")).to_contain_text("Đã duyệt bản tin")
    approver.close()

    summary = render_pending(sessions, settings.media_dir, settings.audio, clock)
    assert summary.failed == {} or not summary.failed, summary.failed
    with sessions() as s:
        bulletin = s.scalars(select(Bulletin).where(Bulletin.title == TITLE)).one()
        asset = s.get(AudioAsset, bulletin.audio_asset_id)
        assert asset is not None
        file_name, lufs = asset.file_name, asset.loudness_lufs
    # The same loudness target as uploaded recordings, and the microphone's tone is what airs.
    assert lufs is not None and abs(lufs - settings.audio.loudness_lufs) <= 1.5
    pcm = decode_to_pcm(settings.media_dir / file_name, sample_rate=16000)
    assert tone_seconds(pcm, 16000, TONE_HZ) >= 2.0
