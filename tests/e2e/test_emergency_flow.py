"""An emergency in a real browser, on a desktop screen and on a 390×844 phone: type the warning, hear
it, confirm, watch the board update live as stations report, cancel — every control reachable
without sideways scrolling. Screenshots in tests/e2e/artifacts/ (khan-cap-*.png)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from e2e_support import PASSWORD
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.accounts import issue_station_token
from scheduler.db.models import Emergency, Station
from scheduler.db.session import transaction
from tests.fake_clock import FakeClock

pytestmark = pytest.mark.browser

WARNING = ("Bão số 9 sẽ đổ bộ vào lúc 17h30 ngày 23/11/2026. Bà con không ra khơi, chằng chống nhà cửa; "
           "cần giúp đỡ gọi 0269 3823 456.")
SCREENS = {"may-tinh": {"width": 1366, "height": 900}, "dien-thoai": {"width": 390, "height": 844}}


def shot(page: Any, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"khan-cap-{name}.png"), full_page=True)


def assert_fits(page: Any, width: int, where: str) -> None:
    """No sideways scrolling, and every button, link and field of the page lies within the screen."""
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{where}: the page is {scroll}px wide on a {width}px screen"
    outside = page.evaluate(
        """(width) => Array.from(document.querySelectorAll('main button, main a, main input, main select, main textarea, main audio'))
             .filter(el => el.offsetParent !== null && el.type !== 'hidden')
             .map(el => [el.tagName + ' ' + (el.textContent || el.name || '').trim().slice(0, 40), el.getBoundingClientRect()])
             .filter(([, r]) => r.left < 0 || r.right > width + 0.5)
             .map(([name, r]) => name + ' ' + Math.round(r.left) + '..' + Math.round(r.right))""",
        width,
    )
    assert outside == [], f"{where}: controls outside the screen: {outside}"


def tokens(sessions: sessionmaker[Session], clock: FakeClock) -> dict[str, str]:
    with transaction(sessions) as s:
        return {st.code: issue_station_token(st, clock()) for st in s.scalars(select(Station))}


def report(base: str, token: str, emergency: int, state: str, at: str) -> None:
    answer = requests.post(f"{base}/api/v1/emergency-reports", timeout=10, headers={"Authorization": f"Bearer {token}"},
                           json={"reports": [{"id": f"{emergency}-{state}-{token[:6]}", "emergency": emergency,
                                              "state": state, "at": at, "airing": 0}]})
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("screen", list(SCREENS))
def test_start_watch_and_cancel_an_emergency_on_a_phone_and_a_desktop(
    browser: Any, live_server: str, artifacts: Path, sessions: sessionmaker[Session], clock: FakeClock, screen: str
) -> None:
    from playwright.sync_api import expect

    base, size = live_server, SCREENS[screen]
    keys = tokens(sessions, clock)
    context = browser.new_context(viewport=size, locale="vi-VN", is_mobile=screen == "dien-thoai")
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{base}/dang-nhap")
    page.fill('input[name="username"]', "duyet")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/khan-cap/")
    expect(page.locator('select[name="source"]')).to_have_value("loi")  # words first, not some bulletin
    page.fill('textarea[name="text"]', WARNING)
    page.fill('textarea[name="targets"]', "Xã Ia Dêr")
    assert_fits(page, size["width"], "/khan-cap/")
    shot(page, artifacts, f"{screen}-1-soan")
    page.click("button:has-text('Tiếp tục')")

    expect(page.locator("h1")).to_have_text("Xác nhận phát khẩn cấp")
    expect(page.locator("#spoken")).to_contain_text("mười bảy giờ ba mươi")  # the spoken form
    expect(page.locator("audio")).to_have_count(1)
    duration = page.evaluate("""() => new Promise((done) => { const a = document.querySelector('audio');
        if (a.readyState >= 1) { done(a.duration); } else { a.addEventListener('loadedmetadata', () => done(a.duration));
        a.load(); } })""")
    assert duration > 1  # the player holds the rendered sound
    assert_fits(page, size["width"], "xác nhận")
    shot(page, artifacts, f"{screen}-2-xac-nhan")
    with sessions() as s:
        assert s.scalars(select(Emergency).where(Emergency.state == "dang_chay")).first() is None
    page.click("button:has-text('Xác nhận phát ngay')")

    expect(page.locator(".flash-ok")).to_contain_text("Đã ra lệnh phát khẩn cấp")
    expect(page.locator("[data-board-headline]")).to_have_text("0/2 đài đã phát")
    with sessions() as s:
        emergency = s.scalars(select(Emergency).where(Emergency.state == "dang_chay")).one()
    at = clock().isoformat()
    # Stations report over HTTP; the open page updates itself (no reload).
    report(base, keys["IADER-01"], emergency.id, "received", at)
    report(base, keys["IADER-01"], emergency.id, "playing", at)
    report(base, keys["IADER-01"], emergency.id, "played", at)
    report(base, keys["IADER-02"], emergency.id, "playing", at)
    expect(page.locator("[data-board-headline]")).to_have_text("1/2 đài đã phát", timeout=15_000)
    expect(page.locator('[data-station="IADER-02"] [data-field="label"]')).to_have_text("Đang phát")
    expect(page.locator('[data-station="IADER-01"] [data-field="label"]')).to_have_text("Đã phát")
    assert_fits(page, size["width"], "bảng theo dõi")
    shot(page, artifacts, f"{screen}-3-theo-doi")

    page.goto(f"{base}/khan-cap/")
    cancel = page.locator("button:has-text('Hủy lệnh')")
    expect(cancel).to_have_count(1)
    expect(cancel).to_be_in_viewport(ratio=1) if screen == "may-tinh" else cancel.scroll_into_view_if_needed()
    assert_fits(page, size["width"], "/khan-cap/ đang chạy")
    box = cancel.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= size["width"]
    shot(page, artifacts, f"{screen}-4-dang-chay")
    cancel.click()
    expect(page.locator(".flash-ok")).to_contain_text(f"Đã hủy lệnh khẩn cấp số {emergency.id}")
    assert_fits(page, size["width"], "sau khi hủy")
    shot(page, artifacts, f"{screen}-5-da-huy")
    with sessions() as s:
        assert s.get_one(Emergency, emergency.id).state == "da_huy"
    context.close()


def test_an_approver_sees_an_editors_request_on_the_phone_dashboard_and_releases_it(
    browser: Any, live_server: str, artifacts: Path, sessions: sessionmaker[Session]
) -> None:
    from playwright.sync_api import expect

    base, size = live_server, SCREENS["dien-thoai"]
    editor = browser.new_context(viewport=size, locale="vi-VN", is_mobile=True)
    page = editor.new_page()
    page.goto(f"{base}/dang-nhap")
    page.fill('input[name="username"]', "bientap")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.goto(f"{base}/khan-cap/")
    page.fill('textarea[name="text"]', WARNING)
    page.fill('textarea[name="targets"]', "Xã Ia Dêr")
    page.click("button:has-text('Tiếp tục')")
    page.click("button:has-text('Gửi yêu cầu phát')")
    expect(page.locator(".flash-ok")).to_contain_text("chờ người duyệt cho phát")
    editor.close()
    with sessions() as s:
        emergency = s.scalars(select(Emergency).where(Emergency.state == "cho_duyet")).one()

    approver = browser.new_context(viewport=size, locale="vi-VN", is_mobile=True)
    page = approver.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{base}/dang-nhap")
    page.fill('input[name="username"]', "duyet")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{base}/")
    card = page.locator("section:has(#em-wait-h)")
    expect(card).to_contain_text(f"Lệnh số {emergency.id}")
    expect(card.locator(f'a[href="/khan-cap/{emergency.id}"]').first).to_be_visible()
    assert_fits(page, size["width"], "Tổng quan, lệnh chờ duyệt")
    shot(page, artifacts, "dien-thoai-6-tong-quan-cho-duyet")
    card.locator("button:has-text('Cho phát ngay')").click()
    expect(page.locator(".flash-ok")).to_contain_text(f"Đã cho phát lệnh khẩn cấp số {emergency.id} tới 2 đài")
    with sessions() as s:
        assert s.get_one(Emergency, emergency.id).state == "dang_chay"
    approver.close()
