"""The station page shows the receiver's self-report as labelled Vietnamese facts in local time."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from web_pages import text_of

from scheduler.db.models import Station
from scheduler.station_status import clock_offset, disk_free, number
from tests.fake_clock import FakeClock

Client = Callable[[str], FlaskClient]


def _receiver(html: str) -> dict[str, str]:
    block = html[html.index('id="receiver"'):]
    block = block[:block.index("</dl>")]
    pairs = re.findall(r"<dt>(.*?)</dt><dd[^>]*>(.*?)</dd>", block, flags=re.S)
    return {text_of(k): text_of(v) for k, v in pairs}


def test_an_agents_report_reads_as_vietnamese_facts_in_local_time(as_user: Client, sessions: sessionmaker[Session],
                                                                  clock: FakeClock) -> None:
    now = clock()  # 05:00 local
    with sessions.begin() as s:
        station = s.scalars(select(Station).where(Station.code == "IADER-01")).one()
        station.last_manifest_at = now - timedelta(minutes=40)
        station.last_status_at = now - timedelta(minutes=2)
        station.status = {  # exactly what scheduler/agent/agent.py `status` sends
            "state": "online", "at": (now - timedelta(minutes=2)).isoformat(), "agent_version": "0.9.1",
            "clock_offset_ms": 1840, "disk_free_mb": 5325, "volume": 70, "amplifier": "on", "power": "battery",
            "player": "mpv",
            "playing": {"title": "Tuyên truyền CCHC", "kind": "bulletin", "bulletin": "BT-1",
                        "since": (now - timedelta(minutes=1)).isoformat(), "emergency": False},
            "manifests": {"2026-W48": {"active": 3}}, "outbox": 0, "stream_fault": None, "mqtt": True,
            "received_at": (now - timedelta(minutes=2)).isoformat(),
        }
    html = as_user("vanhanh").get("/dai/IADER-01").get_data(as_text=True)
    facts = _receiver(html)
    assert facts == {
        "Trạng thái": "Trực tuyến",
        "Lần liên lạc cuối — nhận lịch": "04:20 23/11/2026 (40 phút trước)",
        "Lần liên lạc cuối — báo trạng thái": "04:58 23/11/2026 (2 phút trước)",
        "Lần liên lạc cuối — gửi nhật ký phát": "chưa bao giờ",
        "Phiên bản phần mềm": "loaxa 0.9.1",
        "Lệch đồng hồ": "Đồng hồ máy thu chậm 1,8 giây so với máy chủ",
        "Dung lượng trống": "5,2 GB",
        "Âm lượng": "70%",
        "Ampli": "Đang bật",
        "Nguồn điện": "Ắc quy dự phòng",
        "Đang phát": "«Tuyên truyền CCHC» (Bản tin), từ 04:59",
        "Nhật ký phát chờ gửi": "0 dòng",
        "Kênh đẩy (MQTT)": "Đã kết nối",
        "Báo trạng thái lúc": "04:58 23/11/2026 (2 phút trước)",
    }
    page = text_of(html)
    for raw in ("None", "agent_version", "clock_offset", "disk_free", "amplifier", "received_at", "+00:00", "T21:"):
        assert raw not in page, raw


def test_a_silent_station_without_a_report_says_so(as_user: Client) -> None:
    facts = _receiver(as_user("quantri").get("/dai/IADER-02").get_data(as_text=True))
    assert facts["Trạng thái"] == "Mất kết nối (chưa liên lạc lần nào)"
    assert facts["Phiên bản phần mềm"] == facts["Âm lượng"] == facts["Ampli"] == facts["Nguồn điện"] == "Chưa báo"
    assert facts["Lệch đồng hồ"] == "Chưa đo được" and facts["Đang phát"] == "Không phát gì"


def test_offsets_disks_and_numbers_read_the_vietnamese_way() -> None:
    assert clock_offset(-7250).value == "Đồng hồ máy thu nhanh 7,2 giây so với máy chủ" and clock_offset(-7250).warn
    assert clock_offset(120).value == "Đúng giờ (lệch 0,1 giây)" and not clock_offset(120).warn
    assert disk_free(150).value == "150 MB" and disk_free(150).warn
    assert number(1234567.5, 1) == "1.234.567,5"
