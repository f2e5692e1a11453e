"""Alerts reach the right people once, by e-mail and webhook, and again when the station recovers;
run against a real SMTP server (aiosmtpd) and a real HTTP receiver, on both database backends."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from alert_receivers import SmtpServer, WebhookReceiver
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.alerts.config import AlertConfigInvalid, RecipientInput, add_recipient, set_rule
from scheduler.alerts.engine import check_alerts
from scheduler.db.models import Alert, AudioAsset, Bulletin, Emergency, EmergencyStation, PlayLog, Station
from scheduler.db.session import transaction
from scheduler.liveness import record_contact
from scheduler.service.config import ServiceConfig
from scheduler.service.jobs import JobContext, alert_summary
from scheduler.settings import Settings

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # Monday 10:00 in Hà Nội


def contact(sessions: sessionmaker[Session], at: datetime, *codes: str, **status: object) -> None:
    with transaction(sessions) as s:
        for station in s.scalars(select(Station).where(Station.code.in_(codes))):
            record_contact(station, "status", at, every=timedelta(0))
            if status:
                station.status = {**(station.status or {}), **status}


def recipient(sessions: sessionmaker[Session], **kw: object) -> None:
    with transaction(sessions) as s:
        add_recipient(s, RecipientInput(**kw), None, NOW)  # type: ignore[arg-type]


def open_keys(sessions: sessionmaker[Session]) -> set[str]:
    with sessions() as s:
        return set(s.scalars(select(Alert.key).where(Alert.closed_at.is_(None))))


def test_a_silent_station_is_told_once_to_the_people_of_its_commune_and_area_then_its_recovery(
    province: sessionmaker[Session], alert_settings: Settings, mail: SmtpServer, webhooks: WebhookReceiver
) -> None:
    recipient(province, name="Cán bộ xã Ia Grai", email="iagrai@xa.gov.vn", commune="Ia Grai")
    recipient(province, name="Khu vực Tây", webhook_url=webhooks.url("/tay"), area="Tây Gia Lai")
    recipient(province, name="Xã Chư Păh", email="chupah@xa.gov.vn", webhook_url=webhooks.url("/tg"),
              webhook_format="telegram", chat_id="-100123", commune="Chư Păh")
    contact(province, NOW - timedelta(minutes=40), "IAGRAI-01")
    contact(province, NOW - timedelta(minutes=2), "IAGRAI-02", "IADER-01", "CHUPAH-01")

    outcome = check_alerts(province, alert_settings, NOW)
    assert outcome.opened == ["silent:IAGRAI-01"]
    assert [m["Subject"] for m in mail.inbox.to("iagrai@xa.gov.vn")] == [
        "[loaxa] Cảnh báo: Đài mất liên lạc — đài IAGRAI-01"]
    body = mail.inbox.to("iagrai@xa.gov.vn")[0].get_content()
    assert "Không liên lạc với máy chủ từ 40 phút trước (ngưỡng 15 phút)" in body
    assert "10:00 ngày 23/11/2026" in body and "https://loaxa.tinh.gov.vn/dai/IAGRAI-01" in body
    assert mail.inbox.to("chupah@xa.gov.vn") == [] and webhooks.at("/tg") == []
    [hook] = webhooks.at("/tay")
    assert hook.body["event"] == "alert" and hook.body["station"] == "IAGRAI-01"
    assert hook.body["commune"] == "Ia Grai" and hook.body["area"] == "Tây Gia Lai"

    # De-duplication: the station stays silent, nobody is told again.
    again = check_alerts(province, alert_settings, NOW + timedelta(minutes=5))
    assert again.opened == [] and again.sent == 0
    assert len(mail.inbox.messages) == 1 and len(webhooks.hooks) == 1

    contact(province, NOW + timedelta(minutes=9), "IAGRAI-01")
    back = check_alerts(province, alert_settings, NOW + timedelta(minutes=10))
    assert back.recovered == ["silent:IAGRAI-01"] and back.sent == 2
    recovery = mail.inbox.to("iagrai@xa.gov.vn")[1]
    assert recovery["Subject"] == "[loaxa] Đã trở lại bình thường: Đài mất liên lạc — đài IAGRAI-01"
    assert "sau 10 phút" in recovery.get_content()
    assert webhooks.at("/tay")[1].body["event"] == "recovery"
    assert open_keys(province) == set()

    # Silent again: a new alert, told again.
    later = NOW + timedelta(hours=2)
    contact(province, later, "IAGRAI-02", "IADER-01", "CHUPAH-01")
    assert check_alerts(province, alert_settings, later).opened == ["silent:IAGRAI-01"]
    assert len(mail.inbox.to("iagrai@xa.gov.vn")) == 3


def test_disk_clock_and_relay_rules_with_zalo_and_telegram_formats(
    province: sessionmaker[Session], alert_settings: Settings, webhooks: WebhookReceiver
) -> None:
    recipient(province, name="Zalo tỉnh", webhook_url=webhooks.url("/zalo"), webhook_format="zalo",
              chat_id="8844", secret="oa-token-1")
    recipient(province, name="Telegram kỹ thuật", webhook_url=webhooks.url("/tg"), webhook_format="telegram",
              chat_id="-1001", kinds=["disk"])
    contact(province, NOW, "IAGRAI-01", "IAGRAI-02", "IADER-01", "CHUPAH-01", disk_free_mb=900, clock_offset_ms=200)
    contact(province, NOW, "IAGRAI-02", disk_free_mb=120)
    contact(province, NOW, "IADER-01", clock_offset_ms=-95_000)
    with transaction(province) as s:
        station = s.scalars(select(Station).where(Station.code == "CHUPAH-01")).one()
        for n, result in enumerate(["played", "failed"]):
            s.add(PlayLog(play_id=f"relay-{n}", station_id=station.id, station_code=station.code, kind="relay",
                          title="Thời sự VOV", actual_start=NOW - timedelta(hours=2 - n), result=result,
                          reason="Không mở được luồng tiếp sóng." if result == "failed" else "",
                          received_at=NOW))
    outcome = check_alerts(province, alert_settings, NOW)
    assert sorted(outcome.opened) == ["clock:IADER-01", "disk:IAGRAI-02", "relay:CHUPAH-01"]
    zalo = webhooks.at("/zalo")
    assert len(zalo) == 3 and {h.headers["access_token"] for h in zalo} == {"oa-token-1"}
    assert all(h.body["recipient"] == {"user_id": "8844"} for h in zalo)
    texts = " ".join(h.body["message"]["text"] for h in zalo)
    assert "Còn trống 120 MB (ngưỡng 200 MB)" in texts
    assert "Đồng hồ đầu thu nhanh 95,0 giây so với máy chủ (ngưỡng 5 giây)" in texts
    assert "Không mở được luồng tiếp sóng." in texts
    [tg] = webhooks.at("/tg")  # this recipient hears of disk alerts only
    assert tg.body["chat_id"] == "-1001" and "IAGRAI-02" in tg.body["text"]

    # A box that has gone quiet keeps its alerts: unknown facts clear nothing.
    with transaction(province) as s:
        station = s.scalars(select(Station).where(Station.code == "IAGRAI-02")).one()
        station.status = {}
    assert check_alerts(province, alert_settings, NOW + timedelta(minutes=1)).recovered == []
    # The relay works again and the clock is fixed: both recover.
    with transaction(province) as s:
        station = s.scalars(select(Station).where(Station.code == "CHUPAH-01")).one()
        s.add(PlayLog(play_id="relay-2", station_id=station.id, station_code=station.code, kind="relay",
                      actual_start=NOW + timedelta(minutes=2), result="played", received_at=NOW))
    contact(province, NOW + timedelta(minutes=2), "IADER-01", clock_offset_ms=1200)
    back = check_alerts(province, alert_settings, NOW + timedelta(minutes=3))
    assert sorted(back.recovered) == ["clock:IADER-01", "relay:CHUPAH-01"]
    assert open_keys(province) == {"disk:IAGRAI-02"}
    # The box's relay watchdog reports the stream down now: an alert at once, over when it clears.
    fault = {"title": "Thời sự VOV1", "kind": "relay", "reason": "luồng im lặng quá 20 giây"}
    contact(province, NOW + timedelta(minutes=4), "IADER-01", stream_fault=fault)
    assert check_alerts(province, alert_settings, NOW + timedelta(minutes=4)).opened == ["relay:IADER-01"]
    assert "Luồng tiếp sóng đang hỏng: «Thời sự VOV1» — luồng im lặng quá 20 giây" in \
        webhooks.at("/zalo")[-1].body["message"]["text"]
    contact(province, NOW + timedelta(minutes=5), "IADER-01", stream_fault=None)
    assert check_alerts(province, alert_settings, NOW + timedelta(minutes=5)).recovered == ["relay:IADER-01"]


def test_a_threshold_change_and_a_rule_turned_off(
    province: sessionmaker[Session], alert_settings: Settings, webhooks: WebhookReceiver
) -> None:
    recipient(province, name="Tỉnh", webhook_url=webhooks.url("/t"))
    contact(province, NOW - timedelta(minutes=20), "IAGRAI-01", "IAGRAI-02", "IADER-01", "CHUPAH-01")
    with transaction(province) as s:
        set_rule(s, "silent", True, 30, None, NOW)
    assert check_alerts(province, alert_settings, NOW).opened == []
    with transaction(province) as s:
        set_rule(s, "silent", True, 10, None, NOW)
    assert len(check_alerts(province, alert_settings, NOW).opened) == 4
    with transaction(province) as s:
        set_rule(s, "silent", False, None, None, NOW)
    off = check_alerts(province, alert_settings, NOW + timedelta(minutes=1))
    assert len(off.closed_quietly) == 4 and off.sent == 0 and open_keys(province) == set()
    with pytest.raises(AlertConfigInvalid, match="phải từ 1 đến 10080"), transaction(province) as s:
        set_rule(s, "silent", True, 0, None, NOW)


def test_a_failed_delivery_is_retried_and_then_sent_once(
    province: sessionmaker[Session], alert_settings: Settings, webhooks: WebhookReceiver
) -> None:
    recipient(province, name="Tỉnh", webhook_url=webhooks.url("/t"))
    contact(province, NOW - timedelta(minutes=30), "CHUPAH-01")
    webhooks.status, webhooks.answer = 503, {"error": "bận"}
    first = check_alerts(province, alert_settings, NOW)
    assert first.sent == 0 and first.failed == ["silent:CHUPAH-01 → Tỉnh"]
    with province() as s:
        assert "HTTP 503" in s.scalars(select(Alert.errors)).one()
    webhooks.status, webhooks.answer = 200, {"ok": True}
    second = check_alerts(province, alert_settings, NOW + timedelta(minutes=1))
    assert second.sent == 1
    assert check_alerts(province, alert_settings, NOW + timedelta(minutes=2)).sent == 0
    assert len(webhooks.hooks) == 2  # refused, then delivered, then nothing more


def test_an_unreachable_smtp_server_is_reported_not_raised(
    province: sessionmaker[Session], alert_settings: Settings
) -> None:
    recipient(province, name="Thư", email="a@xa.gov.vn")
    contact(province, NOW - timedelta(minutes=30), "CHUPAH-01")
    dead = replace(alert_settings, smtp_url="smtp://127.0.0.1:9")
    outcome = check_alerts(province, dead, NOW)
    assert outcome.failed == ["silent:CHUPAH-01 → Thư"]
    with province() as s:
        assert "Không gửi được thư tới a@xa.gov.vn qua 127.0.0.1:9" in s.scalars(select(Alert.errors)).one()


def test_an_emergency_not_aired_on_a_station_alerts_until_it_airs(
    province: sessionmaker[Session], alert_settings: Settings, mail: SmtpServer
) -> None:
    recipient(province, name="Xã Ia Dêr", email="iader@xa.gov.vn", commune="Ia Dêr")
    contact(province, NOW, "IAGRAI-01", "IAGRAI-02", "IADER-01", "CHUPAH-01")
    with transaction(province) as s:
        set_rule(s, "silent", False, None, None, NOW)
        sha = hashlib.sha256(b"bao").hexdigest()
        bulletin = Bulletin(code="KC-01", title="Cảnh báo bão số 9", text="Bão.", topic="khac", status="da_duyet",
                            priority="khan_cap", valid_from=date(2026, 11, 23), valid_to=date(2026, 11, 23),
                            targets=["*"], created_at=NOW, updated_at=NOW,
                            audio=AudioAsset(sha256=sha, file_name="a.mp3", duration_ms=60_000, engine="test",
                                             created_at=NOW))
        emergency = Emergency(bulletin=bulletin, targets=["Ia Dêr"], starts_at=NOW, created_at=NOW, started_at=NOW,
                              airings=[NOW.isoformat()])
        s.add(emergency)
        s.flush()
        station = s.scalars(select(Station).where(Station.code == "IADER-01")).one()
        s.add(EmergencyStation(emergency_id=emergency.id, station_id=station.id, station_code="IADER-01",
                               commune="Ia Dêr", state="da_gui", airing=0, updated_at=NOW))
        emergency_id = emergency.id
    assert check_alerts(province, alert_settings, NOW + timedelta(minutes=5)).opened == []  # not expired yet
    late = NOW + timedelta(minutes=16)  # 15 minutes to air, nothing back from the box
    assert check_alerts(province, alert_settings, late).opened == [f"emergency:{emergency_id}:IADER-01"]
    [message] = mail.inbox.to("iader@xa.gov.vn")
    assert "Tin khẩn cấp «Cảnh báo bão số 9»" in message.get_content()
    with transaction(province) as s:
        row = s.scalars(select(EmergencyStation)).one()
        row.state, row.plays = "da_phat", 1
    assert check_alerts(province, alert_settings, late + timedelta(minutes=1)).recovered == [
        f"emergency:{emergency_id}:IADER-01"]


def test_the_daily_summary_goes_once_a_local_day_from_its_hour(
    province: sessionmaker[Session], alert_settings: Settings, mail: SmtpServer, webhooks: WebhookReceiver
) -> None:
    recipient(province, name="Xã Ia Grai", email="iagrai@xa.gov.vn", commune="Ia Grai")
    recipient(province, name="Tỉnh", webhook_url=webhooks.url("/t"))
    recipient(province, name="Không tóm tắt", email="no@xa.gov.vn", daily_summary=False)
    context = JobContext(alert_settings, province, ServiceConfig(), lambda: NOW)
    early = datetime(2026, 11, 23, 23, 59, tzinfo=UTC)  # Tuesday 06:59 in Hà Nội
    contact(province, early - timedelta(minutes=2), "IADER-01", "CHUPAH-01")
    contact(province, early - timedelta(hours=1), "IAGRAI-01")
    check_alerts(province, alert_settings, early)  # IAGRAI-02 never made contact: no silent alert
    assert alert_summary(context, early) == {}
    seven = early + timedelta(minutes=1)
    assert alert_summary(context, seven) == {"Xã Ia Grai": None, "Tỉnh": None}
    assert alert_summary(context, seven + timedelta(hours=1)) == {}
    [summary] = [m for m in mail.inbox.to("iagrai@xa.gov.vn") if "Tóm tắt" in m["Subject"]]
    assert summary["Subject"] == "[loaxa] Tóm tắt ngày 24/11/2026: 0/2 đài liên lạc, 1 cảnh báo mở"
    text = summary.get_content()
    assert "Tóm tắt ngày 24/11/2026 — Ia Grai" in text
    assert "- Đài mất liên lạc: đài IAGRAI-01 (Ia Grai), từ 06:59 ngày 24/11/2026" in text
    [hook] = [h for h in webhooks.at("/t") if h.body["event"] == "summary"]
    assert hook.body["stations"] == 4 and hook.body["online"] == 2 and hook.body["opened_today"] == 1
    assert [m["Subject"] for m in mail.inbox.to("no@xa.gov.vn") if "Tóm tắt" in m["Subject"]] == []  # alerts only
    # The next local day begins at 17:00 UTC: the summary goes again from 07:00 that day.
    assert alert_summary(context, datetime(2026, 11, 24, 17, 30, tzinfo=UTC)) == {}
    assert set(alert_summary(context, datetime(2026, 11, 25, 0, 0, tzinfo=UTC))) == {"Xã Ia Grai", "Tỉnh"}


def test_recipients_are_checked_with_vietnamese_errors(province: sessionmaker[Session]) -> None:
    with pytest.raises(AlertConfigInvalid) as caught, transaction(province) as s:
        add_recipient(s, RecipientInput(name="X", email="không-phải-thư", webhook_url="ftp://a",
                                        webhook_format="zalo", commune="Không Có", kinds=["bão"]), None, NOW)
    errors = caught.value.errors
    assert errors["email"] == "Địa chỉ thư «không-phải-thư» không hợp lệ (ví dụ: canbo@xa.gov.vn)."
    assert "http://" in errors["webhook_url"] and "user_id" in errors["chat_id"] and "access token" in errors["secret"]
    assert errors["commune"].startswith("Không có xã «Không Có»") and "«bão»" in errors["kinds"]
    with pytest.raises(AlertConfigInvalid, match="Cần ít nhất một kênh"), transaction(province) as s:
        add_recipient(s, RecipientInput(name="Y"), None, NOW)


def test_a_box_saying_its_disk_is_full_raises_the_disk_alert_whatever_its_free_figure(
    province: sessionmaker[Session], alert_settings: Settings, webhooks: WebhookReceiver
) -> None:
    recipient(province, name="Kỹ thuật", webhook_url=webhooks.url("/kt"), kinds=["disk"])
    with transaction(province) as s:
        set_rule(s, "disk", True, 2, None, NOW)
    contact(province, NOW, "IAGRAI-01", "IAGRAI-02", "IADER-01", "CHUPAH-01", disk_free_mb=3,
            storage={"state": "ok"})
    contact(province, NOW, "IAGRAI-01", storage={"state": "full", "label": "đầy bộ nhớ", "since": NOW.isoformat()})
    outcome = check_alerts(province, alert_settings, NOW)
    assert outcome.opened == ["disk:IAGRAI-01"]
    [hook] = webhooks.at("/kt")
    assert "Đầu thu đầy bộ nhớ" in str(hook.body) and "Còn trống 3 MB" in str(hook.body)
    contact(province, NOW + timedelta(minutes=1), "IAGRAI-01", disk_free_mb=40, storage={"state": "ok"})
    assert check_alerts(province, alert_settings, NOW + timedelta(minutes=2)).recovered == ["disk:IAGRAI-01"]
