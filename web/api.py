"""The station API under /api/v1: manifests, audio, acknowledgements, play logs, status, MQTT access.

Every call carries the station's own token (Authorization: Bearer …) and sees only that
station's data. Errors are JSON {"error": "<Vietnamese>"}; a bad batch is rejected whole.
Contract: docs/station-api.md.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
from collections.abc import Callable
from functools import partial, wraps
from pathlib import Path
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, g, jsonify, request
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import HTTPException

from audio.cache import content_name
from scheduler import upstream
from scheduler.bulletins import BulletinInvalid
from scheduler.db.models import Emergency, Source, Station
from scheduler.db.session import read
from scheduler.delivery import acks, agent_packages, audio_links, care, station_api
from scheduler.emergencies import cap
from scheduler.emergencies.tracking import station_commands, visible_to
from scheduler.live.broadcasts import station_commands as live_commands
from scheduler.live.broadcasts import sweep as live_sweep
from scheduler.playlog import PlaysInvalid, ingest
from scheduler.sources import source_for_key
from scheduler.wire import API_PREFIX, MAX_PLAYLOG_BYTES, MAX_PLAYS_PER_BATCH, OPENAPI_PATH
from web.auth import can, current_user
from web.context import ack_groups, contacts, db, manifest_bodies, now, poll_cache, reads, settings
from web.forms import MAX_RECORDING_BYTES
from web.views.uploads import discard_recording, read_recording, save_recording
from web.xaccel import send_media  # nginx sends the bytes when LOAXA_X_ACCEL=1

bp = Blueprint("api", __name__, url_prefix=API_PREFIX)

AUDIO_MAX_AGE = 365 * 24 * 3600
F = TypeVar("F", bound=Callable[..., Any])

HTTP_MESSAGES = {
    400: "Yêu cầu không hợp lệ.",
    401: "Thiếu hoặc sai mã truy cập của đài.",
    404: f"Không có địa chỉ này trong API. Xem tài liệu {OPENAPI_PATH} (và docs/station-api.md).",
    405: "Phương thức HTTP này không dùng được ở địa chỉ này.",
    413: "Nội dung gửi lên quá lớn.",
    415: "Nội dung phải là JSON (Content-Type: application/json).",
}


def error(status: int, message: str, **extra: Any) -> Response:
    response = jsonify(error=message, **extra)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="loaxa"'
    return response


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    code = exc.code or 500
    return error(code, HTTP_MESSAGES.get(code, exc.description or "Lỗi máy chủ."))


DATABASE_UNAVAILABLE = ("Cơ sở dữ liệu của máy chủ đang bận hoặc tạm thời không trả lời; chưa có gì được ghi. "
                        "Gửi lại sau số giây ghi ở tiêu đề Retry-After.")
RETRY_AFTER_SECONDS = 5


@bp.errorhandler(OperationalError)
def database_unavailable(exc: OperationalError) -> Response:
    """The database unreachable, restarting, or a statement rolled back for a deadlock that its retries did not
    get past: the caller tries again (503, Retry-After), as after a dead node, never a 500. The open API's
    blueprint answers the same way."""
    current_app.logger.warning("API %s %s: cơ sở dữ liệu không trả lời (%s); trả 503.", request.method,
                               request.path, type(exc.orig).__name__ if exc.orig is not None else "?")
    response = error(503, DATABASE_UNAVAILABLE)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response

STATION_TOKEN_MISSING = ("Thiếu hoặc sai mã truy cập của đài (tiêu đề Authorization: Bearer <mã>). "
                         "Kiểm tra mã đã cấp cho đài, hoặc nhờ trung tâm cấp mã mới.")


def bearer_token() -> str:
    """The token of `Authorization: Bearer <token>`; empty without one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def station_required(view: F) -> F:
    """Resolve the bearer token to an active station (g.station) or answer 401."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = bearer_token()
        station = station_api.station_for_token(db(), token) if token else None
        if station is None:
            return error(401, STATION_TOKEN_MISSING)
        g.station = station
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def current_station() -> Station:
    station: Station = g.station
    return station


def json_body() -> Any:
    data = request.get_json(silent=True)
    if data is None:
        raise ValueError("Nội dung gửi lên phải là JSON hợp lệ (Content-Type: application/json).")
    return data


def _commit(session: Session) -> None:
    try:
        session.commit()
    except Exception:
        session.rollback()
        raise


@bp.get("/manifest")
@station_required
def manifest_index() -> Response:
    """This and next week's programme versions for the calling station."""
    session, station, when = db(), current_station(), now()
    index = station_api.manifest_index(session, station, settings(), when)
    etag = station_api.index_etag(index)
    contacts().note(station.id, station.last_manifest_at, when)  # written behind, in batches
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:  # the station fetches the weeks it names next, maybe from another node: one that has seen them
        poll_cache().before_telling(reads())
        response = jsonify(index)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/manifest/<week>")
def manifest(week: str) -> Response:
    """The full manifest of one week; 304 when the station already holds this version. The poll every
    station makes: one statement on an autocommit connection, the body rendered once per version and
    kept (scheduler.manifest.ManifestBodies), the contact stamp written behind (scheduler.liveness)."""
    try:
        week = station_api.check_week(week)
    except ValueError as exc:
        return error(400, str(exc))
    held = request.if_none_match
    answer = station_api.week_answer(reads(), poll_cache(), bearer_token(), week, held.contains, settings(),
                                     manifest_bodies(), held_tags=held)
    if answer is None:
        return error(401, STATION_TOKEN_MISSING)
    contacts().note(answer.station_id, answer.stamped, now())
    if answer.etag is None:
        return error(404, f"Đài {answer.station_code} chưa có lịch phát tuần {week}.")
    response = Response(status=304) if answer.body is None else Response(answer.body, mimetype="application/json")
    response.set_etag(answer.etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/audio/<sha256>.mp3")
def audio(sha256: str) -> Response:
    """Audio by content hash, only if the station's programmes use it; immutable, with Range.
    With an emergency command's signed link (scheduler.delivery.audio_links) it is served without the lookups."""
    try:
        signed = audio_links.verify(settings().secret_key, request.args.get("link", ""), now())
    except audio_links.LinkError:
        signed = None
    path = settings().media_dir / content_name(sha256)
    if signed == sha256 and path.is_file():
        return _send_audio(path, sha256)
    return _station_audio(sha256)


@station_required
def _station_audio(sha256: str) -> Response:
    asset = station_api.audio_for_station(db(), current_station(), sha256)
    if asset is None:
        return error(404, f"Không có tệp âm thanh {sha256[:64]} trong lịch phát của đài {current_station().code}.")
    path = settings().media_dir / asset.file_name
    if not path.is_file():
        return error(404, f"Tệp âm thanh {sha256} có trong lịch nhưng không còn trên máy chủ. "
                          "Báo quản trị viên tạo lại âm thanh cho bản tin.")
    return _send_audio(path, sha256)


def _send_audio(path: Path, sha256: str) -> Response:
    response = send_media(path, mimetype="audio/mpeg", conditional=True, etag=sha256, max_age=AUDIO_MAX_AGE)
    response.headers["Cache-Control"] = f"private, max-age={AUDIO_MAX_AGE}, immutable"
    return response


@bp.get("/agent-package/<sha256>.whl")
@station_required
def agent_package(sha256: str) -> Response:
    """A published agent package, for a box obeying an `update` command (scheduler.delivery.agent_packages)."""
    package = agent_packages.package_for(db(), sha256)
    path = settings().media_dir / package.file_name if package is not None else None
    if path is None or not path.is_file():
        return error(404, f"Không có gói phần mềm đầu thu {sha256[:64]} trên máy chủ.")
    return send_media(path, mimetype="application/octet-stream", conditional=True, etag=sha256)


ACK_CHANGED = ("Lịch phát của đài thay đổi ngay lúc ghi xác nhận, nên chưa ghi được. "
               "Tải lại lịch phát (manifest) rồi gửi lại xác nhận.")


@bp.post("/ack")
def ack() -> Response:
    """The station holds this week's version with all its audio. The rule, and why an ack is written together
    with the others arriving at the same time: scheduler.delivery.acks."""
    token = bearer_token()
    try:
        week, version = acks.parse_ack(request.get_json(silent=True))
    except ValueError as exc:
        # An unknown token learns nothing about what it sent.
        known = bool(token) and station_api.station_for_token(db(), token) is not None
        return error(400, str(exc)) if known else error(401, STATION_TOKEN_MISSING)
    if not token:
        return error(401, STATION_TOKEN_MISSING)
    sent = acks.ack_of(token, week, version, now())
    for _ in range(3):
        result = ack_groups().record(sent)  # returns once the ack is committed
        if result is not None:
            return jsonify(result)
        try:
            result = read(reads(), partial(acks.explain, ack=sent))
        except LookupError as exc:
            return error(404, str(exc.args[0]))
        except ValueError as exc:
            return error(400, str(exc))
        except acks.Changed:
            continue
        if result is None:
            return error(401, STATION_TOKEN_MISSING)
        return jsonify(result)  # a newer ack is already recorded: acks may arrive out of order
    return error(409, ACK_CHANGED)


@bp.post("/playlog")
@station_required
def playlog() -> Response:
    """A batch of plays; stored once per play_id. The answer lists every play_id now safe on the server."""
    session, station, when = db(), current_station(), now()
    if (request.content_length or 0) > MAX_PLAYLOG_BYTES:
        return error(413, f"Một lần gửi nhật ký phát tối đa {MAX_PLAYLOG_BYTES // (1024 * 1024)} MB. "
                          "Chia nhỏ rồi gửi lại.")
    try:
        body = json_body()
        plays = body.get("plays") if isinstance(body, dict) else None
        if not isinstance(plays, list) or not all(isinstance(p, dict) for p in plays):
            raise ValueError("Nội dung phải có dạng {\"plays\": [ {...}, ... ]}.")
        if len(plays) > MAX_PLAYS_PER_BATCH:
            return error(413, f"Một lần gửi tối đa {MAX_PLAYS_PER_BATCH} bản ghi; lần này có {len(plays)}. "
                              "Chia nhỏ rồi gửi lại.")
        # Items loaded up front and no autoflush per row: one SELECT and one batched INSERT per batch.
        held = station_api.preload_items(session, plays)
        with session.no_autoflush:
            result = ingest(session, station, plays, when, source="agent")
        del held
        _commit(session)
    except PlaysInvalid as exc:
        session.rollback()
        # Every bad row named (row number, play_id, field): the agent sets exactly those aside.
        return error(400, f"Không lưu bản ghi nào. {exc}", invalid=[e.to_dict() for e in exc.invalid])
    except ValueError as exc:
        session.rollback()
        return error(400, f"Không lưu bản ghi nào. {exc}")
    return jsonify(accepted=result.accepted_ids, stored=result.stored, duplicates=result.duplicates)


@bp.post("/status")
@station_required
def status() -> Response:
    """Heartbeat and self-report; the answer carries the server time for the clock offset."""
    session, station, when = db(), current_station(), now()
    try:
        station_api.record_status(station, json_body(), when)
    except ValueError as exc:
        session.rollback()
        return error(400, str(exc))
    body = json_body()
    care.record_results(session, station, body.get("care") if isinstance(body, dict) else None, when)
    # The station's contact is how it learns of emergencies and care commands when it has no live MQTT link.
    commands = [c.to_dict() for c in station_commands(session, station, when)]
    live_sweep(session, settings(), when)  # a live broadcast whose speaker went quiet ends even with no page open
    commands += [c.to_dict() for c in live_commands(session, station, when)]  # live broadcasts: the same path
    care_commands = [c.to_dict() for c in care.pending_commands(session, station, when)]
    _commit(session)
    return jsonify(ok=True, server_time=when.isoformat(), emergencies=commands, commands=care_commands)


@bp.post("/emergency-reports")
@station_required
def emergency_reports() -> Response:
    """What became of emergencies on the station (received, playing, played, failed…); idempotent."""
    session, station, when = db(), current_station(), now()
    try:
        accepted = station_api.record_emergency_reports(session, station, json_body(), when)
    except ValueError as exc:
        session.rollback()
        return error(400, f"Không lưu báo cáo nào. {exc}")
    _commit(session)
    return jsonify(accepted=accepted)


@bp.get("/mqtt")
@station_required
def mqtt() -> Response:
    """Broker address, this station's MQTT account and its topics (url is null without a broker)."""
    return jsonify(station_api.mqtt_config(current_station(), settings()))


def request_api_key() -> str:
    """The API key an outside system sent: X-API-Key, or Authorization: Bearer (sources and read consumers)."""
    key = request.headers.get("X-API-Key", "").strip()
    if not key:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        key = token.strip() if scheme.lower() == "bearer" else ""
    return key


def _source() -> Source | None:
    """The upstream source named by the request's API key."""
    return source_for_key(db(), request_api_key(), now())


SOURCE_KEY_MISSING = ("Thiếu hoặc sai khóa API của nguồn (tiêu đề X-API-Key: <khóa>). "
                      "Quản trị viên cấp khóa bằng «loaxa source add TÊN-NGUỒN».")


@bp.post("/cap")
def cap_import() -> Response:
    """A CAP 1.2 alert from an upstream source becomes a pending emergency (docs/cap.md)."""
    session, when = db(), now()
    source = _source()
    if source is None:
        return error(401, SOURCE_KEY_MISSING)
    if (request.content_length or 0) > cap.MAX_BYTES:
        return error(413, f"Cảnh báo CAP quá lớn; tối đa {cap.MAX_BYTES // 1024} KB.")
    try:
        imported = cap.import_alert(session, request.get_data(cache=False), settings().media_dir, settings().audio,
                                    when, source)
        result = {"emergency": imported.emergency.id, "state": imported.emergency.state, "action": imported.action,
                  "stations": imported.stations, "url": f"{settings().public_url}/khan-cap/{imported.emergency.id}"}
        _commit(session)
    except cap.CapInvalid as exc:
        session.rollback()
        return error(400, str(exc))
    response = jsonify(result)
    response.status_code = 201 if imported.created else 200
    return response


@bp.get("/cap/<int:emergency_id>.xml")
def cap_export(emergency_id: int) -> Response:
    """An emergency as a CAP 1.2 alert, for an upstream source's key or a signed-in user who may see it."""
    session = db()
    user = current_user()
    if _source() is None and not can(user, "emergencies.view"):
        return error(401, SOURCE_KEY_MISSING)
    emergency = session.get(Emergency, emergency_id)
    if emergency is None or (user is not None and not visible_to(session, emergency, user)):
        return error(404, f"Không có lệnh khẩn cấp số {emergency_id}.")
    data = cap.export_alert(session, emergency, settings().public_url, settings().tz)
    _commit(session)  # the source's last use
    return Response(data, mimetype="application/cap+xml",
                    headers={"Content-Disposition": f'inline; filename="khan-cap-{emergency_id}.xml"'})


UPSTREAM_MAX_BYTES = MAX_RECORDING_BYTES * 4 // 3 + 256 * 1024  # base64 audio and the fields around it


def _upstream_request() -> tuple[Any, FileStorage | None]:
    """The request's bulletin fields and its audio: JSON (audio as base64) or multipart (a `bulletin` JSON
    part and an `audio` file). ValueError (Vietnamese) when the body cannot be read at all."""
    if request.mimetype == "application/json":
        payload = request.get_json(silent=True)
        if payload is None:
            raise ValueError("Nội dung không phải JSON hợp lệ. Kiểm tra dấu ngoặc, dấu phẩy và mã hóa UTF-8.")
        return payload, None
    if request.mimetype == "multipart/form-data":
        try:
            payload = json.loads(request.form.get("bulletin", ""))
        except ValueError:
            raise ValueError("Phần «bulletin» của biểu mẫu phải là JSON hợp lệ (các trường của bản tin).") from None
        upload = request.files.get("audio")
        if upload is not None and isinstance(payload, dict) and "audio" in payload:
            raise ValueError("Gửi âm thanh một lần thôi: hoặc tệp «audio», hoặc trường audio.content_base64.")
        return payload, upload
    raise ValueError("Nội dung phải là JSON (Content-Type: application/json) hoặc multipart/form-data.")


def _base64_audio(payload: dict[str, Any]) -> FileStorage | None:
    audio = payload.get("audio")
    if audio is None:
        return None
    try:
        data = base64.b64decode(audio["content_base64"], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("audio.content_base64 không phải chuỗi base64 hợp lệ. Mã hóa lại tệp âm thanh.") from None
    return FileStorage(stream=io.BytesIO(data), filename=audio["filename"])


def _invalid(errors: dict[str, str]) -> Response:
    return error(400, "Bản tin không hợp lệ, không lưu gì: " + " ".join(errors.values()), errors=errors)


@bp.post("/upstream/bulletins")
def upstream_bulletin() -> Response:
    """A bulletin from an upstream source system, stored approved by that source (docs/upstream-api.md)."""
    session, when = db(), now()
    source = _source()
    if source is None:
        return error(401, SOURCE_KEY_MISSING)
    if (request.content_length or 0) > UPSTREAM_MAX_BYTES:
        return error(413, f"Nội dung gửi lên quá lớn; âm thanh tối đa {MAX_RECORDING_BYTES // (1024 * 1024)} MB.")
    try:
        payload, upload = _upstream_request()
    except ValueError as exc:
        return _invalid({"body": str(exc)})
    if shape := upstream.shape_errors(payload):
        return _invalid(shape)
    media = settings().media_dir
    recording, fresh = None, False
    try:
        found = read_recording(upload or _base64_audio(payload))
    except ValueError as exc:
        return _invalid({"audio": str(exc)})
    if found is not None:
        recording, fresh = save_recording(found[0], found[1], media)
    try:
        received = upstream.receive(session, payload, source, when, recording)
        bulletin = received.bulletin
        result = {"id": bulletin.id, "code": bulletin.code, "external_id": bulletin.external_id,
                  "status": bulletin.status, "created": received.created,
                  "url": f"{settings().public_url}/ban-tin/{bulletin.id}"}
        _commit(session)
    except BulletinInvalid as exc:
        session.rollback()
        if fresh and recording:
            discard_recording(recording, media)
        return _invalid(exc.errors)
    response = jsonify(result)
    response.status_code = 201 if received.created else 200
    return response


@bp.route("/<path:_rest>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
def not_found(_rest: str) -> Response:
    return error(404, HTTP_MESSAGES[404])
