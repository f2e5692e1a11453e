"""The whole admin flow in a real browser: write, preview, submit, approve, rebuild, find it.

Screenshots of every main page (desktop and phone width) are saved in tests/e2e/artifacts/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from e2e_support import PASSWORD, Seeded
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.models import Bulletin
from scheduler.rendering import render_pending
from scheduler.settings import Settings
from tests.fake_clock import FakeClock

pytestmark = pytest.mark.browser

SEED_TEXT = (
    "Thực hiện Kế hoạch số 1722/KH-UBND ngày 28/9/2021 của UBND tỉnh về tuyên truyền CCHC, "
    "người dân có thể nộp hồ sơ trực tuyến mức độ 4; tỷ lệ hồ sơ đúng hạn đạt 98,5%."
)
TITLE = "Tuyên truyền dịch vụ công trực tuyến tháng 11"


def shot(page: Any, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/dang-nhap")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{base}/")


def log_out(page: Any) -> None:
    page.click("text=Đăng xuất")
    page.wait_for_selector("text=Bạn đã đăng xuất.")


def test_write_approve_schedule_and_broadcast_an_emergency(
    browser: Any,
    live_server: str,
    artifacts: Path,
    sessions: sessionmaker[Session],
    settings: Settings,
    clock: FakeClock,
    seeded: Seeded,
) -> None:
    from playwright.sync_api import expect

    base = live_server
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the "are you sure?" prompts

    page.goto(f"{base}/dang-nhap")
    shot(page, artifacts, "01-dang-nhap")

    # The editor writes a bulletin and sees how it will be read aloud.
    log_in(page, base, "bientap")
    page.goto(f"{base}/ban-tin/moi")
    page.fill('input[name="title"]', TITLE)
    page.fill('textarea[name="text"]', SEED_TEXT)
    page.fill('textarea[name="targets"]', "Xã Ia Dêr")
    page.fill('input[name="plays_per_week"]', "3")
    spoken = page.locator("#spoken")
    expect(spoken).to_contain_text("hai mươi tám tháng chín năm hai nghìn không trăm hai mươi mốt", timeout=10_000)
    expect(spoken).to_contain_text("Ủy ban nhân dân tỉnh về tuyên truyền cải cách hành chính")
    shot(page, artifacts, "02-viet-ban-tin")
    page.click("button:has-text('Lưu bản nháp')")
    expect(page.locator(".flash-ok")).to_contain_text("Đã lưu bản tin")
    page.click("button:has-text('Gửi duyệt')")
    expect(page.locator(".flash-ok")).to_contain_text("Đã gửi bản tin")
    expect(page.locator(".page-head")).to_contain_text("Chờ duyệt")
    bulletin_url = page.url
    # An editor is offered no approve button.
    assert page.locator("button:has-text('Duyệt')").count() == 0
    log_out(page)

    # Another user approves it.
    log_in(page, base, "duyet")
    shot(page, artifacts, "03-tong-quan")
    page.goto(bulletin_url)
    page.fill('textarea[name="comment"]', "Nội dung đúng, đồng ý phát.")
    # Duyệt waits until there is sound to hear; the background service makes it, or the approver asks now.
    expect(page.locator("button[data-approve]")).to_be_disabled()
    shot(page, artifacts, "04-duyet-ban-tin")
    page.click("button:has-text('Tạo âm thanh ngay')")
    expect(page.locator("audio[data-listen-player]")).to_be_visible(timeout=30_000)
    expect(page.locator("button[data-approve]")).to_be_enabled()
    page.click("button:has-text('Duyệt')")
    expect(page.locator(".flash-ok")).to_contain_text("Đã duyệt bản tin")
    expect(page.locator(".page-head")).to_contain_text("Đã duyệt")
    log_out(page)

    # The background render job finds nothing left to do: the approver's sound is the one that airs.
    summary = render_pending(sessions, settings.media_dir, settings.audio, clock)
    with sessions() as s:
        bulletin = s.scalars(select(Bulletin).where(Bulletin.title == TITLE)).one()
        assert bulletin.audio_asset_id is not None and bulletin.code not in summary.rendered

    # The admin rebuilds the week and finds the bulletin in the grid.
    log_in(page, base, "quantri")
    page.goto(bulletin_url)
    expect(page.locator("audio")).to_have_count(1)
    shot(page, artifacts, "05-ban-tin-co-am-thanh")
    page.goto(f"{base}/lich-phat/?dai=IADER-01")
    page.click("button:has-text('Lập lại lịch tuần')")
    expect(page.locator(".flash-ok")).to_contain_text("Đã lập lại lịch tuần")
    expect(page.locator(".week .item-title", has_text=TITLE)).to_have_count(3)
    shot(page, artifacts, "06-lich-phat-tuan")
    page.goto(f"{base}/lich-phat/?xa={seeded.commune_id}")
    shot(page, artifacts, "07-lich-phat-xa")

    # Emergencies have their own browser test (tests/e2e/test_emergency_flow.py).

    # Screenshots of the remaining main pages.
    for name, path in (
        ("10-ban-tin", "/ban-tin/"),
        ("11-dai", "/dai/"),
        ("12-dai-chi-tiet", "/dai/IADER-01"),
        ("13-nhat-ky", "/nhat-ky/"),
        ("14-nguoi-dung", "/nguoi-dung/"),
        ("15-tong-quan-quan-tri", "/"),
    ):
        page.goto(base + path)
        shot(page, artifacts, name)
    context.close()

    # The same pages on a phone screen.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN", is_mobile=True)
    page = phone.new_page()
    log_in(page, base, "quantri")
    for name, path in (
        ("20-dien-thoai-tong-quan", "/"),
        ("21-dien-thoai-viet-ban-tin", "/ban-tin/moi"),
        ("22-dien-thoai-lich-phat", "/lich-phat/?dai=IADER-01"),
        ("23-dien-thoai-dai", "/dai/"),
    ):
        page.goto(base + path)
        shot(page, artifacts, name)
    # The menu folds behind a button on a phone and opens on tap.
    expect(page.locator("nav.nav")).to_be_hidden()
    page.click("label.nav-button")
    expect(page.locator("nav.nav")).to_be_visible()
    shot(page, artifacts, "24-dien-thoai-menu")
    # No page is wider than the phone's screen.
    for path in ("/", "/ban-tin/moi", "/lich-phat/?dai=IADER-01", "/khan-cap/"):
        page.goto(base + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width}px wide on a 390px phone"
    phone.close()
