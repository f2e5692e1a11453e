"""Alerts and remote care on a 390×844 phone in a real browser: a commune operator sees their commune's
alert, switches the amplifier off and sets the volume from the station page (a bad value gets a
Vietnamese message); an admin adds a recipient on the same phone. No sideways scrolling anywhere."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.accounts import hash_password
from scheduler.db.models import Alert, AlertRecipient, Commune, Station, StationCommand, User
from scheduler.db.session import transaction
from tests.fake_clock import FakeClock

pytestmark = pytest.mark.browser

PASSWORD = "mat-khau-2026"
PHONE = {"width": 390, "height": 844}


def _no_sideways_scroll(page: Any, where: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    inner = page.evaluate("window.innerWidth")
    assert width <= inner, f"{where}: the page is {width}px wide on a {inner}px phone"


def _login(browser: Any, base: str, username: str) -> Any:
    context = browser.new_context(viewport=PHONE, locale="vi-VN", is_mobile=True)
    page = context.new_page()
    page.goto(f"{base}/dang-nhap")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_load_state()
    return page


def test_operator_sees_alerts_and_cares_for_a_station_on_a_phone(
    browser: Any, live_server: str, artifacts: Path, seeded: Any, sessions: sessionmaker[Session], clock: FakeClock,
) -> None:
    from playwright.sync_api import expect

    now = clock()
    with transaction(sessions) as s:
        commune = s.scalars(select(Commune).where(Commune.name == "Xã Ia Dêr")).one()
        s.add(User(username="vanhanh", full_name="Vận hành Ia Dêr", role="operator", commune=commune,
                   password_hash=hash_password(PASSWORD), created_at=now))
        for code, where in (("IADER-02", "Xã Ia Dêr"), ("CHUPUH-01", "Xã Chư Pưh")):
            station = s.scalars(select(Station).where(Station.code == code)).one()
            s.add(Alert(key=f"silent:{code}", kind="silent", station_id=station.id, station_code=code, commune=where,
                        area="", detail="Không liên lạc với máy chủ từ 40 phút trước (ngưỡng 15 phút).",
                        opened_at=now - timedelta(minutes=25), sent={}, recovery_sent={}, errors=""))
    base = live_server
    page = _login(browser, base, "vanhanh")
    page.goto(f"{base}/canh-bao/")
    expect(page.locator(".alert-item")).to_have_count(1)
    expect(page.locator(".alert-item")).to_contain_text("Đài mất liên lạc — IADER-02")
    _no_sideways_scroll(page, "Cảnh báo")
    page.screenshot(path=str(artifacts / "50-dien-thoai-canh-bao.png"), full_page=True)

    page.goto(f"{base}/dai/IADER-01")
    page.click("#care button:has-text('Tắt ampli')")
    expect(page.locator(".flash-ok")).to_contain_text("Đã gửi lệnh «Bật/tắt ampli» tới đài IADER-01")
    expect(page.locator(".care-list li").first).to_contain_text("Chờ đầu thu trả lời")
    page.fill("#care-volume", "mười")
    page.click("#care button:has-text('Đặt âm lượng')")
    expect(page.locator(".flash-error")).to_contain_text("Âm lượng «mười» không hợp lệ; dùng số nguyên từ 0 đến 100.")
    page.fill("#care-volume", "65")
    page.click("#care button:has-text('Đặt âm lượng')")
    expect(page.locator(".care-list li").first).to_contain_text("Đặt âm lượng 65")
    _no_sideways_scroll(page, "Đài IADER-01, chăm sóc từ xa")
    page.locator("#care").screenshot(path=str(artifacts / "51-dien-thoai-cham-soc-tu-xa.png"))
    with sessions() as s:
        sent = [(c.kind, c.payload.get("state"), c.payload.get("volume"))
                for c in s.scalars(select(StationCommand).order_by(StationCommand.id))]
    assert sent == [("amplifier", "off", None), ("volume", None, 65)]


def test_admin_adds_a_recipient_on_a_phone(
    browser: Any, live_server: str, artifacts: Path, seeded: Any, sessions: sessionmaker[Session],
) -> None:
    from playwright.sync_api import expect

    base = live_server
    page = _login(browser, base, "quantri")
    page.goto(f"{base}/canh-bao/")
    _no_sideways_scroll(page, "Cảnh báo (quản trị)")
    page.fill("#r_name", "Tổ kỹ thuật tỉnh")
    page.fill("#r_webhook_url", "https://api.telegram.org/botMA/sendMessage")
    page.select_option("#r_webhook_format", "telegram")
    page.click("button:has-text('Thêm người nhận')")
    expect(page.locator(".flash-error")).to_contain_text("Telegram cần mã cuộc trò chuyện (chat_id).")
    expect(page.locator("#r_name")).to_have_value("Tổ kỹ thuật tỉnh")
    page.fill("#r_chat_id", "-1001234")
    page.check("input[name=kinds][value=silent]")
    page.click("button:has-text('Thêm người nhận')")
    expect(page.locator(".flash-ok")).to_contain_text("Đã thêm người nhận «Tổ kỹ thuật tỉnh».")
    expect(page.locator("main")).not_to_contain_text("botMA")  # the bot token in the URL is not shown
    _no_sideways_scroll(page, "Cảnh báo, after adding")
    page.screenshot(path=str(artifacts / "52-dien-thoai-nguoi-nhan-canh-bao.png"), full_page=True)
    with sessions() as s:
        saved = s.scalars(select(AlertRecipient)).one()
    assert (saved.webhook_format, saved.chat_id, saved.kinds) == ("telegram", "-1001234", ["silent"])
