"""Tin tuyến trên on a 390×844 phone: a commune approver sees what waits for the commune, listens,
and declines with one tap, with no sideways scrolling. Screenshots: tests/e2e/artifacts/tin-tuyen-tren-*.png."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from e2e_support import PASSWORD
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from scheduler.accounts import create_user
from scheduler.db.models import Bulletin, Commune, CommuneDecision, User
from scheduler.db.session import transaction
from tests.e2e.test_emergency_flow import assert_fits
from tests.fake_clock import FakeClock

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def test_a_commune_approver_declines_a_bulletin_from_above_on_a_phone(
    browser: Any, live_server: str, artifacts: Path, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    from playwright.sync_api import expect

    now = clock()
    with transaction(sessions) as s:
        s.execute(update(Commune).where(Commune.name == "Xã Ia Dêr").values(upstream_mode="chon"))
        create_user(s, "duyet_xa", "approver", PASSWORD, now, commune="Xã Ia Dêr")
        author = s.scalars(select(User).where(User.username == "bientap")).one()
        for code, title in (("TINH-07", "Thông báo của UBND tỉnh về lịch tiếp công dân định kỳ tháng 12 năm 2026"),
                            ("TINH-08", "Hướng dẫn nộp hồ sơ dịch vụ công trực tuyến toàn trình")):
            s.add(Bulletin(code=code, title=title, text="Nội dung " * 40, topic="tthc", priority="thuong",
                           status="da_duyet", valid_from=date(2026, 11, 23), valid_to=date(2026, 12, 31),
                           plays_per_week=3, targets=["*"], author_id=author.id, approved_at=now, created_at=now,
                           updated_at=now))
    base = live_server
    context = browser.new_context(viewport=PHONE, locale="vi-VN", is_mobile=True)
    page = context.new_page()
    page.goto(f"{base}/dang-nhap")
    page.fill('input[name="username"]', "duyet_xa")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{base}/")
    expect(page.locator("a.stat")).to_contain_text("2tin tuyến trên chờ xã chọn")
    assert_fits(page, PHONE["width"], "/ (tổng quan)")
    page.screenshot(path=str(artifacts / "tin-tuyen-tren-0-tong-quan.png"), full_page=True)
    page.click("label.nav-button")
    page.click("nav >> text=Tin tuyến trên")
    expect(page.locator("#pending-h")).to_have_text("Chờ quyết định (2)")
    assert_fits(page, PHONE["width"], "/tin-tuyen-tren/")
    page.screenshot(path=str(artifacts / "tin-tuyen-tren-1-cho.png"), full_page=True)

    card = page.locator('[data-choice="TINH-07|Xã Ia Dêr"]')
    card.locator("button:has-text('Không phát')").click()
    expect(page.locator(".flash-ok")).to_contain_text("«Không phát» bản tin TINH-07")
    expect(page.locator("#pending-h")).to_have_text("Chờ quyết định (1)")
    expect(page.locator('[data-choice="TINH-07|Xã Ia Dêr"] .badge')).to_have_text("Xã không phát")
    assert_fits(page, PHONE["width"], "sau khi chọn")
    page.screenshot(path=str(artifacts / "tin-tuyen-tren-2-da-chon.png"), full_page=True)
    with sessions() as s:
        assert [(d.bulletin_code, d.decision) for d in s.scalars(select(CommuneDecision))] == [("TINH-07", "khong")]
    context.close()
