"""The Cảnh báo page: admins set rules and recipients (Vietnamese errors, nothing half-saved); each
user sees the alerts of their scope only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from web_pages import World

from scheduler.alerts.engine import load_rules
from scheduler.db.models import Alert, AlertRecipient
from scheduler.db.session import transaction
from tests.fake_clock import FakeClock


def test_admin_sets_rules_and_a_bad_threshold_saves_none(
    as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], world: World
) -> None:
    admin = as_user("quantri")
    page = admin.get("/canh-bao/").get_data(as_text=True)
    assert "Đài mất liên lạc" in page and "Đồng hồ đầu thu lệch giờ" in page
    form = {"enabled_silent": "on", "threshold_silent": "45", "enabled_disk": "on", "threshold_disk": "300",
            "threshold_clock": "20", "enabled_relay": "on", "threshold_relay": "2", "enabled_emergency": "on"}
    assert admin.post("/canh-bao/quy-tac", data=form).status_code == 303
    with sessions() as s:
        rules = load_rules(s)
    assert (rules["silent"].threshold, rules["disk"].threshold, rules["relay"].threshold) == (45, 300, 2)
    assert rules["clock"].enabled is False and rules["clock"].threshold == 20 and rules["emergency"].enabled

    bad = admin.post("/canh-bao/quy-tac", data={**form, "threshold_silent": "10", "threshold_disk": "nhiều"})
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "Ngưỡng «nhiều» của quy tắc «Đầu thu sắp hết dung lượng» phải là số nguyên." in text
    with sessions() as s:
        assert load_rules(s)["silent"].threshold == 45  # nothing of the bad form was kept


def test_admin_adds_and_removes_recipients_with_errors_in_vietnamese(
    as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], world: World
) -> None:
    admin = as_user("quantri")
    bad = admin.post("/canh-bao/nguoi-nhan", data={"name": "Tổ kỹ thuật", "email": "sai-dia-chi",
                                                  "webhook_url": "https://api.telegram.org/botX/sendMessage",
                                                  "webhook_format": "telegram", "commune": "Xã Ia Dêr"})
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "Địa chỉ thư «sai-dia-chi» không hợp lệ" in text and "Telegram cần mã cuộc trò chuyện" in text
    assert 'value="Tổ kỹ thuật"' in text  # what was typed is kept
    ok = admin.post("/canh-bao/nguoi-nhan", data={"name": "Tổ kỹ thuật", "email": "kythuat@xa.gov.vn",
                                                 "webhook_url": "https://api.telegram.org/botX/sendMessage",
                                                 "webhook_format": "telegram", "chat_id": "-1009",
                                                 "commune": "Xã Ia Dêr", "kinds": ["silent", "disk"],
                                                 "daily_summary": "on"})
    assert ok.status_code == 303
    page = admin.get("/canh-bao/").get_data(as_text=True)
    assert "Tổ kỹ thuật" in page and "[Xã Ia Dêr]" in page and "Đài mất liên lạc, Đầu thu sắp hết dung lượng" in page
    with sessions() as s:
        saved = s.scalars(select(AlertRecipient)).one()
        assert (saved.commune.name if saved.commune else None, saved.kinds, saved.chat_id) == (
            "Xã Ia Dêr", ["silent", "disk"], "-1009")
    assert admin.post(f"/canh-bao/nguoi-nhan/{saved.id}/xoa").status_code == 303
    with sessions() as s:
        assert s.scalars(select(AlertRecipient)).all() == []


def test_operators_see_their_communes_alerts_and_may_not_change_rules(
    as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], world: World, clock: FakeClock
) -> None:
    now = clock()
    with transaction(sessions) as s:
        for code, commune in (("IADER-01", "Xã Ia Dêr"), ("CHUPUH-01", "Xã Chư Pưh")):
            s.add(Alert(key=f"silent:{code}", kind="silent", station_id=world.stations[code], station_code=code,
                        commune=commune, area="", detail=f"Không liên lạc ({code}).", opened_at=now - timedelta(hours=1),
                        sent={}, recovery_sent={}, errors=""))
    page = as_user("vanhanh").get("/canh-bao/").get_data(as_text=True)
    assert "Không liên lạc (IADER-01)." in page and "CHUPUH-01" not in page
    assert "Quy tắc" not in page
    assert as_user("vanhanh").post("/canh-bao/quy-tac", data={"threshold_silent": "5"}).status_code == 403
    both = as_user("quantri").get("/canh-bao/").get_data(as_text=True)
    assert "IADER-01" in both and "CHUPUH-01" in both
