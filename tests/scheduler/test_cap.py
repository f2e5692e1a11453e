"""CAP 1.2 in and out, checked with a real XML Schema validator (xmlschema) against the OASIS schema:
alerts become pending emergencies on the stations their areas cover; loaxa's export is valid CAP."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import xmlschema
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.models import Bulletin, Emergency, EmergencyStation, ProgrammeItem
from scheduler.db.session import transaction
from scheduler.emergencies import cap, release_emergency
from scheduler.imports import import_stations
from scheduler.settings import Settings
from tests.fake_clock import FakeClock

SCHEMA = xmlschema.XMLSchema(str(Path(cap.__file__).with_name("schemas") / "CAP-v1.2.xsd"))
# Ia Grai stations near Pleiku; Chư Păh further north; one station with no coordinates.
STATIONS = """code,name,commune,area,province,languages,windows,lat,lon,speakers
IAGRAI-01,Cụm loa thôn Plei Ơi,Ia Grai,Tây Pleiku,Gia Lai,vi,T2-CN 05:30-06:30,13.9900,107.8100,4
IAGRAI-02,Cụm loa làng Bàu,Ia Grai,Tây Pleiku,Gia Lai,vi,T2-CN 05:30-06:30,14.0100,107.8300,3
CHUPAH-01,Cụm loa trung tâm,Chư Păh,,Gia Lai,vi,T2-CN 05:30-06:30,14.2500,108.0000,2
CHUPAH-02,Cụm loa làng Mơ Nú,Chư Păh,,Gia Lai,vi,T2-CN 05:30-06:30,,,2
"""
HEADLINE = "Cảnh báo lũ quét và sạt lở đất"
DESCRIPTION = "Mưa lớn 150 mm trong 24 giờ tới tại các xã vùng núi."
INSTRUCTION = "Bà con di dời khỏi vùng ven suối trước 17h00."


def alert(area: str, *, identifier: str = "VN-KTTV-2026-0917", msg_type: str = "Alert", status: str = "Actual",
          expires: str = "2026-11-24T18:00:00+07:00", references: str = "", language: str = "vi-VN",
          sender: str = "kttv@nchmf.gov.vn") -> bytes:
    refs = f"<references>{references}</references>" if references else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>{sender}</sender>
  <sent>2026-11-23T04:40:00+07:00</sent>
  <status>{status}</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>
  {refs}
  <info>
    <language>en-US</language>
    <category>Met</category>
    <event>Flash flood</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <headline>Flash flood warning</headline>
    <area><areaDesc>Gia Lai</areaDesc><geocode><valueName>loaxa:province</valueName><value>Gia Lai</value></geocode></area>
  </info>
  <info>
    <language>{language}</language>
    <category>Met</category>
    <event>Lũ quét</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <expires>{expires}</expires>
    <senderName>Trung tâm Dự báo khí tượng thủy văn quốc gia</senderName>
    <headline>{HEADLINE}</headline>
    <description>{DESCRIPTION}</description>
    <instruction>{INSTRUCTION}</instruction>
    {area}
  </info>
</alert>""".encode()


def geocode(kind: str, value: str) -> str:
    return f"<area><areaDesc>{value}</areaDesc><geocode><valueName>{kind}</valueName><value>{value}</value></geocode></area>"


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with transaction(sessions) as s:
        import_stations(s, STATIONS)
    return sessions


def do_import(sessions: sessionmaker[Session], settings: Settings, data: bytes, now: datetime) -> cap.Imported:
    with transaction(sessions) as s:
        imported = cap.import_alert(s, data, settings.media_dir, settings.audio, now)
        s.flush()
        return imported


def board_codes(sessions: sessionmaker[Session], emergency_id: int) -> list[str]:
    with sessions() as s:
        return list(s.scalars(select(EmergencyStation.station_code).where(EmergencyStation.emergency_id == emergency_id)
                              .order_by(EmergencyStation.station_code)))


def test_a_vietnamese_alert_becomes_a_pending_emergency_with_its_text(world: sessionmaker[Session], settings: Settings, clock: FakeClock) -> None:
    imported = do_import(world, settings, alert(geocode("loaxa:commune", "Ia Grai")), clock())
    assert (imported.action, imported.stations) == ("pending", 2)
    with world() as s:
        emergency = s.get_one(Emergency, imported.emergency.id)
        bulletin = s.get_one(Bulletin, emergency.bulletin_id)
        assert (emergency.state, emergency.origin, emergency.cap_identifier) == ("cho_duyet", "cap", "VN-KTTV-2026-0917")
        assert bulletin.title == HEADLINE  # the Vietnamese block, not the English one listed first
        assert bulletin.text == f"{HEADLINE}. {DESCRIPTION.rstrip('.')}. {INSTRUCTION.rstrip('.')}."
        assert bulletin.audio is not None and bulletin.audio.engine == "espeak"
        assert emergency.targets == ["Ia Grai"]
        # Nothing airs before an approver releases it.
        assert s.scalar(select(func.count()).select_from(ProgrammeItem)) == 0
    assert board_codes(world, imported.emergency.id) == ["IAGRAI-01", "IAGRAI-02"]


@pytest.mark.parametrize(
    ("area", "codes"),
    [
        (geocode("loaxa:station", "CHUPAH-02"), ["CHUPAH-02"]),
        (geocode("loaxa:area", "Tây Pleiku"), ["IAGRAI-01", "IAGRAI-02"]),
        (geocode("loaxa:province", "Gia Lai"), ["CHUPAH-01", "CHUPAH-02", "IAGRAI-01", "IAGRAI-02"]),
        # A box around the two Ia Grai stations only (lat,lon pairs, closed).
        ("<area><areaDesc>Ven suối Ia Grai</areaDesc>"
         "<polygon>13.98,107.80 13.98,107.84 14.02,107.84 14.02,107.80 13.98,107.80</polygon></area>",
         ["IAGRAI-01", "IAGRAI-02"]),
        # 5 km around IAGRAI-01: IAGRAI-02 is about 3 km away, Chư Păh 30 km.
        ("<area><areaDesc>Quanh Plei Ơi</areaDesc><circle>13.99,107.81 5</circle></area>", ["IAGRAI-01", "IAGRAI-02"]),
        ("<area><areaDesc>Sát Plei Ơi</areaDesc><circle>13.99,107.81 1</circle></area>", ["IAGRAI-01"]),
        # A station without coordinates is reached only by a geocode.
        ("<area><areaDesc>Cả vùng</areaDesc><circle>14.1,107.9 200</circle></area>",
         ["CHUPAH-01", "IAGRAI-01", "IAGRAI-02"]),
    ],
)
def test_areas_pick_stations_by_geocode_polygon_and_circle(world: sessionmaker[Session], settings: Settings, clock: FakeClock, area: str,
                                                           codes: list[str]) -> None:
    imported = do_import(world, settings, alert(area), clock())
    assert board_codes(world, imported.emergency.id) == codes


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<alert><identifier>x</identifier>", "không phải XML hợp lệ"),
        (alert(geocode("loaxa:commune", "Ia Grai")).replace(b"<sender>kttv@nchmf.gov.vn</sender>", b""),
         "không đúng lược đồ CAP 1.2"),
        (alert(geocode("loaxa:commune", "Ia Grai"), msg_type="Warning"), "không đúng lược đồ CAP 1.2"),
        (alert(geocode("loaxa:commune", "Ia Grai"), expires="2026-11-24 18:00"), "không đúng lược đồ CAP 1.2"),
        (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xx">]><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
         b"&x;</alert>", "không phải XML hợp lệ"),
        (alert(geocode("loaxa:commune", "Ia Grai"), status="Exercise"), "không phát thử"),
        (alert(geocode("loaxa:commune", "Ia Grai"), expires="2026-11-22T18:00:00+07:00"), "đã hết hạn"),
        (alert(""), "không có vùng"),
        (alert(geocode("loaxa:commune", "Xã Không Có")), "Không có đài đang hoạt động nào trong vùng"),
        (alert(geocode("loaxa:commune", "Ia Grai"), msg_type="Cancel", references="a,b,2026-11-23T04:00:00+07:00"),
         "không trỏ tới cảnh báo nào"),
    ],
)
def test_bad_alerts_are_refused_in_vietnamese_and_store_nothing(world: sessionmaker[Session], settings: Settings, clock: FakeClock, data: bytes,
                                                                message: str) -> None:
    with pytest.raises(cap.CapInvalid, match=message):
        do_import(world, settings, data, clock())
    with world() as s:
        assert s.scalar(select(func.count()).select_from(Emergency)) == 0
        assert s.scalar(select(func.count()).select_from(Bulletin)) == 0


def test_the_same_alert_twice_is_stored_once_and_a_cancel_cancels_it(world: sessionmaker[Session], settings: Settings, clock: FakeClock) -> None:
    first = do_import(world, settings, alert(geocode("loaxa:commune", "Ia Grai")), clock())
    again = do_import(world, settings, alert(geocode("loaxa:commune", "Ia Grai")), clock())
    assert (again.action, again.emergency.id) == ("duplicate", first.emergency.id)
    cancel = alert(geocode("loaxa:commune", "Ia Grai"), identifier="VN-KTTV-2026-0918", msg_type="Cancel",
                   references="kttv@nchmf.gov.vn,VN-KTTV-2026-0917,2026-11-23T04:40:00+07:00")
    cancelled = do_import(world, settings, cancel, clock())
    assert (cancelled.action, cancelled.emergency.id) == ("cancelled", first.emergency.id)
    with world() as s:
        assert s.get_one(Emergency, first.emergency.id).state == "da_huy"
        assert s.scalar(select(func.count()).select_from(Emergency)) == 1


def test_an_approver_releases_the_alert_and_loaxa_exports_valid_cap_both_ways(world: sessionmaker[Session], settings: Settings,
                                                                             clock: FakeClock) -> None:
    imported = do_import(world, settings, alert(geocode("loaxa:commune", "Ia Grai")), clock())
    with transaction(world) as s:
        release_emergency(s, s.get_one(Emergency, imported.emergency.id), None, clock())
    with world() as s:
        emergency = s.get_one(Emergency, imported.emergency.id)
        assert emergency.state == "dang_chay"
        assert s.scalar(select(func.count()).select_from(ProgrammeItem)) == 2
        exported = cap.export_alert(s, emergency, "https://loaxa.gialai.gov.vn")
    SCHEMA.validate(exported)  # raises if loaxa's own alert is not CAP 1.2
    out = cap.read_alert(cap.validate(exported))
    assert (out.msg_type, out.status, out.language) == ("Alert", "Actual", "vi-VN")
    assert out.headline == HEADLINE and DESCRIPTION.rstrip(".") in out.description
    assert out.sent == "2026-11-23T05:00:00+07:00"
    assert sorted(v for _, v in out.areas[0].geocodes) == ["IAGRAI-01", "IAGRAI-02"]
    assert len(out.areas[0].circles) == 2  # the stations' coordinates
    # Round trip: loaxa's alert is accepted by loaxa as a new alert from another sender, on the same stations.
    again = do_import(world, settings, exported, clock())
    assert again.action == "pending" and board_codes(world, again.emergency.id) == ["IAGRAI-01", "IAGRAI-02"]


def test_a_cancelled_emergency_exports_as_a_valid_cap_cancel(world: sessionmaker[Session], settings: Settings, clock: FakeClock) -> None:
    from scheduler.emergencies import cancel_emergency

    imported = do_import(world, settings, alert(geocode("loaxa:station", "CHUPAH-01")), clock())
    with transaction(world) as s:
        cancel_emergency(s, s.get_one(Emergency, imported.emergency.id), None, clock())
    with world() as s:
        exported = cap.export_alert(s, s.get_one(Emergency, imported.emergency.id), "https://loaxa.gialai.gov.vn")
    SCHEMA.validate(exported)
    out = cap.read_alert(cap.validate(exported))
    assert out.msg_type == "Cancel" and out.references[0][1].endswith(f"khan-cap-{imported.emergency.id}")


def test_geometry_helpers_agree_with_known_distances() -> None:
    # Hà Nội to Hồ Chí Minh City is about 1,140 km great-circle.
    assert 1100 < cap.distance_km(21.0285, 105.8542, 10.8231, 106.6297) < 1180
    square = [(0.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, 0.0), (0.0, 0.0)]
    assert cap.inside_polygon(0.5, 0.5, square) and not cap.inside_polygon(1.5, 0.5, square)


def test_cap_time_never_uses_z_or_fractions() -> None:
    from zoneinfo import ZoneInfo

    text = cap.cap_time(datetime(2026, 11, 22, 22, 0, 1, 500, tzinfo=UTC), ZoneInfo("Asia/Ho_Chi_Minh"))
    assert text == "2026-11-23T05:00:01+07:00"


def test_order_targets_name_the_province_an_area_a_commune_or_a_station(world: sessionmaker[Session]) -> None:
    from scheduler.emergencies import target_stations

    with world() as s:
        def codes(*targets: str) -> list[str]:
            return [st.code for st in target_stations(s, list(targets))]

        assert codes("*") == codes("Gia Lai") == ["CHUPAH-01", "CHUPAH-02", "IAGRAI-01", "IAGRAI-02"]
        assert codes("Tây Pleiku") == ["IAGRAI-01", "IAGRAI-02"]
        assert codes("Chư Păh", "IAGRAI-02") == ["CHUPAH-01", "CHUPAH-02", "IAGRAI-02"]
        with pytest.raises(ValueError, match="«Đông Pleiku» không phải mã đài, tên xã, khu vực hay tỉnh"):
            codes("Đông Pleiku")
