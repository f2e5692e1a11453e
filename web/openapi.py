"""The OpenAPI 3.1 document served at /api/v1/openapi.json: the open read API (web/open_api.py) and the
station API (web/api.py), so an adapter for the province's or the nation's source system can map onto it.

Tests validate the document with openapi-spec-validator and check every /api/v1 JSON answer the suite
receives against it (tests/openapi_check.py). The manifest's own JSON Schema
(scheduler/manifest.schema.json) is embedded, its $defs lifted into components.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import scheduler
from scheduler import apikeys
from scheduler.fleet import MapState
from scheduler.item_states import ItemState
from scheduler.open_data import DEFAULT_LIMIT, MAX_AIRTIME_DAYS, MAX_LIMIT, MAX_PROGRAMMES, PUBLIC_BULLETINS
from scheduler.reports import BY_CHOICES
from scheduler.wire import API_PREFIX, COMMAND_KINDS, EMERGENCY_STATES

MANIFEST_SCHEMA = Path(scheduler.__file__).resolve().parent / "manifest.schema.json"
UPSTREAM_SCHEMA = Path(scheduler.__file__).resolve().parent / "upstream_bulletin.schema.json"  # docs/ links here
VERSION = "1.0.0"

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {"oneOf": [schema, {"type": "null"}]}


STRING: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
INSTANT: Schema = {"type": "string", "format": "date-time"}
DAY: Schema = {"type": "string", "format": "date"}


def obj(properties: dict[str, Schema], required: list[str] | None = None, extra: bool = False) -> Schema:
    """An object with these properties, all required unless `required` says otherwise."""
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required, "additionalProperties": extra}


def _manifest_schemas() -> dict[str, Schema]:
    """The manifest schema as components: Manifest, and its $defs as Manifest_<name>."""
    schema = json.loads(MANIFEST_SCHEMA.read_text(encoding="utf-8"))
    defs = schema.pop("$defs", {})
    for key in ("$schema", "$id"):
        schema.pop(key, None)

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: (f"#/components/schemas/Manifest_{v.split('/')[-1]}" if k == "$ref" and isinstance(v, str)
                        and v.startswith("#/$defs/") else rewrite(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        return node

    found: dict[str, Schema] = {"Manifest": rewrite(schema)}
    for name, sub in defs.items():
        found[f"Manifest_{name}"] = rewrite(sub)
    return found


FIGURES: dict[str, Schema] = {
    "planned_items": INT, "planned_ms": INT, "aired_items": INT, "aired_ms": INT, "missed_items": INT,
    "emergency_items": INT, "planned_minutes": {"type": "number"}, "aired_minutes": {"type": "number"},
    "ratio": nullable({"type": "number"}),
}


def _schemas() -> dict[str, Schema]:
    item_states = [s.value for s in ItemState]
    schemas: dict[str, Schema] = {
        "Error": obj({
            "error": {**STRING, "description": "Lời báo lỗi tiếng Việt: sai gì, với giá trị nào, làm gì."},
            "invalid": {"type": "array", "description": "POST /playlog: từng bản ghi sai và trường sai",
                        "items": obj({"row": INT, "play_id": nullable(STRING), "field": STRING, "error": STRING},
                                     extra=True)},
        }, required=["error"]),
        "Paging": obj({"total": INT, "limit": INT, "offset": INT,
                       "next_offset": {**nullable(INT), "description": "offset của trang sau; null ở trang cuối"}}),
        "Station": obj({
            "code": STRING, "name": STRING, "lat": nullable({"type": "number"}), "lon": nullable({"type": "number"}),
            "speakers": INT, "languages": {"type": "array", "items": STRING}, "active": {"type": "boolean"},
            "scope": obj({"province": STRING, "area": nullable(STRING), "commune": STRING}),
            "status": ref("StationStatus"),
        }),
        "StationStatus": obj({
            "online": {"type": "boolean", "description": "scheduler.liveness: any contact within LOAXA_SILENT_MINUTES"},
            "state": {"enum": [s.value for s in MapState],
                      "description": "scheduler.fleet: mat_ket_noi, else dang_phat, else bo_lo_hom_nay, "
                                     "else truc_tuyen"},
            "state_label": STRING,
            "last_contact": nullable(INSTANT),
            "contacts": obj({"manifest": nullable(INSTANT), "status": nullable(INSTANT), "log": nullable(INSTANT)}),
            "now_playing": nullable(obj({"title": STRING, "kind": STRING, "since": nullable(INSTANT),
                                         "source": {"enum": ["box", "schedule"]}})),
            "today": obj({"planned": INT, "aired": INT, "missed": INT, "upcoming": INT}),
        }),
        "StationList": obj({"data": {"type": "array", "items": ref("Station")}, "paging": ref("Paging")}),
        "ProgrammeItem": obj({
            "id": INT, "start": INSTANT, "end": INSTANT, "kind": {"enum": ["bulletin", "jingle", "relay", "emergency"]},
            "title": STRING, "bulletin": nullable(STRING), "topic": nullable(STRING), "language": STRING,
            "priority": STRING, "duration_ms": INT, "stream_url": nullable(STRING),
            "state": {"enum": item_states, "description": "scheduler.item_states"}, "state_label": STRING,
        }),
        "Programme": obj({"station": STRING, "week": STRING, "version": INT, "acked_version": INT,
                          "built_at": INSTANT, "items": {"type": "array", "items": ref("ProgrammeItem")}}),
        "ProgrammeList": obj({"data": {"type": "array", "items": ref("Programme")}, "paging": ref("Paging")}),
        "AirtimeFigures": obj(FIGURES),
        "AirtimeRow": obj({"key": STRING, "label": STRING, "commune": nullable(STRING), "area": nullable(STRING),
                           **FIGURES}),
        "AirtimeDay": obj({"day": DAY, "as_of": INSTANT, "totals": ref("AirtimeFigures"),
                           "rows": {"type": "array", "items": ref("AirtimeRow")}}),
        "AirtimeList": obj({
            "data": {"type": "array", "items": ref("AirtimeDay")}, "paging": ref("Paging"),
            "by": {"enum": list(BY_CHOICES)},
            "scope": obj({"level": {"enum": ["province", "area", "commune", "station"]}, "value": nullable(STRING)}),
        }),
        "Bulletin": obj({
            "code": STRING, "title": STRING, "text": STRING, "topic": STRING, "topic_label": STRING,
            "language": STRING, "language_label": STRING, "priority": STRING, "priority_label": STRING,
            "status": {"enum": list(PUBLIC_BULLETINS)}, "valid_from": DAY, "valid_to": DAY, "plays_per_week": INT,
            "targets": {"type": "array", "items": STRING}, "approved_at": nullable(INSTANT), "updated_at": INSTANT,
            "audio": nullable(obj({"sha256": STRING, "duration_ms": INT})),
        }),
        "BulletinList": obj({"data": {"type": "array", "items": ref("Bulletin")}, "paging": ref("Paging")}),
        # -- the station API --
        "ManifestIndex": obj({
            "station": STRING, "timezone": STRING,
            "weeks": {"type": "array", "items": obj({"week": STRING, "version": INT, "hash": STRING, "etag": STRING,
                                                     "url": STRING})},
        }),
        "AckRequest": obj({"week": STRING, "version": INT}, required=["week", "version"], extra=True),
        "AckResponse": obj({"week": STRING, "version": INT, "acked_version": INT}),
        "Play": obj({
            "play_id": STRING, "item_id": nullable(INT), "week": STRING, "version": INT, "kind": STRING,
            "bulletin": nullable(STRING), "title": STRING, "scheduled_start": nullable(INSTANT), "scheduled_ms": INT,
            "actual_start": INSTANT, "actual_end": nullable(INSTANT), "played_ms": INT,
            "result": {"enum": ["played", "partial", "skipped", "failed"]}, "reason": STRING,
        }, required=["play_id", "actual_start", "result"], extra=True),
        "PlaylogRequest": obj({"plays": {"type": "array", "items": ref("Play"), "maxItems": 1000}}),
        "PlaylogResponse": obj({"accepted": {"type": "array", "items": STRING}, "stored": INT, "duplicates": INT}),
        "StatusRequest": obj({
            "agent_version": STRING, "clock_offset_ms": nullable(INT), "disk_free_mb": nullable(INT),
            "volume": nullable({"type": "integer", "minimum": 0, "maximum": 100}), "amplifier": STRING,
            "power": STRING, "playing": nullable({"type": "object"}),
            "care": {"type": "array", "items": ref("CareResult")},
        }, required=[], extra=True),
        "CareResult": obj({
            "id": STRING, "kind": STRING, "result": {"enum": ["ok", "failed", "running"]}, "at": INSTANT,
            "message": STRING,
        }, required=["id", "result", "at"]),
        "Command": obj({
            "kind": {"enum": list(COMMAND_KINDS)}, "id": STRING, "sent_at": STRING, "expires_at": STRING,
            "sha256": nullable(STRING), "stream_url": nullable(STRING), "duration_ms": INT, "title": STRING,
            "bulletin": nullable(STRING), "volume": nullable(INT), "emergency": nullable(INT), "airing": nullable(INT),
            "state": nullable({"enum": ["on", "off"]}), "package_url": nullable(STRING),
            "version": nullable(STRING),
        }, required=["kind", "id"], extra=True),
        "StatusResponse": obj({"ok": {"const": True}, "server_time": INSTANT,
                               "emergencies": {"type": "array", "items": ref("Command"),
                                               "description": "lệnh khẩn cấp đang chờ đài"},
                               "commands": {"type": "array", "items": ref("Command"),
                                            "description": "lệnh chăm sóc từ xa chưa được đài trả lời"}},
                              required=["ok", "server_time", "emergencies"]),
        "EmergencyReport": obj({
            "id": STRING, "emergency": INT, "state": {"enum": list(EMERGENCY_STATES)}, "at": INSTANT,
            "airing": nullable(INT), "scheduled": nullable(INSTANT), "reason": STRING,
        }, required=["emergency", "state", "at"]),
        "EmergencyReportsRequest": obj({"reports": {"type": "array", "items": ref("EmergencyReport")}}),
        "EmergencyReportsResponse": obj({"accepted": {"type": "array", "items": STRING}}),
        "MqttAccess": obj({
            "url": nullable(STRING), "username": STRING, "password": nullable(STRING), "client_id": STRING,
            "topics": obj({"programme": STRING, "cmd": STRING, "status": STRING, "event": STRING},
                          required=["programme", "cmd", "status"]),
        }),
        "CapImportResponse": obj({"emergency": INT, "state": STRING, "action": STRING,
                                  "stations": {**INT, "description": "số đài nhận lệnh"}, "url": STRING}),
    }
    schemas.update(_manifest_schemas())
    upstream = json.loads(UPSTREAM_SCHEMA.read_text(encoding="utf-8"))
    for key in ("$schema", "$id"):
        upstream.pop(key, None)
    schemas["UpstreamBulletin"] = upstream
    schemas["UpstreamBulletinResponse"] = obj({
        "id": INT, "code": STRING, "external_id": STRING, "status": STRING,
        "created": {"type": "boolean", "description": "false: đã nhận bản tin này trước đó (gửi lại)"},
        "url": STRING})  # fmt: skip
    schemas["FieldErrors"] = obj({
        "error": {**STRING, "description": "Lời báo lỗi tiếng Việt cho cả yêu cầu."},
        "errors": {"type": "object", "additionalProperties": STRING, "description": "Lỗi của từng trường."}})
    return schemas


def _errors(*codes: int) -> dict[str, Any]:
    """The listed error answers, and 503 (the database did not answer: web.api.database_unavailable), which
    every call may get."""
    words = {400: "Tham số hoặc nội dung sai", 401: "Thiếu hoặc sai khóa", 403: "Khóa không có phạm vi này",
             404: "Không có", 409: "Dữ liệu vừa thay đổi; thử lại", 413: "Quá lớn"}
    answers: dict[str, Any] = {
        str(c): {"description": words[c], "content": {"application/json": {"schema": ref("Error")}}} for c in codes}
    answers["503"] = {"description": "Cơ sở dữ liệu tạm thời không trả lời, chưa ghi gì; gửi lại sau Retry-After giây",
                      "headers": {"Retry-After": {"description": "Số giây nên chờ", "schema": {"type": "integer"}}},
                      "content": {"application/json": {"schema": ref("Error")}}}
    return answers


def _json(schema: Schema, description: str = "Thành công") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query(name: str, description: str, schema: Schema | None = None, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema or STRING}


def _paging(default: int, most: int) -> list[dict[str, Any]]:
    return [_query("limit", f"Số phần tử mỗi trang (mặc định {default}, tối đa {most}).",
                   {"type": "integer", "minimum": 1, "maximum": most, "default": default}),
            _query("offset", "Bỏ qua bấy nhiêu phần tử đầu.", {"type": "integer", "minimum": 0, "default": 0})]


PLACES = [_query("area", "Tên khu vực (huyện cũ), đúng nguyên văn."), _query("commune", "Tên xã, đúng nguyên văn."),
          _query("station", "Mã đài.")]


def _read(scope: str, summary: str, params: list[dict[str, Any]], schema: str) -> dict[str, Any]:
    return {"get": {
        "summary": summary, "tags": ["API mở (đọc)"], "security": [{"apiKey": []}, {"bearerKey": []}],
        "description": f"Cần khóa có phạm vi `{scope}` (loaxa apikey add TÊN --scope {scope}).",
        "x-loaxa-scope": scope, "parameters": params,
        "responses": {"200": _json(ref(schema)), **_errors(400, 401, 403)},
    }}


UNCHANGED = {"304": {"description": "Không đổi: đài đã có đúng phiên bản này (If-None-Match khớp ETag)"}}


def _station(method: str, summary: str, response: dict[str, Any], body: str | None = None,
             params: list[dict[str, Any]] | None = None, codes: tuple[int, ...] = (400, 401),
             more: dict[str, Any] | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "tags": ["API của đài"], "security": [{"stationToken": []}],
                                 "responses": {"200": response, **(more or {}), **_errors(*codes)}}
    if params:
        operation["parameters"] = params
    if body:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(body)}}}
    return {method: operation}


@cache
def _document() -> dict[str, Any]:
    week = {"name": "week", "in": "path", "required": True, "schema": {"type": "string", "pattern": r"^\d{4}-W\d{2}$"}}
    paths: dict[str, Any] = {
        "/stations": _read("read:stations", "Đài và cụm loa: tọa độ, xã, khu vực, trạng thái", [
            *PLACES, _query("state", "Trạng thái trên bản đồ.", {"enum": [s.value for s in MapState]}),
            _query("active", "Đài đang hoạt động (true) hay tạm ngừng (false).", {"enum": ["true", "false"]}),
            *_paging(DEFAULT_LIMIT, MAX_LIMIT)], "StationList"),
        "/programmes": _read("read:programmes", "Lịch phát một tuần của từng đài, kèm trạng thái từng mục", [
            _query("week", "Tuần ISO, ví dụ 2026-W48 (mặc định: tuần này theo giờ Việt Nam).",
                   {"type": "string", "pattern": r"^\d{4}-W\d{2}$"}),
            *PLACES, *_paging(20, MAX_PROGRAMMES)], "ProgrammeList"),
        "/airtime/daily": _read("read:airtime", "Thời lượng phát sóng theo ngày (cách đếm của báo cáo)", [
            _query("from", "Ngày đầu (2026-11-01).", DAY, required=True),
            _query("to", "Ngày cuối (2026-11-30), tính cả ngày này.", DAY, required=True),
            _query("by", "Nhóm theo.", {"enum": list(BY_CHOICES), "default": "station"}),
            *PLACES, *_paging(7, MAX_AIRTIME_DAYS)], "AirtimeList"),
        "/bulletins": _read("read:bulletins", "Bản tin đã duyệt (hoặc đã lưu trữ)", [
            _query("status", "Trạng thái.", {"enum": list(PUBLIC_BULLETINS), "default": PUBLIC_BULLETINS[0]}),
            _query("topic", "Mã chủ đề."), _query("language", "Mã ngôn ngữ (vi, jra, bdq, km…)."),
            _query("priority", "Mức ưu tiên (thuong, uu_tien, khan_cap)."),
            _query("valid_on", "Bản tin còn hiệu lực vào ngày này.", DAY),
            _query("updated_since", "Chỉ những bản tin sửa từ thời điểm này (có múi giờ).", INSTANT),
            *_paging(DEFAULT_LIMIT, MAX_LIMIT)], "BulletinList"),
        "/openapi.json": {"get": {"summary": "Tài liệu này", "tags": ["Tài liệu"], "security": [],
                                  "responses": {"200": _json({"type": "object"})}}},
        "/manifest": _station("get", "Phiên bản lịch tuần này và tuần sau của đài", _json(ref("ManifestIndex")),
                              more=UNCHANGED),
        "/manifest/{week}": _station("get", "Lịch phát một tuần (manifest)", _json(ref("Manifest")),
                                     params=[week], codes=(400, 401, 404), more=UNCHANGED),
        "/audio/{sha256}.mp3": _station("get", "Tệp âm thanh theo SHA-256 (có Range)", {
            "description": "MP3", "content": {"audio/mpeg": {"schema": {"type": "string", "format": "binary"}}}},
            params=[{"name": "sha256", "in": "path", "required": True,
                     "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}], codes=(401, 404),
            more={**UNCHANGED, "206": {"description": "Một đoạn của tệp (Range)",
                                       "content": {"audio/mpeg": {"schema": {"type": "string", "format": "binary"}}}},
                  "416": {"description": "Khoảng Range không hợp lệ"}}),
        "/ack": _station("post", "Đài đã có đủ lịch và âm thanh của phiên bản này", _json(ref("AckResponse")),
                         body="AckRequest", codes=(400, 401, 404, 409)),
        "/playlog": _station("post", "Gửi nhật ký phát (mỗi play_id lưu một lần)", _json(ref("PlaylogResponse")),
                             body="PlaylogRequest", codes=(400, 401, 413)),
        "/agent-package/{sha256}.whl": _station("get", "Gói phần mềm đầu thu đã phát hành (lệnh update)", {
            "description": "Gói wheel", "content": {"application/octet-stream": {
                "schema": {"type": "string", "format": "binary"}}}},
            params=[{"name": "sha256", "in": "path", "required": True,
                     "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}], codes=(401, 404), more=UNCHANGED),
        "/status": _station("post", "Báo trạng thái máy thu; trả giờ máy chủ, lệnh khẩn cấp và lệnh chăm sóc đang chờ",
                            _json(ref("StatusResponse")), body="StatusRequest"),
        "/emergency-reports": _station("post", "Báo cáo diễn biến lệnh khẩn cấp tại đài",
                                       _json(ref("EmergencyReportsResponse")), body="EmergencyReportsRequest"),
        "/mqtt": _station("get", "Máy chủ MQTT, tài khoản và chủ đề của đài", _json(ref("MqttAccess")), codes=(401,)),
        "/cap": {"post": {
            "summary": "Nhận cảnh báo CAP 1.2 từ nguồn cấp trên (thành lệnh khẩn cấp chờ duyệt)",
            "tags": ["Nguồn cấp trên"], "security": [{"sourceKey": []}],
            "requestBody": {"required": True, "content": {"application/cap+xml": {"schema": STRING},
                                                          "application/xml": {"schema": STRING}}},
            "responses": {"200": _json(ref("CapImportResponse"), "Đã có, cập nhật"),
                          "201": _json(ref("CapImportResponse"), "Đã tạo"), **_errors(400, 401, 413)},
        }},
        "/upstream/bulletins": {"post": {
            "summary": "Nhận bản tin từ hệ thống thông tin nguồn (đã duyệt bởi nguồn; xã áp dụng Thông tư 39)",
            "tags": ["Nguồn cấp trên"], "security": [{"sourceKey": []}],
            "description": ("Gửi lại cùng external_id với cùng nội dung: trả bản tin đã có (200). "
                            "Xem docs/upstream-api.md."),
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": ref("UpstreamBulletin")},
                "multipart/form-data": {"schema": {"type": "object", "required": ["bulletin"], "properties": {
                    "bulletin": {**STRING, "description": "Các trường của bản tin (JSON, không có audio)."},
                    "audio": {"type": "string", "format": "binary"}}}}}},
            "responses": {"200": _json(ref("UpstreamBulletinResponse"), "Đã có (gửi lại)"),
                          "201": _json(ref("UpstreamBulletinResponse"), "Đã nhận"),
                          "400": {"description": "Nội dung sai; không lưu gì",
                                  "content": {"application/json": {"schema": ref("FieldErrors")}}},
                          **_errors(401, 413)},
        }},
        "/cap/{emergency_id}.xml": {"get": {
            "summary": "Một lệnh khẩn cấp dưới dạng CAP 1.2", "tags": ["Nguồn cấp trên"],
            "security": [{"sourceKey": []}],
            "parameters": [{"name": "emergency_id", "in": "path", "required": True, "schema": INT}],
            "responses": {"200": {"description": "CAP 1.2", "content": {"application/cap+xml": {"schema": STRING}}},
                          **_errors(401, 404)},
        }},
    }
    scopes = "; ".join(f"`{k}`: {v}" for k, v in apikeys.SCOPES.items())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "loaxa API",
            "version": VERSION,
            "summary": "API mở để đọc đài, lịch phát, thời lượng phát sóng, bản tin; API của đài (máy thu).",
            "description": ("Mọi lỗi trả JSON {\"error\": \"…\"} bằng tiếng Việt. Thời điểm theo ISO 8601 có múi giờ; "
                            "ngày theo lịch Việt Nam (Asia/Ho_Chi_Minh). Phạm vi khóa API: " + scopes + "."),
        },
        "servers": [{"url": API_PREFIX}],
        "tags": [{"name": "API mở (đọc)"}, {"name": "API của đài"}, {"name": "Nguồn cấp trên"}, {"name": "Tài liệu"}],
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                           "description": "Khóa của bên dùng API (loaxa apikey add)."},
                "bearerKey": {"type": "http", "scheme": "bearer",
                              "description": "Cùng khóa đó, gửi dạng Authorization: Bearer <khóa>."},
                "stationToken": {"type": "http", "scheme": "bearer", "description": "Mã truy cập của đài."},
                "sourceKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                              "description": "Khóa của nguồn cấp trên (loaxa source add)."},
            },
        },
    }


def document(public_url: str) -> dict[str, Any]:
    """The document with its server URL made absolute for this installation."""
    doc = copy.deepcopy(_document())
    doc["servers"] = [{"url": public_url.rstrip("/") + API_PREFIX}]
    return doc
