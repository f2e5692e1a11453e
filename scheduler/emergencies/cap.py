"""CAP 1.2 (Common Alerting Protocol, OASIS) in and out.

In: an alert is validated against the OASIS schema (schemas/CAP-v1.2.xsd, with xmlschema and no
network access, entities refused), its Vietnamese info block (else the first) gives the words,
its areas pick the stations — geocodes by name, polygons and circles against the stations'
coordinates — and it becomes a *pending* emergency for an approver to release with one click.
A Cancel naming an earlier alert cancels the emergency it made. The same alert twice is stored once.

Out: any emergency as a valid CAP 1.2 alert (checked against the same schema before it leaves).

Geocodes loaxa understands (valueName → what the value names): `loaxa:station` (station code),
`loaxa:commune`, `loaxa:area`, `loaxa:province` (names as stored). docs/cap.md has the details.
"""

from __future__ import annotations

import functools
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import xmlschema
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from audio.errors import AudioError
from audio.settings import AudioSettings
from scheduler import audit
from scheduler.db.models import Bulletin, Commune, Emergency, EmergencyStation, Source, Station
from scheduler.domain import DEFAULT_TZ
from scheduler.emergencies import compose, lifecycle
from scheduler.emergencies.rules import RepeatRule
from scheduler.rendering import load_lexicon

NS = "urn:oasis:names:tc:emergency:cap:1.2"
SCHEMA_PATH = Path(__file__).with_name("schemas") / "CAP-v1.2.xsd"
MAX_BYTES = 1024 * 1024
GEOCODES = {"loaxa:station": "station", "loaxa:commune": "commune", "loaxa:area": "area", "loaxa:province": "province"}
EARTH_KM = 6371.0088


class CapInvalid(ValueError):
    """The alert is not valid CAP 1.2, or cannot become an emergency (message in Vietnamese)."""


@functools.lru_cache(maxsize=1)
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMA_PATH))


def _resource(data: bytes) -> xmlschema.XMLResource:
    try:
        return xmlschema.XMLResource(data, defuse="always", allow="none")
    except Exception as exc:  # malformed XML, entities, a DTD: one clear message whatever the parser says
        raise CapInvalid(f"Tệp không phải XML hợp lệ: {str(exc).splitlines()[0][:300]}") from None


def validate(data: bytes) -> ET.Element:
    """The alert's root element if `data` is a valid CAP 1.2 alert; CapInvalid says what is wrong."""
    if len(data) > MAX_BYTES:
        raise CapInvalid(f"Cảnh báo CAP quá lớn ({len(data) // 1024} KB); tối đa {MAX_BYTES // 1024} KB.")
    resource = _resource(data)
    errors = list(schema().iter_errors(resource))
    if errors:
        first = errors[0]
        where = first.path or "/"
        reason = (first.reason or str(first)).splitlines()[0]
        raise CapInvalid(f"Cảnh báo không đúng lược đồ CAP 1.2 ({len(errors)} lỗi); lỗi đầu tiên ở {where}: "
                         f"{reason[:300]}")
    root = resource.root
    assert root is not None
    return root


# -- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CapArea:
    description: str
    polygons: list[list[tuple[float, float]]] = field(default_factory=list)
    circles: list[tuple[float, float, float]] = field(default_factory=list)  # lat, lon, radius km
    geocodes: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class CapAlert:
    identifier: str
    sender: str
    sent: str
    status: str
    msg_type: str
    references: list[tuple[str, str, str]]
    language: str
    event: str
    headline: str
    description: str
    instruction: str
    expires: datetime | None
    areas: list[CapArea]

    @property
    def text(self) -> str:
        """What is read aloud: headline, description, instruction."""
        parts = [p.strip().rstrip(".") for p in (self.headline, self.description, self.instruction) if p.strip()]
        return ". ".join(parts) + "." if parts else ""

    @property
    def title(self) -> str:
        return (self.headline or self.event).strip()[:300]


def _text(element: ET.Element, name: str) -> str:
    found = element.find(f"{{{NS}}}{name}")
    return (found.text or "").strip() if found is not None else ""


def _point(text: str) -> tuple[float, float]:
    lat, lon = (float(x) for x in text.split(","))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(text)
    return lat, lon


def _area(element: ET.Element) -> CapArea:
    try:
        polygons = [[_point(p) for p in (poly.text or "").split()] for poly in element.findall(f"{{{NS}}}polygon")]
        circles = []
        for circle in element.findall(f"{{{NS}}}circle"):
            centre, radius = (circle.text or "").split()
            lat, lon = _point(centre)
            circles.append((lat, lon, float(radius)))
    except ValueError:
        raise CapInvalid(f"Vùng «{_text(element, 'areaDesc')}» có tọa độ không đọc được (cần «vĩ độ,kinh độ»).") \
            from None
    if any(len(p) < 4 for p in polygons):
        raise CapInvalid(f"Vùng «{_text(element, 'areaDesc')}» có đa giác ít hơn 4 điểm.")
    geocodes = [(_text(g, "valueName"), _text(g, "value")) for g in element.findall(f"{{{NS}}}geocode")]
    return CapArea(_text(element, "areaDesc"), polygons, circles, geocodes)


def read_alert(root: ET.Element) -> CapAlert:
    """The fields loaxa uses, from the Vietnamese info block (vi, vi-VN) or else the first one."""
    infos = root.findall(f"{{{NS}}}info")
    chosen = next((i for i in infos if _text(i, "language").lower().startswith("vi")), infos[0] if infos else None)
    references = []
    for ref in _text(root, "references").split():
        parts = ref.split(",")
        if len(parts) == 3:
            references.append((parts[0], parts[1], parts[2]))
    expires = None
    if chosen is not None and _text(chosen, "expires"):
        expires = datetime.fromisoformat(_text(chosen, "expires"))
    return CapAlert(
        identifier=_text(root, "identifier"), sender=_text(root, "sender"), sent=_text(root, "sent"),
        status=_text(root, "status"), msg_type=_text(root, "msgType"), references=references,
        language=_text(chosen, "language") if chosen is not None else "",
        event=_text(chosen, "event") if chosen is not None else "",
        headline=_text(chosen, "headline") if chosen is not None else "",
        description=_text(chosen, "description") if chosen is not None else "",
        instruction=_text(chosen, "instruction") if chosen is not None else "",
        expires=expires,
        areas=[_area(a) for a in chosen.findall(f"{{{NS}}}area")] if chosen is not None else [],
    )


# -- areas to stations ---------------------------------------------------------------------------


def inside_polygon(lat: float, lon: float, polygon: list[tuple[float, float]]) -> bool:
    """Ray casting on (lat, lon) pairs; a closed CAP polygon repeats its first point last."""
    inside = False
    for (lat1, lon1), (lat2, lon2) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        if (lon1 > lon) != (lon2 > lon):
            cross = lat1 + (lon - lon1) * (lat2 - lat1) / (lon2 - lon1)
            if lat < cross:
                inside = not inside
    return inside


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(math.sqrt(a))


def in_area(station: Station, area: CapArea) -> bool:
    commune = station.commune
    names = {"station": station.code, "commune": commune.name, "province": commune.province.name,
             "area": commune.area.name if commune.area else None}
    for value_name, value in area.geocodes:
        kind = GEOCODES.get(value_name)
        if kind is not None and names[kind] == value:
            return True
    if station.lat is None or station.lon is None:
        return False
    if any(inside_polygon(station.lat, station.lon, p) for p in area.polygons):
        return True
    return any(distance_km(station.lat, station.lon, lat, lon) <= radius for lat, lon, radius in area.circles)


def stations_in(session: Session, areas: list[CapArea]) -> list[Station]:
    stations = session.scalars(
        select(Station)
        .options(selectinload(Station.commune).selectinload(Commune.province),
                 selectinload(Station.commune).selectinload(Commune.area))
        .where(Station.active).order_by(Station.code)
    )
    return [s for s in stations if any(in_area(s, a) for a in areas)]


def compact_targets(session: Session, stations: list[Station]) -> list[str]:
    """Commune names where every active station of the commune is in, station codes for the rest."""
    chosen = {s.code for s in stations}
    by_commune: dict[int, list[str]] = {}
    for code, commune_id in session.execute(select(Station.code, Station.commune_id).where(Station.active)):
        by_commune.setdefault(commune_id, []).append(code)
    targets: list[str] = []
    for station in stations:
        codes = by_commune.get(station.commune_id, [])
        if all(c in chosen for c in codes):
            if station.commune.name not in targets:
                targets.append(station.commune.name)
        else:
            targets.append(station.code)
    return targets


# -- import --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Imported:
    emergency: Emergency
    created: bool  # False: the same alert came before, or a Cancel
    stations: int
    action: str  # "pending" | "duplicate" | "cancelled"


def import_alert(session: Session, data: bytes, media_dir: Path, audio: AudioSettings, now: datetime,
                 source: Source | None = None) -> Imported:
    """Validate, map and store an alert as a pending emergency (or apply its Cancel); CapInvalid if it cannot."""
    alert = read_alert(validate(data))
    if alert.status != "Actual":
        raise CapInvalid(f"Cảnh báo có trạng thái «{alert.status}» (không phải Actual): không phát thử trên loa.")
    if alert.msg_type == "Cancel":
        return _cancel(session, alert, now, source)
    if alert.msg_type not in ("Alert", "Update"):
        raise CapInvalid(f"Loại tin «{alert.msg_type}» không tạo lệnh phát; chỉ nhận Alert, Update, Cancel.")
    existing = session.scalar(select(Emergency).where(Emergency.cap_sender == alert.sender,
                                                      Emergency.cap_identifier == alert.identifier))
    if existing is not None:
        return Imported(existing, False, 0, "duplicate")
    if not alert.text:
        raise CapInvalid("Cảnh báo không có headline, description hay instruction để đọc.")
    if alert.expires is not None and alert.expires <= now:
        raise CapInvalid(f"Cảnh báo đã hết hạn lúc {alert.expires.isoformat()}: không phát.")
    if not alert.areas:
        raise CapInvalid("Cảnh báo không có vùng (area): không biết phát ở đâu.")
    stations = stations_in(session, alert.areas)
    if not stations:
        names = "; ".join(a.description for a in alert.areas)
        raise CapInvalid(f"Không có đài đang hoạt động nào trong vùng cảnh báo «{names[:200]}».")
    title = alert.title or compose.default_title(alert.text)
    try:
        composed = compose.render_words(alert.text, title, media_dir, audio, load_lexicon(session))
    except AudioError as exc:
        raise CapInvalid(str(exc)) from None
    bulletin = compose.emergency_bulletin(session, title, alert.text, composed, None, now, approved=False)
    emergency = lifecycle.request_emergency(session, bulletin, compact_targets(session, stations), RepeatRule(),
                                            None, now, origin="cap")
    emergency.cap_identifier = alert.identifier[:300]
    emergency.cap_sender = alert.sender[:300]
    emergency.cap_xml = data.decode("utf-8", "replace")
    emergency.source_id = source.id if source else None
    audit.record(session, now, None, "emergency.cap_import", "emergency", emergency.id,
                 after={"identifier": alert.identifier, "sender": alert.sender, "source": source.name if source else "",
                        "stations": len(stations)})
    return Imported(emergency, True, len(stations), "pending")


def _cancel(session: Session, alert: CapAlert, now: datetime, source: Source | None) -> Imported:
    for sender, identifier, _sent in alert.references:
        emergency = session.scalar(select(Emergency).where(Emergency.cap_sender == sender,
                                                           Emergency.cap_identifier == identifier))
        if emergency is None:
            continue
        if emergency.state != lifecycle.CANCELLED:
            lifecycle.cancel_emergency(session, emergency, None, now)
        return Imported(emergency, False, 0, "cancelled")
    raise CapInvalid("Tin hủy (Cancel) không trỏ tới cảnh báo nào đã nhận (xem trường references).")


# -- export --------------------------------------------------------------------------------------


def cap_time(value: datetime, tz: ZoneInfo) -> str:
    """CAP's dateTime form: local time with its offset, no fraction, never «Z»."""
    return value.astimezone(tz).replace(microsecond=0).isoformat()


def identifier(emergency: Emergency, public_url: str) -> tuple[str, str]:
    host = urlsplit(public_url).hostname or "loaxa"
    return f"loaxa-{host}-khan-cap-{emergency.id}", f"loaxa@{host}"


def export_alert(session: Session, emergency: Emergency, public_url: str, tz: ZoneInfo | None = None) -> bytes:
    """The emergency as a CAP 1.2 alert (a Cancel once cancelled), valid against the OASIS schema."""
    tz = tz or ZoneInfo(DEFAULT_TZ)
    ET.register_namespace("", NS)
    ident, sender = identifier(emergency, public_url)
    sent = emergency.started_at or emergency.created_at
    root = ET.Element(f"{{{NS}}}alert")

    def add(parent: ET.Element, name: str, text: str | None = None) -> ET.Element:
        child = ET.SubElement(parent, f"{{{NS}}}{name}")
        child.text = text
        return child

    cancelled = emergency.state == lifecycle.CANCELLED and emergency.cancelled_at is not None
    add(root, "identifier", ident + ("-huy" if cancelled else ""))
    add(root, "sender", sender)
    add(root, "sent", cap_time(emergency.cancelled_at if cancelled and emergency.cancelled_at else sent, tz))
    add(root, "status", "Actual")
    add(root, "msgType", "Cancel" if cancelled else "Alert")
    add(root, "scope", "Public")
    if cancelled:
        add(root, "references", f"{sender},{ident},{cap_time(sent, tz)}")
    bulletin: Bulletin = emergency.bulletin
    info = add(root, "info")
    add(info, "language", "vi-VN")
    add(info, "category", "Safety")
    add(info, "event", bulletin.title)
    add(info, "urgency", "Immediate")
    add(info, "severity", "Severe")
    add(info, "certainty", "Observed")
    add(info, "effective", cap_time(sent, tz))
    add(info, "expires", cap_time(lifecycle.emergency_ends_at(emergency), tz))
    add(info, "senderName", "loaxa — hệ thống thông tin cơ sở")
    add(info, "headline", bulletin.title)
    if bulletin.text:
        add(info, "description", bulletin.text)
    if bulletin.audio is not None:
        resource = add(info, "resource")
        add(resource, "resourceDesc", "Bản đọc (MP3)")
        add(resource, "mimeType", "audio/mpeg")
        add(resource, "digest", bulletin.audio.sha256)
    area = add(info, "area")
    add(area, "areaDesc", "; ".join(emergency.targets) or "—")
    stations = _stations_of(session, emergency)
    for station in stations:
        if station.lat is not None and station.lon is not None:
            add(area, "circle", f"{station.lat:.5f},{station.lon:.5f} 0.5")
    for station in stations:
        code = add(area, "geocode")
        add(code, "valueName", "loaxa:station")
        add(code, "value", station.code)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    validate(data)  # never hand out an alert the schema refuses
    return data


def _stations_of(session: Session, emergency: Emergency) -> list[Station]:
    return list(session.scalars(
        select(Station).join(EmergencyStation, EmergencyStation.station_id == Station.id)
        .where(EmergencyStation.emergency_id == emergency.id).order_by(Station.code)
    ))
