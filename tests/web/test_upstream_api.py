"""POST /api/v1/upstream/bulletins: an upstream source system sends bulletins down with its own API key.

Every good request is checked against docs/upstream-bulletin.schema.json (jsonschema), and so is
every badly shaped one (the schema and the server must agree); bad requests get a Vietnamese JSON
error, status 400, and store nothing — neither a bulletin nor an audio file.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker
from web_pages import World, wav_bytes

from scheduler import commune_choice
from scheduler.accounts import issue_station_token
from scheduler.catalogue import LANGUAGES, TOPICS
from scheduler.db.models import AuditLog, Bulletin, Commune, Station
from scheduler.db.session import transaction
from scheduler.sources import add_source
from tests.fake_clock import FakeClock

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "upstream-bulletin.schema.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
URL = "/api/v1/upstream/bulletins"
GOOD: dict[str, Any] = {
    "external_id": "STTTT-2026-0412",
    "title": "Hướng dẫn nộp hồ sơ dịch vụ công trực tuyến toàn trình",
    "text": "Từ ngày 01/12/2026, người dân nộp hồ sơ cấp đổi giấy phép lái xe qua Cổng dịch vụ công quốc gia.",
    "topic": "dvc_truc_tuyen",
    "priority": "thuong",
    "valid_from": "2026-11-23",
    "valid_to": "2026-12-06",
    "plays_per_week": 3,
    "targets": ["*"],
}


@pytest.fixture
def keys(world: World, sessions: sessionmaker[Session], clock: FakeClock) -> dict[str, str]:
    with transaction(sessions) as s:
        return {name: add_source(s, name, clock())[1] for name in ("STTTT-GL", "VOV")}


def post(client: FlaskClient, key: str | None, payload: Any) -> Any:
    headers = {"X-API-Key": key} if key else {}
    return client.post(URL, json=payload, headers=headers)


def stored(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Bulletin)) or 0)


def uploads(media_dir: Path) -> list[str]:
    return sorted(p.name for p in (media_dir / "uploads").glob("*")) if (media_dir / "uploads").exists() else []


def test_the_good_example_follows_the_schema_and_the_schema_lists_the_catalogue() -> None:
    VALIDATOR.validate(GOOD)
    assert SCHEMA["properties"]["topic"]["enum"] == list(TOPICS)
    assert SCHEMA["properties"]["language"]["enum"] == list(LANGUAGES)


def test_a_bulletin_enters_approved_by_its_source_and_audited(
    client: FlaskClient, keys: dict[str, str], sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    answer = post(client, keys["STTTT-GL"], GOOD)
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["created"] is True and body["status"] == "da_duyet" and body["external_id"] == GOOD["external_id"]
    with sessions() as s:
        bulletin = s.scalars(select(Bulletin)).one()
        assert bulletin.code == body["code"]
        assert (bulletin.status, bulletin.approved_at, bulletin.approver_id, bulletin.author_id) == (
            "da_duyet", clock(), None, None)
        assert bulletin.source is not None and bulletin.source.name == "STTTT-GL"
        assert bulletin.targets == ["*"] and bulletin.plays_per_week == 3
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "bulletin.upstream")).one()
        assert audit.username == "nguồn STTTT-GL" and audit.entity_id == str(bulletin.id)
        assert audit.after is not None and audit.after["external_id"] == "STTTT-2026-0412"


def test_sending_again_is_idempotent_per_source(
    client: FlaskClient, keys: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    first = post(client, keys["STTTT-GL"], GOOD).get_json()
    again = post(client, keys["STTTT-GL"], GOOD)
    assert again.status_code == 200
    assert again.get_json() == {**first, "created": False}
    assert stored(sessions) == 1
    other_source = post(client, keys["VOV"], GOOD)  # the same id in another system is another bulletin
    assert other_source.status_code == 201 and other_source.get_json()["id"] != first["id"]
    assert stored(sessions) == 2


def test_the_same_external_id_with_other_content_is_refused_and_changes_nothing(
    client: FlaskClient, keys: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    post(client, keys["STTTT-GL"], GOOD)
    answer = post(client, keys["STTTT-GL"], {**GOOD, "title": "Tiêu đề khác"})
    assert answer.status_code == 400
    assert "đã dùng cho bản tin" in answer.get_json()["error"]
    with sessions() as s:
        assert s.scalars(select(Bulletin.title)).all() == [GOOD["title"]]


@pytest.mark.parametrize(
    ("headers", "why"),
    [({}, "no key"), ({"X-API-Key": "lsk_sai-khoa"}, "wrong key"), ({"Authorization": "Bearer lsk_sai"}, "wrong bearer")],
)
def test_without_a_valid_source_key_nothing_is_stored(
    client: FlaskClient, keys: dict[str, str], sessions: sessionmaker[Session], headers: dict[str, str], why: str
) -> None:
    answer = client.post(URL, json=GOOD, headers=headers)
    assert answer.status_code == 401, why
    assert "khóa API của nguồn" in answer.get_json()["error"]
    assert stored(sessions) == 0


def test_a_station_token_is_not_a_source_key(
    client: FlaskClient, keys: dict[str, str], sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    with transaction(sessions) as s:
        token = issue_station_token(s.scalars(select(Station)).first(), clock())  # type: ignore[arg-type]
    assert client.post(URL, json=GOOD, headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.post(URL, json=GOOD, headers={"Authorization": f"Bearer {keys['VOV']}"}).status_code == 201


# (payload change, field named in `errors`, words of the message, does the schema refuse it too)
BAD: list[tuple[dict[str, Any], str, str, bool]] = [
    ({"title": ""}, "title", "Chưa có tiêu đề", True),
    ({"valid_from": "23-11-2026"}, "valid_from", "Ngày bắt đầu «23-11-2026» không hợp lệ", True),
    ({"valid_to": "2026-11-01"}, "valid_to", "trước ngày bắt đầu", False),
    ({"plays_per_week": 101}, "plays_per_week", "phải từ 0 đến 100", True),
    ({"targets": ["Xã Không Có"]}, "targets", "«Xã Không Có» không phải mã đài hay tên xã", False),
    ({"targets": "*"}, "targets", "targets phải là danh sách chuỗi", True),
    ({"topic": "giai_tri"}, "topic", "Chủ đề «giai_tri» không có trong danh mục", True),
    ({"priority": "khan_cap"}, "priority", "gửi cảnh báo CAP 1.2", True),
    ({"text": ""}, "text", "Chưa có nội dung", True),
    ({"external_id": ""}, "external_id", "Thiếu hoặc sai external_id", True),
    ({"nguoi_gui": "x"}, "body", "Trường «nguoi_gui» không có trong lược đồ", True),
    ({"audio": {"filename": "a.mp3"}}, "audio", "audio phải có đúng hai trường", True),
    ({"audio": {"filename": "a.mp3", "content_base64": "***"}}, "audio", "không phải chuỗi base64", False),
    ({"audio": {"filename": "a.mp3", "content_base64": base64.b64encode(b"not audio at all").decode()}},
     "audio", "nội dung không phải âm thanh", False),
    ({"audio": {"filename": "a.txt", "content_base64": base64.b64encode(wav_bytes()).decode()}},
     "audio", "không phải tệp âm thanh được nhận", True),
]


@pytest.mark.parametrize(("change", "field", "words", "schema_refuses"), BAD, ids=[b[1] + "-" + b[2][:20] for b in BAD])
def test_bad_payloads_get_a_vietnamese_400_and_store_nothing(
    client: FlaskClient, keys: dict[str, str], sessions: sessionmaker[Session], media_dir: Path,
    change: dict[str, Any], field: str, words: str, schema_refuses: bool,
) -> None:
    payload = {k: v for k, v in {**GOOD, **change}.items() if not (k == "text" and v == "")}  # "" = left out
    assert (not VALIDATOR.is_valid(payload)) == schema_refuses, "the schema and the server disagree"
    answer = post(client, keys["STTTT-GL"], payload)
    assert answer.status_code == 400
    body = answer.get_json()
    assert field in body["errors"] and words in body["errors"][field], body
    assert body["error"].startswith("Bản tin không hợp lệ, không lưu gì")
    assert stored(sessions) == 0 and uploads(media_dir) == []


@pytest.mark.parametrize("body", ["{không phải json", "[1, 2]"])
def test_a_body_that_is_not_a_json_object_is_refused(
    client: FlaskClient, keys: dict[str, str], sessions: sessionmaker[Session], body: str
) -> None:
    answer = client.post(URL, data=body, content_type="application/json", headers={"X-API-Key": keys["VOV"]})
    assert answer.status_code == 400 and "JSON" in answer.get_json()["error"]
    assert stored(sessions) == 0


def test_audio_as_base64_is_stored_as_the_bulletins_recording(
    client: FlaskClient, keys: dict[str, str], sessions: sessionmaker[Session], media_dir: Path
) -> None:
    payload = {**GOOD, "audio": {"filename": "ban-tin.wav", "content_base64": base64.b64encode(wav_bytes()).decode()}}
    payload.pop("text")
    VALIDATOR.validate(payload)
    assert post(client, keys["VOV"], payload).status_code == 201
    with sessions() as s:
        bulletin = s.scalars(select(Bulletin)).one()
        assert bulletin.text == "" and bulletin.recording_file is not None
        assert (media_dir / bulletin.recording_file).read_bytes() == wav_bytes()
    assert post(client, keys["VOV"], payload).status_code == 200  # the same recording again: a retry


def test_audio_as_a_multipart_upload(client: FlaskClient, keys: dict[str, str], sessions: sessionmaker[Session]) -> None:
    fields = {k: v for k, v in GOOD.items() if k != "text"}
    answer = client.post(URL, headers={"X-API-Key": keys["VOV"]}, content_type="multipart/form-data",
                         data={"bulletin": json.dumps(fields), "audio": (io.BytesIO(wav_bytes()), "ban-tin.wav")})
    assert answer.status_code == 201, answer.get_json()
    with sessions() as s:
        assert s.scalars(select(Bulletin.recording_file)).one() is not None


def test_a_normal_bulletin_from_upstream_waits_for_a_choosing_commune(
    client: FlaskClient, keys: dict[str, str], sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    with transaction(sessions) as s:
        s.execute(update(Commune).where(Commune.name == "Xã Ia Dêr").values(upstream_mode="chon"))
    post(client, keys["STTTT-GL"], GOOD)
    post(client, keys["STTTT-GL"], {**GOOD, "external_id": "STTTT-2026-0413", "priority": "uu_tien"})
    with sessions() as s:
        waiting = commune_choice.choices(s, clock())
        assert [(w.bulletin.external_id, w.commune.name, w.choice) for w in waiting] == [
            ("STTTT-2026-0412", "Xã Ia Dêr", commune_choice.Choice.PENDING)]  # ưu tiên is never held
