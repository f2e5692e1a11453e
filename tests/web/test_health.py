"""/healthz names each failing part (HTTP 503); /metrics exposes delivery and station figures."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.models import AudioAsset, Bulletin, Commune, PlayLog, Programme, Province, Station
from scheduler.db.session import transaction
from scheduler.service import heartbeat
from scheduler.settings import Settings
from web.app import create_app

Clock = Callable[[], datetime]


def make_app(settings: Settings, clock: Clock, **changes: Any) -> Flask:
    return create_app(replace(settings, **changes), clock=clock, testing=True)


def beat(sessions: sessionmaker[Session], at: datetime, holder: str = "may-chu-1:4242") -> None:
    with transaction(sessions) as s:
        heartbeat.beat(s, holder, 4242, at - timedelta(hours=2), at)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def refusing_broker() -> Iterator[int]:
    """A broker stand-in on loopback that answers every CONNECT with CONNACK 5 (not authorised)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(5)

    def serve() -> None:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn:
            conn.recv(1024)
            conn.sendall(b"\x20\x02\x00\x05")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    server.close()
    thread.join(timeout=5)


@pytest.mark.mqtt
def test_healthz_is_ok_when_database_media_broker_and_scheduler_are_up(
    settings: Settings, sessions: sessionmaker[Session], clock: Clock
) -> None:
    beat(sessions, clock() - timedelta(seconds=20))
    app = make_app(settings, clock, mqtt_url="mqtt://127.0.0.1:1883")

    response = app.test_client().get("/healthz")

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["failed"] == []
    assert set(body["checks"]) == {"database", "media", "broker", "scheduler"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["scheduler"]["holder"] == "may-chu-1:4242"
    assert body["message"] == "Mọi bộ phận hoạt động bình thường."


def test_healthz_leaves_out_the_broker_when_mqtt_is_not_configured(
    settings: Settings, sessions: sessionmaker[Session], clock: Clock
) -> None:
    beat(sessions, clock())
    response = make_app(settings, clock, mqtt_url=None).test_client().get("/healthz")
    assert response.status_code == 200
    assert set(response.get_json()["checks"]) == {"database", "media", "scheduler"}


def test_silent_scheduler_fails_health_with_its_name_and_how_long(
    settings: Settings, sessions: sessionmaker[Session], clock: Clock
) -> None:
    beat(sessions, clock() - timedelta(minutes=7))

    response = make_app(settings, clock).test_client().get("/healthz")

    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "fail" and body["failed"] == ["scheduler"]
    assert "im lặng đã 7 phút" in body["checks"]["scheduler"]["message"]
    assert body["checks"]["scheduler"]["age_seconds"] == 420.0


def test_no_scheduler_ever_started_fails_health(settings: Settings, clock: Clock) -> None:
    response = make_app(settings, clock).test_client().get("/healthz")
    assert response.status_code == 503
    check = response.get_json()["checks"]["scheduler"]
    assert not check["ok"] and "loaxa scheduler" in check["message"]


def test_unreachable_broker_is_named_without_its_password(
    settings: Settings, sessions: sessionmaker[Session], clock: Clock
) -> None:
    beat(sessions, clock())
    port = closed_port()
    app = make_app(settings, clock, mqtt_url=f"mqtt://loaxa:bi-mat-lam@127.0.0.1:{port}")

    response = app.test_client().get("/healthz")

    assert response.status_code == 503
    body = response.get_json()
    assert body["failed"] == ["broker"]
    assert f"127.0.0.1:{port}" in body["checks"]["broker"]["message"]
    assert "bi-mat-lam" not in response.get_data(as_text=True)


def test_broker_refusing_the_login_is_reported_with_the_reason(
    settings: Settings, sessions: sessionmaker[Session], clock: Clock, refusing_broker: int
) -> None:
    beat(sessions, clock())
    app = make_app(settings, clock, mqtt_url=f"mqtt://loaxa:sai@127.0.0.1:{refusing_broker}")

    body = app.test_client().get("/healthz").get_json()

    assert body["failed"] == ["broker"]
    assert body["checks"]["broker"]["connack"] == 5
    assert "không được phép kết nối" in body["checks"]["broker"]["message"]


def test_missing_media_directory_fails_health(
    settings: Settings, sessions: sessionmaker[Session], clock: Clock, tmp_path: Path
) -> None:
    beat(sessions, clock())
    response = make_app(settings, clock, media_dir=tmp_path / "khong-co").test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failed"] == ["media"] and "LOAXA_MEDIA_DIR" in body["checks"]["media"]["message"]
    assert not list(tmp_path.glob("**/.healthz-*"))


def test_unreachable_database_fails_health_and_skips_the_scheduler_check(
    settings: Settings, clock: Clock
) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/loaxa"
    response = make_app(settings, clock, database_url=url).test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failed"] == ["database", "scheduler"]
    assert body["checks"]["database"]["message"].startswith("Không kết nối được cơ sở dữ liệu")


def metrics(app: Flask) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    response = app.test_client().get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def test_metrics_count_stations_deliveries_renders_and_upload_lag(
    settings: Settings, sessions: sessionmaker[Session], clock: Clock
) -> None:
    now = clock()
    with transaction(sessions) as s:
        province = Province(name="Gia Lai", policy={})
        commune = Commune(province=province, name="Xã Ia Grai", policy={})
        stations = {
            "IGR-01": Station(code="IGR-01", name="Trung tâm", commune=commune, status={},
                              last_manifest_at=now - timedelta(minutes=2), last_log_at=now - timedelta(minutes=10)),
            "IGR-02": Station(code="IGR-02", name="Làng Tơ Ver", commune=commune, status={},
                              last_status_at=now - timedelta(hours=3), last_log_at=now - timedelta(hours=5)),
            "IGR-03": Station(code="IGR-03", name="Chưa kết nối", commune=commune, status={}),
            "IGR-04": Station(code="IGR-04", name="Đã ngừng", commune=commune, status={}, active=False),
        }  # fmt: skip
        s.add_all(stations.values())
        s.flush()
        for code, week, version, acked in (("IGR-01", "2026-W48", 2, 2), ("IGR-02", "2026-W48", 3, 1),
                                           ("IGR-03", "2026-W49", 1, 0), ("IGR-02", "2026-W47", 4, 1),
                                           ("IGR-04", "2026-W48", 1, 0)):  # fmt: skip
            s.add(Programme(station=stations[code], week=week, version=version, acked_version=acked, built_at=now))
        asset = AudioAsset(sha256="a" * 64, file_name="audio/a.mp3", duration_ms=1000, engine="espeak",
                           warnings=[], created_at=now)  # fmt: skip
        day = now.date()
        for code, status, audio, error in (("B1", "da_duyet", None, None), ("B2", "da_duyet", None, None),
                                           ("B3", "da_duyet", None, "espeak-ng lỗi"), ("B4", "da_duyet", asset, None),
                                           ("B5", "nhap", None, None)):  # fmt: skip
            s.add(Bulletin(code=code, title=code, topic="tthc", valid_from=day, valid_to=day, status=status,
                           audio=audio, render_error=error, created_at=now, updated_at=now))  # fmt: skip
        for n, delay in enumerate((30, 90, 600)):
            s.add(PlayLog(play_id=f"p{n}", station_id=stations["IGR-01"].id, station_code="IGR-01",
                          actual_start=now - timedelta(seconds=delay + 60), received_at=now - timedelta(seconds=60),
                          result="played"))  # fmt: skip
        s.add(PlayLog(play_id="old", station_id=stations["IGR-01"].id, station_code="IGR-01",
                      actual_start=now - timedelta(days=2), received_at=now - timedelta(hours=2), result="played"))
    beat(sessions, now - timedelta(seconds=45))

    figures = metrics(make_app(settings, clock))

    assert figures["loaxa_stations"] == {(("state", "online"),): 1.0, (("state", "offline"),): 2.0}
    assert figures["loaxa_stations_never_seen"] == {(): 1.0}
    assert figures["loaxa_programmes_awaiting_delivery"] == {(): 2.0}  # W47 is past, IGR-04 inactive
    assert figures["loaxa_render_queue"] == {(): 2.0}
    assert figures["loaxa_render_failed"] == {(): 1.0}
    assert figures["loaxa_playlog_upload_age_seconds"] == {
        (("station", "IGR-01"),): 600.0, (("station", "IGR-02"),): 5 * 3600.0,
    }  # fmt: skip
    assert figures["loaxa_playlog_upload_age_max_seconds"] == {(): 5 * 3600.0}
    assert figures["loaxa_playlog_delay_seconds"] == {(("stat", "max"),): 600.0, (("stat", "mean"),): 240.0}
    assert figures["loaxa_playlog_recent_rows"] == {(): 3.0}
    assert figures["loaxa_scheduler_heartbeat_age_seconds"] == {(): 45.0}


@pytest.mark.parametrize(("age_seconds", "status"), [(74, 200), (76, 503)])
def test_scheduler_counts_as_alive_for_three_polls_and_half_a_minute(
    settings: Settings, sessions: sessionmaker[Session], clock: Clock, monkeypatch: pytest.MonkeyPatch,
    age_seconds: int, status: int,
) -> None:
    monkeypatch.delenv("LOAXA_LEADER_POLL_SECONDS", raising=False)  # the default poll: 15 s
    beat(sessions, clock() - timedelta(seconds=age_seconds))
    assert make_app(settings, clock).test_client().get("/healthz").status_code == status


def test_metrics_export_the_job_failures_the_scheduler_records(
    settings: Settings, sessions: sessionmaker[Session], clock: Clock
) -> None:
    beat(sessions, clock())
    with transaction(sessions) as s:
        heartbeat.save_state(s, "jobs", {"render-audio": {"failures": 3, "last_error": "espeak-ng lỗi"},
                                         "build-next-week": {"failures": 0}})  # fmt: skip
    figures = metrics(make_app(settings, clock))
    assert figures["loaxa_job_failures_total"] == {(("job", "build-next-week"),): 0.0, (("job", "render-audio"),): 3.0}
