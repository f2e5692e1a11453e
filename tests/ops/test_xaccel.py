"""With LOAXA_X_ACCEL=1 the audio route checks the token, then lets nginx send the file."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from scheduler.accounts import issue_station_token
from scheduler.db.models import AudioAsset, Commune, Programme, ProgrammeItem, Province, Station
from scheduler.db.session import transaction
from scheduler.settings import Settings
from web.app import create_app

AUDIO = b"ID3" + bytes(range(256)) * 8


@pytest.fixture
def station_audio(sessions: sessionmaker[Session], media_dir: Path, clock: Callable[[], datetime]) -> tuple[str, str]:
    """A station whose programme plays one audio file; returns (token, sha256)."""
    now = clock()
    sha = hashlib.sha256(AUDIO).hexdigest()
    (media_dir / "audio").mkdir()
    (media_dir / "audio" / f"{sha}.mp3").write_bytes(AUDIO)
    with transaction(sessions) as s:
        commune = Commune(province=Province(name="Gia Lai", policy={}), name="Xã Ia Grai", policy={})
        station = Station(code="IGR-01", name="Cụm loa trung tâm", commune=commune, status={})
        token = issue_station_token(station, now)
        s.add(AudioAsset(sha256=sha, file_name=f"audio/{sha}.mp3", duration_ms=2000, engine="espeak",
                         warnings=[], created_at=now))  # fmt: skip
        programme = Programme(station=station, week="2026-W48", version=1, built_at=now)
        programme.items.append(ProgrammeItem(start=now, end=now + timedelta(seconds=2), kind="bulletin",
                                             audio_sha256=sha, duration_ms=2000))  # fmt: skip
        s.add(programme)
    return token, sha


@pytest.fixture
def api(settings: Settings, clock: Callable[[], datetime]) -> FlaskClient:
    return create_app(settings, clock=clock, testing=True).test_client()


def test_with_x_accel_the_route_answers_with_the_internal_location_and_no_body(
    api: FlaskClient, station_audio: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token, sha = station_audio
    monkeypatch.setenv("LOAXA_X_ACCEL", "1")

    response = api.get(f"/api/v1/audio/{sha}.mp3", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.headers["X-Accel-Redirect"] == f"/_loaxa_media/audio/{sha}.mp3"
    assert response.data == b""
    assert response.mimetype == "audio/mpeg"
    assert "immutable" in response.headers["Cache-Control"]


def test_with_x_accel_a_wrong_token_still_gets_401_and_no_redirect(
    api: FlaskClient, station_audio: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, sha = station_audio
    monkeypatch.setenv("LOAXA_X_ACCEL", "1")
    response = api.get(f"/api/v1/audio/{sha}.mp3", headers={"Authorization": "Bearer sai-ma"})
    assert response.status_code == 401
    assert "X-Accel-Redirect" not in response.headers


def test_with_x_accel_a_cached_copy_is_confirmed_without_nginx(
    api: FlaskClient, station_audio: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token, sha = station_audio
    monkeypatch.setenv("LOAXA_X_ACCEL", "1")
    response = api.get(f"/api/v1/audio/{sha}.mp3",
                       headers={"Authorization": f"Bearer {token}", "If-None-Match": f'"{sha}"'})  # fmt: skip
    assert response.status_code == 304
    assert "X-Accel-Redirect" not in response.headers


def test_without_x_accel_flask_sends_the_bytes_itself(
    api: FlaskClient, station_audio: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token, sha = station_audio
    monkeypatch.delenv("LOAXA_X_ACCEL", raising=False)
    response = api.get(f"/api/v1/audio/{sha}.mp3", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.data == AUDIO
    assert "X-Accel-Redirect" not in response.headers
