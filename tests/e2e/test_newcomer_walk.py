"""Issue 15's walk: what a new editor and approver trip over, on a desktop and on a 390 px phone.

The editor picks real places from the list, hears the draft before saving and before submitting; the
approver cannot approve before the sound exists, has it made, hears it, approves. Every page on the
way is checked for English words, the old confusing messages, table cells squeezed to one letter per
line, and sideways scrolling. Screenshots land in tests/e2e/artifacts/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from e2e_support import PASSWORD, Seeded, readable_problems
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.models import Bulletin

pytestmark = pytest.mark.browser

TEXT = ("Từ ngày 01/12/2026, người dân xã Ia Dêr nộp hồ sơ cấp giấy khai sinh trực tuyến tại "
        "dichvucong.gov.vn; lệ phí giảm 50%. Mọi vướng mắc gọi đường dây nóng 0269 3823 456.")


def _log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/dang-nhap")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{base}/")


def _check(page: Any, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
    problems = readable_problems(page)
    assert problems == [], f"{name} ({page.url}): {problems}"


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (390, 844)], ids=["desktop", "phone"])
def test_an_editor_and_an_approver_hear_the_bulletin_before_acting(
    browser: Any, live_server: str, artifacts: Path, sessions: sessionmaker[Session], seeded: Seeded,
    width: int, height: int,
) -> None:
    from playwright.sync_api import expect

    base, tag = live_server, f"30-{width}"
    title = f"Khai sinh trực tuyến ({width})"
    context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN",
                                  is_mobile=width < 500)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())

    _log_in(page, base, "bientap")
    page.goto(f"{base}/ban-tin/moi")
    hint = page.locator(".field", has=page.locator('textarea[name="targets"]'))
    expect(hint).to_contain_text("ví dụ: CHUPUH-01; Xã Ia Dêr")
    page.fill('input[name="title"]', title)
    page.fill('textarea[name="text"]', TEXT)
    page.fill('input[name="plays_per_week"]', "3")
    # The picker fills the targets box with real names; no typing of codes.
    page.select_option("select[data-target-pick]", "Xã Ia Dêr")
    page.click("button[data-target-add]")
    page.select_option("select[data-target-pick]", "CHUPUH-01")
    page.click("button[data-target-add]")
    expect(page.locator('textarea[name="targets"]')).to_have_value("Xã Ia Dêr; CHUPUH-01")
    # Hear the unsaved text.
    page.click("[data-listen-text] button[data-listen-button]")
    player = page.locator("[data-listen-text] audio[data-listen-player]")
    expect(player).to_be_visible(timeout=30_000)
    expect(page.locator("[data-listen-text] [data-listen-note]")).to_contain_text("Nghe thử (giọng đọc ngoại tuyến")
    assert page.evaluate("fetch(document.querySelector('[data-listen-text] audio').src, {cache: 'no-store'}).then(r => r.ok)") is True
    _check(page, artifacts, f"{tag}-viet-ban-tin-nghe-thu")
    page.click("button:has-text('Lưu bản nháp')")
    expect(page.locator(".flash-ok")).to_contain_text("Đã lưu bản tin", timeout=30_000)
    bulletin_url = page.url
    # Hear the saved draft, then submit.
    expect(page.locator("#am-thanh + .listen")).to_contain_text("Nghe máy đọc bản tin này trước khi gửi duyệt")
    page.click("[data-listen-form] button:has-text('Nghe thử')")
    expect(page.locator("[data-listen] audio[data-listen-player]")).to_be_visible(timeout=30_000)
    _check(page, artifacts, f"{tag}-ban-nhap-nghe-thu")
    page.click("button:has-text('Gửi duyệt')")
    expect(page.locator(".flash-ok")).to_contain_text("Đã gửi bản tin", timeout=30_000)
    _check(page, artifacts, f"{tag}-da-gui-duyet")
    context.close()

    # The approver, on their own device.
    context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN",
                                  is_mobile=width < 500)
    page = context.new_page()
    _log_in(page, base, "duyet")
    page.goto(bulletin_url)
    approve = page.locator("button[data-approve]")
    expect(approve).to_be_disabled()
    expect(page.locator("[data-listen-note]")).to_contain_text("Nút «Duyệt» mở khi đã có âm thanh để nghe")
    _check(page, artifacts, f"{tag}-cho-am-thanh")
    page.click("button:has-text('Tạo âm thanh ngay')")
    expect(page.locator("[data-listen] audio[data-listen-player]")).to_be_visible(timeout=30_000)
    expect(page.locator("[data-listen-note]")).to_contain_text("Bản sẽ phát:")
    expect(approve).to_be_enabled()
    _check(page, artifacts, f"{tag}-nghe-roi-duyet")
    approve.click()
    expect(page.locator(".flash-ok")).to_contain_text("Đã duyệt bản tin", timeout=30_000)
    _check(page, artifacts, f"{tag}-da-duyet")
    context.close()

    with sessions() as s:
        bulletin = s.scalars(select(Bulletin).where(Bulletin.title == title)).one()
        assert bulletin.status == "da_duyet" and bulletin.audio_asset_id is not None
        assert bulletin.targets == ["Xã Ia Dêr", "CHUPUH-01"]


def test_the_week_reads_as_a_person_says_it_and_rebuilding_asks_first(
    browser: Any, live_server: str, artifacts: Path, seeded: Seeded
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN", is_mobile=True)
    page = context.new_page()
    _log_in(page, live_server, "quantri")
    page.goto(f"{live_server}/lich-phat/?dai=IADER-01")
    expect(page.locator(".weeknav strong, main strong").first).to_contain_text("Tuần 48 (23/11 – 29/11/2026)")
    assert "2026-W48" not in page.inner_text("main")
    asked: list[str] = []

    def dismiss(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.click("button:has-text('Lập lại lịch tuần')")
    page.wait_for_timeout(300)
    assert asked and "Lập lại lịch tuần 48 (23/11 – 29/11/2026) cho đài IADER-01?" in asked[0]
    expect(page.locator(".flash-ok")).to_have_count(0)  # dismissed: nothing rebuilt
    _check(page, artifacts, "31-390-lich-phat-tuan")
    context.close()


PHONE_TABLE_PAGES = [("32-390-dai", "/dai/"), ("33-390-ban-tin", "/ban-tin/"), ("34-390-bao-cao", "/bao-cao/"),
                     ("35-390-nhat-ky", "/nhat-ky/"), ("36-390-nguoi-dung", "/nguoi-dung/"),
                     ("37-390-dai-chi-tiet", "/dai/IADER-01"), ("38-390-lich-phat", "/lich-phat/?dai=IADER-01")]


def test_tables_read_as_stacked_rows_on_a_phone(browser: Any, live_server: str, artifacts: Path, seeded: Seeded) -> None:
    """No table cell squeezed to one letter per line, no sideways scrolling, on the pages with tables."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN", is_mobile=True)
    page = context.new_page()
    _log_in(page, live_server, "quantri")
    failures = []
    for name, path in PHONE_TABLE_PAGES:
        page.goto(live_server + path)
        page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
        problems = readable_problems(page)
        if problems:
            failures.append(f"{path}: {problems}")
    context.close()
    assert failures == []
