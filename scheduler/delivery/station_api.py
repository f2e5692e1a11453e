"""What the station API decides, kept out of the web layer: ETags, token isolation, status (acks:
scheduler.delivery.acks).

Each function works on one station's own rows; web/api.py only parses HTTP and calls these.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, case, exists, func, or_, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, joinedload

from scheduler.accounts import hash_token
from scheduler.db.models import (
    AudioAsset,
    Bulletin,
    Commune,
    Emergency,
    EmergencyStation,
    Programme,
    ProgrammeItem,
    Province,
    Station,
)
from scheduler.db.session import read
from scheduler.delivery.acl import station_mqtt_password, station_mqtt_username
from scheduler.delivery.mqtt_topics import station_topics
from scheduler.delivery.poll_cache import Kept, PollCache
from scheduler.domain import IsoWeek
from scheduler.emergencies.tracking import record_report
from scheduler.liveness import record_contact
from scheduler.manifest import (
    ITEM_COLUMNS,
    ITEM_EMERGENCY,
    ITEM_ORDER,
    ManifestBodies,
    item_rows,
    manifest_bytes,
    manifest_of,
)
from scheduler.programmes import current_weeks
from scheduler.settings import Settings
from scheduler.wire import (
    MAX_ITEM_ID,
    EmergencyReport,
    ManifestIndex,
    ManifestWeek,
    MqttAccess,
    is_sha256,
    manifest_path,
    parse_mqtt_url,
)

MAX_STATUS_BYTES = 16 * 1024


def station_for_token(session: Session, token: str) -> Station | None:
    """scheduler.accounts.station_for_token, with the commune and province loaded in the same query
    (every API call needs the station's time zone or topics: one round trip instead of three)."""
    if not token:
        return None
    return session.scalar(
        select(Station)
        .options(joinedload(Station.commune).joinedload(Commune.province))
        .where(Station.token_hash == hash_token(token), Station.active)
    )


def preload_items(session: Session, plays: Sequence[Mapping[str, Any]]) -> list[ProgrammeItem]:
    """Load the programme items a play-log batch names (with their programmes) in one query, so
    scheduler.playlog.ingest finds them in the session instead of querying row by row. Keep the
    returned list alive while ingesting: the session only holds weak references."""
    ids = {item for p in plays
           if isinstance(item := p.get("item_id"), int) and not isinstance(item, bool) and 0 < item <= MAX_ITEM_ID}
    if not ids:
        return []
    return list(session.scalars(select(ProgrammeItem).options(joinedload(ProgrammeItem.programme))
                                .where(ProgrammeItem.id.in_(ids))))


def station_tz(station: Station, settings: Settings) -> ZoneInfo:
    return zone(station.commune.province.timezone, settings)


def zone(province_timezone: str | None, settings: Settings) -> ZoneInfo:
    """A station's zone: its province's, else the configured one."""
    return ZoneInfo(province_timezone or settings.timezone)


def etag_for(week: str, version: int, content_hash: str) -> str:
    """Changes exactly when a programme's content or version does (quotes added by the caller)."""
    return f"{week}.v{version}.{(content_hash or 'empty')[:16]}"


def held_version(week: str, etags: Iterable[str]) -> tuple[int, str]:
    """The (version, content hash prefix) of the first of `etags` that `etag_for` made for `week` (it must
    make that very tag again); (0, "") when none is (no version is 0)."""
    for tag in etags:
        name, _, rest = tag.partition(".v")
        number, _, prefix = rest.partition(".")
        if name == week and number.isdigit() and etag_for(week, int(number), prefix) == tag:
            return int(number), prefix
    return 0, ""


@dataclass(frozen=True)
class WeekAnswer:
    """The answer to GET /manifest/<week>: whose token it is, and the week's ETag and body."""

    station_id: int
    station_code: str
    stamped: datetime | None  # the station's stored manifest contact (scheduler.liveness)
    etag: str | None = None  # None: the station has no programme for the week
    body: bytes | None = None  # None: the station already holds this version (304)


# Built once: constructing the statement cost more than running it (each poll runs it). The station, its
# week's programme and, unless the station holds that version (its If-None-Match), the programme's items:
# ONE statement answers a 304 (one row) and a 200 (one row per item, read with the version they belong to).
_held = or_(Programme.version != bindparam("held_version"),
            func.substr(func.coalesce(Programme.content_hash, ""), 1, 16) != bindparam("held_hash"))
WEEK_QUERY = (
    select(Station.id, Station.code, Station.last_manifest_at, Province.timezone, Programme.id, Programme.version,
           Programme.content_hash, Programme.built_at, *ITEM_COLUMNS)
    .select_from(Station)
    .join(Commune, Commune.id == Station.commune_id)
    .join(Province, Province.id == Commune.province_id)
    .outerjoin(Programme, and_(Programme.station_id == Station.id, Programme.week == bindparam("week")))
    # The gate inside the index condition: a held version looks up programme NULL, so no item row is read.
    .outerjoin(ProgrammeItem, ProgrammeItem.programme_id == case((_held, Programme.id)))
    .outerjoin(Emergency, ITEM_EMERGENCY)
    .where(Station.token_hash == bindparam("token_hash"), Station.active)
    .order_by(*ITEM_ORDER)
)
ITEMS_FROM = len(WEEK_QUERY.selected_columns) - len(ITEM_COLUMNS)  # where a row's item columns start


def week_answer(reads: Engine, cache: PollCache, token: str, week: str, held: Callable[[str], bool],
                settings: Settings, bodies: ManifestBodies, held_tags: Iterable[str] = ()) -> WeekAnswer | None:
    """The `week` manifest for the token's station (None: no such active station): from memory while the
    cache is fresh (scheduler.delivery.poll_cache), else from the database (`week_manifest`). `held`: is
    this ETag one the station holds; `held_tags`: those ETags (the statement then skips the items)."""
    if not token:
        return None
    token_hash = hash_token(token)
    kept = cache.get(token_hash, week)
    if kept is not None:
        if kept.etag is None:
            return WeekAnswer(kept.station_id, kept.code, kept.stamped)
        if held(kept.etag):
            return WeekAnswer(kept.station_id, kept.code, kept.stamped, kept.etag)
        body = bodies.get((kept.programme_id, kept.etag, kept.code, kept.zone, settings.public_url))
        if body is not None:
            return WeekAnswer(kept.station_id, kept.code, kept.stamped, kept.etag, body)
    generation = cache.generation()
    found = read(reads, partial(week_manifest, token_hash=token_hash, week=week, held=held, settings=settings,
                                bodies=bodies, held_tags=tuple(held_tags)))
    if found is None:
        return None
    answer, kept = found
    cache.put(token_hash, week, kept, generation)
    return answer


def week_manifest(conn: Connection, token_hash: str, week: str, held: Callable[[str], bool], settings: Settings,
                  bodies: ManifestBodies, held_tags: Sequence[str] = ()) -> tuple[WeekAnswer, Kept] | None:
    """The `week` manifest for the station whose token hashes to `token_hash` (None: no such active
    station), with what to keep of it: one statement (WEEK_QUERY), its items rendered unless the bytes are
    in `bodies`."""
    version_held, hash_held = held_version(week, held_tags)
    rows = conn.execute(WEEK_QUERY, {"token_hash": token_hash, "week": week, "held_version": version_held,
                                     "held_hash": hash_held}).all()
    if not rows:
        return None
    head = rows[0]
    station_id, code, stamped, timezone = head[0], head[1], head[2], head[3]
    programme_id, version, content_hash, built_at = head[4], head[5], head[6], head[7]
    tz = zone(timezone, settings)
    if programme_id is None:
        return WeekAnswer(station_id, code, stamped), Kept(station_id, code, stamped, None, None, tz.key)
    etag = etag_for(week, version, content_hash)
    kept = Kept(station_id, code, stamped, programme_id, etag, tz.key)
    if held(etag):
        return WeekAnswer(station_id, code, stamped, etag), kept
    if (version, (content_hash or "")[:16]) == (version_held, hash_held):
        # The statement left the items out for a tag `held` does not accept (not one etag_for made): read
        # them, without the hint.
        return week_manifest(conn, token_hash, week, held, settings, bodies)
    key = (programme_id, etag, code, tz.key, settings.public_url)
    body = bodies.get(key)
    if body is None:
        body = manifest_bytes(manifest_of(code, week, version, built_at, item_rows(rows, ITEMS_FROM), tz,
                                          settings.public_url))
        bodies.put(key, body)
    return WeekAnswer(station_id, code, stamped, etag, body), kept


def check_week(text: str) -> str:
    """The canonical `2026-W47` form; ValueError with the Vietnamese explanation otherwise."""
    return str(IsoWeek.parse(text))


def programme_for(session: Session, station: Station, week: str) -> Programme | None:
    return session.scalar(select(Programme).where(Programme.station_id == station.id, Programme.week == week))


def manifest_index(session: Session, station: Station, settings: Settings, now: datetime) -> ManifestIndex:
    """This and next week's versions (by the station's local calendar), with where to fetch each."""
    tz = station_tz(station, settings)
    weeks = [str(w) for w in current_weeks(now, tz)]
    # Plain columns, not ORM objects: this is the request every station makes most often.
    versions = {week: (version, content_hash) for week, version, content_hash in session.execute(
        select(Programme.week, Programme.version, Programme.content_hash)
        .where(Programme.station_id == station.id, Programme.week.in_(weeks))
    )}
    entries: list[ManifestWeek] = []
    for week in weeks:
        if week in versions:
            version, content_hash = versions[week]
            entries.append({"week": week, "version": version, "hash": content_hash,
                            "etag": etag_for(week, version, content_hash),
                            "url": settings.public_url + manifest_path(week)})
    return {"station": station.code, "timezone": tz.key, "weeks": entries}


def index_etag(index: Mapping[str, Any]) -> str:
    return "idx." + hashlib.sha256(json.dumps(index, sort_keys=True).encode()).hexdigest()[:24]


def audio_for_station(session: Session, station: Station, sha256: str) -> AudioAsset | None:
    """The asset if this station's programmes (or an emergency aimed at it) use it; else None.
    One query: a thousand boxes fetch a new emergency's audio in the same seconds."""
    if not is_sha256(sha256):
        return None
    in_programme = exists().where(
        ProgrammeItem.audio_sha256 == sha256,
        ProgrammeItem.programme_id == Programme.id,
        Programme.station_id == station.id,
    )
    aimed = exists().where(
        EmergencyStation.station_id == station.id,
        EmergencyStation.emergency_id == Emergency.id,
        Emergency.bulletin_id == Bulletin.id,
        Bulletin.audio_asset_id == AudioAsset.id,
        Emergency.cancelled_at.is_(None),
    )
    return session.scalar(select(AudioAsset).where(AudioAsset.sha256 == sha256, in_programme | aimed))


def record_status(station: Station, body: Any, now: datetime) -> dict[str, Any]:
    """Keep the agent's self-report as Station.status; ValueError (Vietnamese) for a malformed one."""
    if not isinstance(body, dict):
        raise ValueError("Trạng thái phải là đối tượng JSON.")
    if len(json.dumps(body)) > MAX_STATUS_BYTES:
        raise ValueError(f"Trạng thái quá lớn (tối đa {MAX_STATUS_BYTES // 1024} KB).")
    checks: dict[str, tuple[type, ...]] = {
        "agent_version": (str,), "clock_offset_ms": (int, type(None)), "disk_free_mb": (int, type(None)),
        "volume": (int, type(None)), "amplifier": (str,), "power": (str,), "playing": (dict, type(None)),
        "outbox": (int,), "plays_set_aside": (int,), "storage": (dict, type(None)),
    }
    for key, types in checks.items():
        if key in body and (not isinstance(body[key], types) or isinstance(body[key], bool)):
            raise ValueError(f"Trường «{key}» của trạng thái có giá trị «{body[key]}» sai kiểu.")
    volume = body.get("volume")
    if isinstance(volume, int) and not 0 <= volume <= 100:
        raise ValueError(f"Âm lượng «{volume}» không hợp lệ; dùng số nguyên từ 0 đến 100.")
    status = {**body, "received_at": now.isoformat()}
    previous = station.status or {}
    # Written by others (the MQTT status listener, the scheduler's silence monitor): keep them.
    for key in ("mqtt_state", "mqtt_at", "monitor"):
        if key in previous:
            status[key] = previous[key]
    station.status = status
    record_contact(station, "status", now, every=timedelta(0))  # the row is written anyway
    return status


def public_broker_url(settings: Settings, env: Mapping[str, str] | None = None) -> str | None:
    """The broker address stations should use: LOAXA_MQTT_PUBLIC_URL, else LOAXA_MQTT_URL without its
    credentials (a loopback host is replaced by the public web host)."""
    env = os.environ if env is None else env
    if env.get("LOAXA_MQTT_PUBLIC_URL"):
        return env["LOAXA_MQTT_PUBLIC_URL"]
    if not settings.mqtt_url:
        return None
    url = parse_mqtt_url(settings.mqtt_url)
    host = url.host
    if host in ("127.0.0.1", "localhost", "::1"):
        host = urlsplit(settings.public_url).hostname or host
    return f"{'mqtts' if url.tls else 'mqtt'}://{host}:{url.port}"


def mqtt_config(station: Station, settings: Settings, env: Mapping[str, str] | None = None) -> MqttAccess:
    topics = station_topics(station)
    return {
        "url": public_broker_url(settings, env),
        "username": station_mqtt_username(station),
        "password": station_mqtt_password(settings, station),
        "client_id": f"loaxa-agent-{station.code}",
        "topics": {"programme": topics.programme, "cmd": topics.cmd, "status": topics.status,
                   "event": topics.event},
    }


MAX_REPORTS = 500


def record_emergency_reports(session: Session, station: Station, body: Any, now: datetime) -> list[str]:
    """Store a batch of the station's emergency reports; the ids now safe on the server (known or not
    news are safe too). ValueError (Vietnamese, naming the report) rejects the whole batch."""
    reports = body.get("reports") if isinstance(body, dict) else None
    if not isinstance(reports, list):
        raise ValueError('Nội dung phải có dạng {"reports": [ {...}, ... ]}.')
    if len(reports) > MAX_REPORTS:
        raise ValueError(f"Một lần gửi tối đa {MAX_REPORTS} báo cáo; lần này có {len(reports)}.")
    parsed = []
    for n, data in enumerate(reports, 1):
        try:
            parsed.append(EmergencyReport.from_dict(data))
        except ValueError as exc:
            raise ValueError(f"Báo cáo thứ {n} không hợp lệ: {exc}") from None
    for report in parsed:
        record_report(session, station, report, now)
    return [r.id for r in parsed]
