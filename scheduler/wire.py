"""The wire contract between the server and a station: HTTP paths, MQTT topics, the manifest, notices, commands.

A leaf module of pure standard library: the server (scheduler.manifest, scheduler.delivery, web.api)
and the station agent (scheduler.agent) both import it, so the two ends cannot drift apart, as
LibreTime's player/events.py types its events. Documented for people in docs/station-api.md; the
manifest's JSON Schema is scheduler/manifest.schema.json (docs/manifest.schema.json links to it), which the
OpenAPI document of /api/v1/openapi.json embeds (web/openapi.py).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NotRequired, TypedDict
from urllib.parse import unquote, urlsplit

API_PREFIX = "/api/v1"
TOPIC_ROOT = "loaxa"
PROGRAMME_TOPIC = "programme"
CMD_TOPIC = "cmd"
STATUS_TOPIC = "status"
EVENT_TOPIC = "event"  # station -> server, QoS 1, not retained: what became of an emergency

LIVE_KIND = "live"  # play-log kind and programme source of a live broadcast (trực tiếp)
LIVE_PRIORITY = "truc_tiep"  # above ưu tiên, below khẩn cấp: it pre-empts the programme, emergencies pre-empt it

CommandKind = Literal["play", "stop", "volume", "resync", "restart", "reboot", "amplifier", "update"]
COMMAND_KINDS: tuple[str, ...] = ("play", "stop", "volume", "resync", "restart", "reboot", "amplifier", "update")
# Remote care (scheduler.delivery.care on the server, scheduler.agent.care on the box): each answered by a
# CareResult in the station's status.
CARE_KINDS: tuple[str, ...] = ("restart", "reboot", "amplifier", "volume", "resync", "update")
AMPLIFIER_STATES: tuple[str, ...] = ("on", "off")
# The agent process exits with this code to be started again (by `loaxa agent --supervise` or systemd).
RESTART_EXIT_CODE = 75
# A command that reaches a station later than this is not obeyed: a persistent MQTT session
# may hand over an emergency hours old after a long outage, and airing it then would mislead.
DEFAULT_COMMAND_TTL = timedelta(minutes=15)


def manifest_index_path() -> str:
    return f"{API_PREFIX}/manifest"


def manifest_path(week: str) -> str:
    return f"{API_PREFIX}/manifest/{week}"


def audio_path(sha256: str) -> str:
    return f"{API_PREFIX}/audio/{sha256}.mp3"


def audio_url(base_url: str, sha256: str) -> str:
    """Where a station downloads an audio file: always its own server, with its token."""
    return f"{base_url}{audio_path(sha256)}"


ACK_PATH = f"{API_PREFIX}/ack"
PLAYLOG_PATH = f"{API_PREFIX}/playlog"
STATUS_PATH = f"{API_PREFIX}/status"
MQTT_PATH = f"{API_PREFIX}/mqtt"
EMERGENCY_REPORTS_PATH = f"{API_PREFIX}/emergency-reports"
# Upstream source systems (their own API keys, scheduler.sources): CAP alerts and bulletins in.
CAP_PATH = f"{API_PREFIX}/cap"
UPSTREAM_BULLETINS_PATH = f"{API_PREFIX}/upstream/bulletins"
OPENAPI_PATH = f"{API_PREFIX}/openapi.json"  # the OpenAPI 3.1 document of this API and the open read API


def agent_package_path(sha256: str) -> str:
    """Where a box downloads a published agent package (a wheel), with its token."""
    return f"{API_PREFIX}/agent-package/{sha256}.whl"


MANIFEST_FORMAT = 1


class ManifestItem(TypedDict):
    """One programme item; instants are ISO 8601 with the station's local offset."""

    id: int | None
    start: str
    end: str
    kind: str  # bulletin | jingle | relay | emergency
    bulletin: str | None
    title: str
    language: str
    priority: str  # thuong | uu_tien | khan_cap
    audio_url: str | None
    sha256: str | None
    duration_ms: int
    stream_url: str | None
    # Emergency items only: which emergency (the station reports on the play with it), and this play's
    # own volume (100 = full; None = the station's own, which applies again after the play).
    emergency: NotRequired[int]
    volume: NotRequired[int | None]


class Manifest(TypedDict):
    """GET manifest_path(week): everything a station needs to play its week offline."""

    format: int
    station: str
    week: str
    version: int
    timezone: str
    generated_at: str
    items: list[ManifestItem]


_ITEM_TEXT = ("start", "end", "kind")
_ITEM_OPTIONAL_TEXT = ("bulletin", "audio_url", "sha256", "stream_url")


def parse_manifest(data: object) -> Manifest:
    """A manifest as received, checked against the contract; ValueError (Vietnamese) names what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("Lịch phát nhận được không phải đối tượng JSON.")
    for key, kind in (("format", int), ("version", int), ("station", str), ("week", str), ("items", list)):
        if not isinstance(data.get(key), kind) or isinstance(data.get(key), bool):
            raise ValueError(f"Lịch phát nhận được thiếu hoặc sai trường «{key}».")
    items: list[ManifestItem] = []
    for n, raw in enumerate(data["items"], 1):
        if not isinstance(raw, dict):
            raise ValueError(f"Mục thứ {n} của lịch phát không phải đối tượng JSON.")
        bad = [k for k in _ITEM_TEXT if not isinstance(raw.get(k), str)]
        bad += [k for k in _ITEM_OPTIONAL_TEXT if raw.get(k) is not None and not isinstance(raw.get(k), str)]
        try:
            start, end = datetime.fromisoformat(raw["start"]), datetime.fromisoformat(raw["end"])
            if start.tzinfo is None or end.tzinfo is None:
                bad.append("start/end (thiếu múi giờ)")
        except (KeyError, TypeError, ValueError):
            bad.append("start/end")
        if raw.get("sha256") is not None and not is_sha256(str(raw["sha256"])):
            bad.append("sha256")
        duration = raw.get("duration_ms")
        if duration is not None and (not isinstance(duration, int) or isinstance(duration, bool) or duration < 0):
            bad.append("duration_ms")
        emergency, volume = raw.get("emergency"), raw.get("volume")
        if emergency is not None and (not isinstance(emergency, int) or isinstance(emergency, bool)):
            bad.append("emergency")
        if volume is not None and (not isinstance(volume, int) or isinstance(volume, bool) or not 0 <= volume <= 100):
            bad.append("volume")
        if bad:
            raise ValueError(f"Mục thứ {n} của lịch phát sai trường {', '.join(dict.fromkeys(bad))}.")
        item: ManifestItem = {
            "id": raw["id"] if isinstance(raw.get("id"), int) else None,
            "start": raw["start"],
            "end": raw["end"],
            "kind": raw["kind"],
            "bulletin": raw.get("bulletin"),
            "title": str(raw.get("title") or ""),
            "language": str(raw.get("language") or "vi"),
            "priority": str(raw.get("priority") or "thuong"),
            "audio_url": raw.get("audio_url"),
            "sha256": raw.get("sha256"),
            "duration_ms": duration or 0,
            "stream_url": raw.get("stream_url"),
        }
        if emergency is not None:
            item["emergency"] = emergency
        if "volume" in raw:
            item["volume"] = volume
        items.append(item)
    return {
        "format": data["format"],
        "station": data["station"],
        "week": data["week"],
        "version": data["version"],
        "timezone": str(data.get("timezone") or ""),
        "generated_at": str(data.get("generated_at") or ""),
        "items": items,
    }


class ManifestWeek(TypedDict):
    week: str
    version: int
    hash: str
    etag: str
    url: str


class ManifestIndex(TypedDict):
    """GET manifest_index_path(): this and next week's versions, where to fetch each."""

    station: str
    timezone: str
    weeks: list[ManifestWeek]


class MqttTopics(TypedDict):
    programme: str
    cmd: str
    status: str
    event: NotRequired[str]  # emergency reports, station -> server (older servers: derived from status)


class MqttAccess(TypedDict):
    """GET MQTT_PATH: the broker (url None without one), this station's account and topics."""

    url: str | None
    username: str
    password: str | None  # None when the server has no broker password secret
    client_id: str
    topics: MqttTopics


def is_sha256(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


@dataclass(frozen=True)
class MqttUrl:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool


def parse_mqtt_url(url: str) -> MqttUrl:
    """`mqtt://user:pass@host:1883` or `mqtts://host:8883`; ValueError (Vietnamese) otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
        raise ValueError(
            f"Địa chỉ MQTT «{url}» không hợp lệ. Dùng dạng mqtt://tài-khoản:mật-khẩu@máy-chủ:1883 "
            "hoặc mqtts://máy-chủ:8883."
        )
    tls = parts.scheme in ("mqtts", "ssl")
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError:
        raise ValueError(f"Cổng trong địa chỉ MQTT «{url}» không phải là số hợp lệ.") from None
    return MqttUrl(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=tls,
    )


@dataclass(frozen=True)
class Notice:
    """Retained on `<station root>/programme`: a new programme version exists. Never carries audio."""

    station: str
    week: str
    version: int
    content_hash: str
    manifest_url: str
    published_at: str

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, payload: bytes) -> Notice:
        try:
            data = json.loads(payload)
            return cls(
                station=str(data["station"]),
                week=str(data["week"]),
                version=int(data["version"]),
                content_hash=str(data.get("content_hash", "")),
                manifest_url=str(data.get("manifest_url", "")),
                published_at=str(data.get("published_at", "")),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"Thông báo lịch phát không đọc được: {exc}") from None


@dataclass(frozen=True)
class Command:
    """Sent with QoS 1 on `<station root>/cmd`.

    play: air `sha256` (or `stream_url`) at once, pre-empting the programme (khẩn cấp); `emergency`
    and `airing` name the emergency and which of its plays this is, so the station can report on it.
    With `live` set it is a live broadcast: the station plays `stream_url` at LIVE_PRIORITY (it
    pre-empts the programme; an emergency pre-empts it) until a stop naming the same `live`.
    stop: stop what is playing now (with `emergency` or `live` set: only if that is what plays).
    volume: set `volume` 0-100 (in a play: the play's own volume; None = the station's).
    resync: re-fetch and re-verify all.
    restart: restart the agent process; reboot: run the box's configured reboot command;
    amplifier: switch the amplifier `state` on or off (the box's configured command);
    update: install the agent package at `package_url` (checked against `sha256`), version `version`.
    """

    kind: CommandKind
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    sent_at: str = ""  # ISO instant with offset
    expires_at: str = ""
    sha256: str | None = None
    stream_url: str | None = None
    duration_ms: int = 0
    title: str = ""
    bulletin: str | None = None
    volume: int | None = None
    emergency: int | None = None
    airing: int | None = None
    live: int | None = None  # a live broadcast (Phát trực tiếp): play `stream_url` at LIVE_PRIORITY until stopped
    state: str | None = None  # amplifier: on | off
    package_url: str | None = None  # update
    version: str | None = None  # update
    # play: this play's own download path for `sha256` (audio_path plus a link signed until the
    # play expires, scheduler.delivery.audio_links): a thousand boxes fetch it with no lookup each.
    audio_path: str | None = None

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False).encode()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def expired(self, now: datetime) -> bool:
        return bool(self.expires_at) and datetime.fromisoformat(self.expires_at) <= now

    @classmethod
    def make(cls, kind: CommandKind, now: datetime, ttl: timedelta = DEFAULT_COMMAND_TTL, **kw: Any) -> Command:
        return cls(kind=kind, sent_at=now.isoformat(), expires_at=(now + ttl).isoformat(), **kw)

    @classmethod
    def from_json(cls, payload: bytes) -> Command:
        """Parse and validate; raise ValueError with a Vietnamese message."""
        try:
            data = json.loads(payload)
            if not isinstance(data, dict):
                raise ValueError("nội dung không phải đối tượng JSON")
        except ValueError as exc:
            raise ValueError(f"Lệnh không đọc được: {exc}") from None
        kind = data.get("kind")
        if kind not in COMMAND_KINDS:
            raise ValueError(f"Lệnh «{kind}» không hỗ trợ; dùng một trong: {', '.join(COMMAND_KINDS)}.")
        volume = data.get("volume")
        if volume is not None and (not isinstance(volume, int) or not 0 <= volume <= 100):
            raise ValueError(f"Âm lượng «{volume}» không hợp lệ; dùng số nguyên từ 0 đến 100.")
        if kind == "volume" and volume is None:
            raise ValueError("Lệnh đặt âm lượng thiếu trường volume (0-100).")
        for key in ("emergency", "airing", "live"):
            value = data.get(key)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise ValueError(f"Trường {key} «{value}» không hợp lệ; cần số nguyên không âm.")
        sha = data.get("sha256")
        state = data.get("state")
        if kind == "amplifier" and state not in AMPLIFIER_STATES:
            raise ValueError(f"Trạng thái ampli «{state}» không hợp lệ; dùng on hoặc off.")
        if kind == "update" and not (sha and data.get("package_url") and data.get("version")):
            raise ValueError("Lệnh cập nhật phần mềm thiếu package_url, sha256 hoặc version.")
        if kind == "play" and not (sha or data.get("stream_url")):
            raise ValueError("Lệnh phát khẩn cấp thiếu sha256 của tệp âm thanh hoặc stream_url.")
        if sha is not None and not is_sha256(str(sha)):
            raise ValueError(f"sha256 «{sha}» không hợp lệ (cần 64 ký tự hex thường).")
        path = data.get("audio_path")
        if path is not None and not (isinstance(path, str) and sha and len(path) <= 400
                                     and path.startswith(audio_path(str(sha)) + "?")):
            raise ValueError(f"Đường tải âm thanh «{str(path)[:80]}» không hợp lệ: "
                             "phải là đường tải tệp sha256 của lệnh.")
        for key in ("sent_at", "expires_at"):
            if data.get(key):
                try:
                    if datetime.fromisoformat(str(data[key])).tzinfo is None:
                        raise ValueError
                except ValueError:
                    raise ValueError(f"Trường {key} «{data[key]}» không phải thời điểm có múi giờ.") from None
        return cls(
            kind=kind,
            id=str(data.get("id") or uuid.uuid4().hex)[:64],
            sent_at=str(data.get("sent_at") or ""),
            expires_at=str(data.get("expires_at") or ""),
            sha256=sha,
            stream_url=data.get("stream_url"),
            duration_ms=int(data.get("duration_ms") or 0),
            title=str(data.get("title") or ""),
            bulletin=data.get("bulletin"),
            volume=volume,
            emergency=data.get("emergency"),
            airing=data.get("airing"),
            live=data.get("live"),
            state=str(state) if state is not None else None,
            package_url=str(data["package_url"]) if data.get("package_url") else None,
            version=str(data["version"])[:64] if data.get("version") else None,
            audio_path=path,
        )


CareState = Literal["ok", "failed", "running"]


@dataclass(frozen=True)
class CareResult:
    """What became of one remote-care command on the box, carried in the status (`care`, latest first)."""

    id: str  # the command's id
    kind: str
    result: CareState
    at: str  # ISO instant with offset
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> CareResult:
        """Parse and validate; ValueError (Vietnamese)."""
        if not isinstance(data, dict):
            raise ValueError("Kết quả lệnh phải là đối tượng JSON.")
        if data.get("result") not in ("ok", "failed", "running"):
            raise ValueError(f"Kết quả lệnh «{data.get('result')}» không hợp lệ.")
        try:
            if datetime.fromisoformat(str(data.get("at"))).tzinfo is None:
                raise ValueError
        except ValueError:
            raise ValueError(f"Thời điểm «{str(data.get('at'))[:40]}» của kết quả lệnh không hợp lệ.") from None
        return cls(id=str(data.get("id") or "")[:64], kind=str(data.get("kind") or "")[:20], result=data["result"],
                   at=str(data["at"]),
                   message="".join(c for c in str(data.get("message") or "") if c.isprintable())[:500])


EmergencyState = Literal["received", "playing", "played", "failed", "stopped", "expired"]
EMERGENCY_STATES: tuple[str, ...] = ("received", "playing", "played", "failed", "stopped", "expired")


@dataclass(frozen=True)
class EmergencyReport:
    """What became of one play of an emergency on a station, sent on `<station root>/event` (QoS 1)
    and, always, to POST /api/v1/emergency-reports (the server ignores what it already knows).

    received: the box has the command or the programme item; playing: it started at `at` (the
    actual start); played: it ended whole; failed: it could not air (`reason`); stopped: cut by a
    stop or the box shutting down; expired: it reached the box too late to air. `airing` comes
    from the command; programme items give their `scheduled` start instead.
    """

    id: str  # unique per report, generated on the station
    emergency: int
    state: EmergencyState
    at: str  # ISO instant with offset
    airing: int | None = None
    scheduled: str | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False).encode()

    @classmethod
    def from_dict(cls, data: Any) -> EmergencyReport:
        """Parse and validate; ValueError with a Vietnamese message."""
        if not isinstance(data, dict):
            raise ValueError("Báo cáo khẩn cấp phải là đối tượng JSON.")
        emergency, airing = data.get("emergency"), data.get("airing")
        if not isinstance(emergency, int) or isinstance(emergency, bool) or emergency < 1:
            raise ValueError(f"Số lệnh khẩn cấp «{emergency}» không hợp lệ.")
        if airing is not None and (not isinstance(airing, int) or isinstance(airing, bool) or not 0 <= airing < 10_000):
            raise ValueError(f"Lượt phát «{airing}» không hợp lệ.")
        state = data.get("state")
        if state not in EMERGENCY_STATES:
            raise ValueError(f"Trạng thái «{state}» không hợp lệ; dùng một trong: {', '.join(EMERGENCY_STATES)}.")
        for key in ("at", "scheduled"):
            value = data.get(key)
            if value is None and key == "scheduled":
                continue
            try:
                if datetime.fromisoformat(str(value)).tzinfo is None:
                    raise ValueError
            except ValueError:
                raise ValueError(f"Trường {key} «{str(value)[:40]}» không phải thời điểm có múi giờ.") from None
        reason = data.get("reason") or ""
        if not isinstance(reason, str):
            raise ValueError("Trường reason phải là chuỗi.")
        return cls(
            id=str(data.get("id") or uuid.uuid4().hex)[:64],
            emergency=emergency,
            state=state,
            at=str(data["at"]),
            airing=airing,
            scheduled=str(data["scheduled"]) if data.get("scheduled") else None,
            reason="".join(c for c in reason if c.isprintable())[:500],
        )

    @classmethod
    def from_json(cls, payload: bytes) -> EmergencyReport:
        try:
            data = json.loads(payload)
        except ValueError as exc:
            raise ValueError(f"Báo cáo khẩn cấp không đọc được: {exc}") from None
        return cls.from_dict(data)


# -- the play log: POST PLAYLOG_PATH {"plays": [row, ...]} ------------------------------------------

PLAY_RESULTS: tuple[str, ...] = ("played", "partial", "skipped", "failed")
MAX_PLAYS_PER_BATCH = 1000
MAX_PLAYLOG_BYTES = 4 * 1024 * 1024  # 1,000 rows at their longest fit in well under this
# The stored columns' sizes (scheduler.db.models.PlayLog): a longer text would make the database
# refuse the whole batch, so it is refused here first, by name.
PLAY_TEXT_LIMITS: dict[str, int] = {
    "play_id": 64, "week": 10, "kind": 12, "bulletin": 40, "title": 300, "language": 10, "priority": 10,
    "reason": 2000,
}  # fmt: skip
PLAY_INT_FIELDS: tuple[str, ...] = ("item_id", "version", "scheduled_ms", "played_ms")
MAX_ITEM_ID = 2**31 - 1  # the programme item's integer key
MAX_PLAY_MS = 24 * 3600 * 1000  # no play, relay or session lasts longer than a day
# Instants outside [now - PLAY_PAST, now + PLAY_FUTURE] are a box with a broken clock, not a play.
PLAY_PAST = timedelta(days=400)
PLAY_FUTURE = timedelta(days=2)
# C0/C1 controls (category Cc: U+0000-001F, U+007F-009F) and surrogates (Cs), both fixed by Unicode for
# good; as patterns a 50,000-row import scans its cells in C instead of one category lookup per character.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_BUT_BREAKS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")  # keeps \t \n \r


def control_char(text: str, multiline: bool) -> str | None:
    """The first character no database or report should hold: C0/C1 controls (NUL above all) and
    lone surrogates (JSON "\\ud800"); tabs and line breaks only where `multiline`."""
    found = (_CONTROL_BUT_BREAKS if multiline else _CONTROL).search(text)
    return found.group() if found else None


def clean_text(value: object, limit: int) -> str:
    """Text as the agent records it: controls and lone surrogates become spaces, cut to `limit`."""
    text = "" if value is None else str(value)
    return _CONTROL.sub(" ", text).strip()[:limit]


def clamp_ms(value: int) -> int:
    """A duration as the agent records it: within what the server accepts."""
    return min(max(int(value), 0), MAX_PLAY_MS)


class PlayInvalid(ValueError):
    """One play-log row is wrong: which row (1-based), which play_id and field, and why (Vietnamese)."""

    def __init__(self, row: int, play_id: str | None, field: str, problem: str) -> None:
        self.row, self.play_id, self.field, self.problem = row, play_id, field, problem
        who = f" (play_id «{play_id}»)" if play_id else ""
        super().__init__(f"Bản ghi thứ {row}{who} sai trường «{field}»: {problem}.")

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "play_id": self.play_id, "field": self.field, "error": str(self)}


@dataclass(frozen=True)
class PlayRecord:
    """One play-log row as the server may store it: every field typed, bounded and plausible."""

    play_id: str
    actual_start: datetime  # UTC
    result: str
    item_id: int | None = None
    week: str = ""
    version: int = 0
    kind: str = ""
    bulletin: str | None = None
    title: str = ""
    language: str = ""
    priority: str = ""
    scheduled_start: datetime | None = None
    scheduled_ms: int = 0
    actual_end: datetime | None = None
    played_ms: int = 0
    reason: str = ""


def _play_instant(value: object, name: str, bad: Callable[[str, str], PlayInvalid], now: datetime) -> datetime:
    if not isinstance(value, str):
        raise bad(name, "cần thời điểm ISO 8601 có múi giờ, ví dụ 2026-11-24T05:30:00+07:00")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise bad(name, f"«{value[:40]}» không phải thời điểm ISO 8601, ví dụ 2026-11-24T05:30:00+07:00") from None
    if parsed.tzinfo is None:
        raise bad(name, f"thời điểm «{value[:40]}» thiếu múi giờ (ví dụ +07:00)")
    try:
        instant = parsed.astimezone(UTC)
    except OverflowError:
        instant = None
    if instant is None or not now - PLAY_PAST <= instant <= now + PLAY_FUTURE:
        raise bad(name, f"thời điểm «{value[:40]}» không hợp lý (đồng hồ của đầu thu sai?); "
                        f"chỉ nhận trong {PLAY_PAST.days} ngày qua đến {PLAY_FUTURE.days} ngày tới")
    return instant


def parse_play(raw: object, row: int, now: datetime) -> PlayRecord:
    """A play-log row as received, checked field by field against the contract; PlayInvalid names the
    first wrong field. `now` (the server's clock) bounds the instants."""
    play_id = raw.get("play_id") if isinstance(raw, dict) else None
    shown = play_id[:64] if isinstance(play_id, str) and control_char(play_id, False) is None else None

    def bad(name: str, problem: str) -> PlayInvalid:
        return PlayInvalid(row, shown, name, problem)

    if not isinstance(raw, dict):
        raise bad("(bản ghi)", "cần đối tượng JSON")
    for name, limit in PLAY_TEXT_LIMITS.items():
        value = raw.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise bad(name, "phải là chuỗi")
        if len(value) > limit:
            raise bad(name, f"dài {len(value)} ký tự, tối đa {limit}")
        char = control_char(value, multiline=name == "reason")
        if char is not None:
            raise bad(name, f"chứa ký tự điều khiển U+{ord(char):04X}")
    if not play_id:
        raise bad("play_id", "thiếu mã lượt phát")
    for name in PLAY_INT_FIELDS:
        value = raw.get(name)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            raise bad(name, f"«{str(value)[:40]}» phải là số nguyên")
        top = MAX_ITEM_ID if name in ("item_id", "version") else MAX_PLAY_MS
        if not 0 <= value <= top:
            raise bad(name, f"{value} nằm ngoài khoảng 0–{top}")
    result = raw.get("result", "played")
    if result not in PLAY_RESULTS:
        raise bad("result", f"«{str(result)[:40]}» không hợp lệ; dùng {', '.join(PLAY_RESULTS)}")
    if raw.get("actual_start") in (None, ""):
        raise bad("actual_start", "thiếu thời điểm bắt đầu phát")
    actual_start = _play_instant(raw["actual_start"], "actual_start", bad, now)
    actual_end = None
    if raw.get("actual_end") not in (None, ""):
        actual_end = _play_instant(raw["actual_end"], "actual_end", bad, now)
        if actual_end < actual_start:
            raise bad("actual_end", "kết thúc trước khi bắt đầu")
    scheduled_start = None
    if raw.get("scheduled_start") not in (None, ""):
        scheduled_start = _play_instant(raw["scheduled_start"], "scheduled_start", bad, now)
    return PlayRecord(
        play_id=play_id,
        actual_start=actual_start,
        result=result,
        item_id=raw.get("item_id") or None,
        week=raw.get("week") or "",
        version=raw.get("version") or 0,
        kind=raw.get("kind") or "",
        bulletin=raw.get("bulletin") or None,
        title=raw.get("title") or "",
        language=raw.get("language") or "",
        priority=raw.get("priority") or "",
        scheduled_start=scheduled_start,
        scheduled_ms=raw.get("scheduled_ms") or 0,
        actual_end=actual_end,
        played_ms=raw.get("played_ms") or 0,
        reason=raw.get("reason") or "",
    )


def parse_plays(rows: list[Any], now: datetime) -> tuple[list[PlayRecord], list[PlayInvalid]]:
    """Every row of a batch checked: the good ones, and one PlayInvalid per bad row (all of them, so
    the station can set every bad row aside in one go)."""
    good: list[PlayRecord] = []
    invalid: list[PlayInvalid] = []
    for n, raw in enumerate(rows, 1):
        try:
            good.append(parse_play(raw, n, now))
        except PlayInvalid as exc:
            invalid.append(exc)
    return good, invalid
