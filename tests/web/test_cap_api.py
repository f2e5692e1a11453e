"""POST /api/v1/cap with a per-source API key, and GET /api/v1/cap/<id>.xml: real HTTP through the app."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import xmlschema
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.models import Emergency, Source
from scheduler.db.session import transaction
from scheduler.emergencies import cap
from scheduler.sources import add_source
from tests.fake_clock import FakeClock

SCHEMA = xmlschema.XMLSchema(str(Path(cap.__file__).with_name("schemas") / "CAP-v1.2.xsd"))


def alert(identifier: str = "VN-PCTT-2026-77", commune: str = "Xã Ia Dêr") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier><sender>pctt@gialai.gov.vn</sender><sent>2026-11-23T04:50:00+07:00</sent>
  <status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
  <info><language>vi-VN</language><category>Fire</category><event>Cháy rừng</event><urgency>Immediate</urgency>
    <severity>Extreme</severity><certainty>Observed</certainty>
    <headline>Cháy rừng gần làng Bông</headline><instruction>Bà con tránh xa khu rừng phía đông.</instruction>
    <area><areaDesc>{commune}</areaDesc><geocode><valueName>loaxa:commune</valueName><value>{commune}</value></geocode></area>
  </info>
</alert>""".encode()


def source_key(sessions: sessionmaker[Session], clock: FakeClock) -> str:
    with transaction(sessions) as s:
        return add_source(s, "pctt-gia-lai", clock())[1]


def test_an_alert_needs_a_source_key_and_becomes_a_pending_emergency(client: FlaskClient, sessions: sessionmaker[Session], clock: FakeClock) -> None:
    key = source_key(sessions, clock)
    headers = {"Content-Type": "application/cap+xml"}
    refused = client.post("/api/v1/cap", data=alert(), headers=headers)
    assert refused.status_code == 401 and "X-API-Key" in refused.get_json()["error"]
    wrong = client.post("/api/v1/cap", data=alert(), headers={**headers, "X-API-Key": "lsk_sai"})
    assert wrong.status_code == 401
    created = client.post("/api/v1/cap", data=alert(), headers={**headers, "X-API-Key": key})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["state"], body["action"], body["stations"]) == ("cho_duyet", "pending", 2)
    again = client.post("/api/v1/cap", data=alert(), headers={**headers, "Authorization": f"Bearer {key}"})
    assert again.status_code == 200 and again.get_json()["emergency"] == body["emergency"]
    with sessions() as s:
        emergency = s.get_one(Emergency, body["emergency"])
        assert emergency.source_id == s.scalars(select(Source.id)).one()
        assert s.scalars(select(Source)).one().last_used_at is not None


def test_a_bad_alert_gets_a_vietnamese_400_and_stores_nothing(client: FlaskClient, sessions: sessionmaker[Session], clock: FakeClock) -> None:
    key = source_key(sessions, clock)
    response = client.post("/api/v1/cap", data=alert().replace(b"<scope>Public</scope>", b""),
                           headers={"X-API-Key": key})
    assert response.status_code == 400
    assert "không đúng lược đồ CAP 1.2" in response.get_json()["error"]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Emergency)) == 0


def test_the_approver_releases_it_with_one_click_and_the_export_is_valid_cap(client: FlaskClient, as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session],
                                                                              clock: FakeClock) -> None:
    key = source_key(sessions, clock)
    emergency_id = client.post("/api/v1/cap", data=alert(), headers={"X-API-Key": key}).get_json()["emergency"]
    approver = as_user("duyet")
    page = approver.get("/khan-cap/").get_data(as_text=True)
    assert "Cháy rừng gần làng Bông" in page and "Cảnh báo CAP" in page and "Cho phát ngay" in page
    released = approver.post(f"/khan-cap/{emergency_id}/cho-phat", follow_redirects=True)
    assert f"Đã cho phát lệnh khẩn cấp số {emergency_id} tới 2 đài" in released.get_data(as_text=True)
    exported = client.get(f"/api/v1/cap/{emergency_id}.xml", headers={"X-API-Key": key})
    assert exported.status_code == 200 and exported.mimetype == "application/cap+xml"
    SCHEMA.validate(exported.get_data())
    assert "Cháy rừng gần làng Bông" in exported.get_data(as_text=True)
    assert approver.get(f"/api/v1/cap/{emergency_id}.xml").status_code == 200  # a signed-in user may fetch it


def test_the_export_needs_a_key_or_a_user_who_may_see_the_emergency(client: FlaskClient, as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], clock: FakeClock) -> None:
    key = source_key(sessions, clock)
    emergency_id = client.post("/api/v1/cap", data=alert(commune="Xã Chư Pưh"),
                               headers={"X-API-Key": key}).get_json()["emergency"]
    assert client.get(f"/api/v1/cap/{emergency_id}.xml").status_code == 401
    assert as_user("vanhanh").get(f"/api/v1/cap/{emergency_id}.xml").status_code == 404  # another commune's
    assert as_user("vanhanh_cp").get(f"/api/v1/cap/{emergency_id}.xml").status_code == 200
    assert as_user("xem").get(f"/api/v1/cap/{emergency_id}.xml").status_code == 401  # viewers see no emergencies
