"""Remote care from the station page: operators of the commune send restart, amplifier, volume, resync;
only admins update the agent; a bad value gets a Vietnamese message; the box without MQTT gets the command
on its status answer and its result shows on the page."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from web_pages import World

from scheduler.db.models import Station, StationCommand, User
from scheduler.db.session import transaction
from scheduler.delivery import agent_packages
from scheduler.settings import Settings
from scheduler.stations import rotate_token
from tests.fake_clock import FakeClock


def commands(sessions: sessionmaker[Session]) -> list[StationCommand]:
    with sessions() as s:
        return list(s.scalars(select(StationCommand).order_by(StationCommand.id)))


def test_an_operator_sends_care_commands_and_sees_the_boxs_answer(
    app: Flask, as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], world: World,
    clock: FakeClock,
) -> None:
    operator = as_user("vanhanh")
    page = operator.get("/dai/IADER-01").get_data(as_text=True)
    assert "Chăm sóc từ xa" in page and "Khởi động lại phần mềm" in page and "Cập nhật" not in page
    assert operator.post("/dai/IADER-01/cham-soc", data={"kind": "restart"}).status_code == 303
    assert operator.post("/dai/IADER-01/cham-soc", data={"kind": "volume", "volume": "60"}).status_code == 303
    bad = operator.post("/dai/IADER-01/cham-soc", data={"kind": "volume", "volume": "to"}, follow_redirects=True)
    assert "Âm lượng «to» không hợp lệ; dùng số nguyên từ 0 đến 100." in bad.get_data(as_text=True)
    bad = operator.post("/dai/IADER-01/cham-soc", data={"kind": "amplifier", "state": "max"}, follow_redirects=True)
    assert "Trạng thái ampli «max» không hợp lệ" in bad.get_data(as_text=True)
    assert operator.post("/dai/IADER-01/cham-soc", data={"kind": "update"}).status_code == 403
    assert operator.post("/dai/CHUPUH-01/cham-soc", data={"kind": "restart"}).status_code == 404  # not their commune
    assert as_user("xem").post("/dai/IADER-01/cham-soc", data={"kind": "restart"}).status_code == 403
    sent = commands(sessions)
    assert [(c.kind, c.via, c.created_by) for c in sent] == [("restart", "", "vanhanh"), ("volume", "", "vanhanh")]

    # The box has no MQTT: its next status answer hands both over, and its status reports the results.
    with transaction(sessions) as s:
        admin = s.scalars(select(User).where(User.username == "quantri")).one()
        token = rotate_token(s, s.get(Station, world.stations["IADER-01"]), admin, clock())  # type: ignore[arg-type]
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    answer = api.post("/api/v1/status", json={"agent_version": "0.1.0"}, headers=headers).get_json()
    assert [(c["kind"], c["volume"]) for c in answer["commands"]] == [("restart", None), ("volume", 60)]
    at = (clock() + timedelta(seconds=5)).isoformat()
    care = [{"id": sent[1].command_id, "kind": "volume", "result": "ok", "at": at, "message": "Đã đặt âm lượng 60."},
            {"id": sent[0].command_id, "kind": "restart", "result": "running", "at": at, "message": "Đang khởi động lại."},
            {"id": "lạ", "kind": "x", "result": "bừa", "at": "hôm qua"}]
    answer = api.post("/api/v1/status", json={"agent_version": "0.1.0", "care": care}, headers=headers).get_json()
    assert [c["kind"] for c in answer["commands"]] == []  # answered: no longer handed over
    assert [(c.result, c.via) for c in commands(sessions)] == [("running", "http"), ("ok", "http")]
    page = operator.get("/dai/IADER-01").get_data(as_text=True)
    assert "Đã đặt âm lượng 60." in page and "Đang làm" in page

    # Expired commands are not handed over to a box that comes back hours later.
    operator.post("/dai/IADER-01/cham-soc", data={"kind": "resync"})
    clock.advance(hours=1)
    assert api.post("/api/v1/status", json={}, headers=headers).get_json()["commands"] == []


def test_update_without_a_published_package_is_refused_in_vietnamese(
    as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], world: World
) -> None:
    admin = as_user("quantri")
    page = admin.get("/dai/IADER-01").get_data(as_text=True)
    assert "Chưa có gói phần mềm đầu thu nào được phát hành" in page
    answer = admin.post("/dai/IADER-01/cham-soc", data={"kind": "update"}, follow_redirects=True)
    assert "Chưa có gói phần mềm đầu thu nào được phát hành. Dùng: loaxa agent-package publish TỆP.whl" in \
        answer.get_data(as_text=True)
    assert commands(sessions) == []


def test_an_admin_publishes_a_package_and_sends_the_update_from_the_page(
    app: Flask, as_user: Callable[[str], FlaskClient], sessions: sessionmaker[Session], world: World,
    clock: FakeClock, settings: Settings, tmp_path: Path,
) -> None:
    wheel = tmp_path / "loaxa-0.2.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("loaxa-0.2.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: loaxa\nVersion: 0.2.0\n")
        z.writestr("scheduler/agent/__init__.py", "")
    not_ours = tmp_path / "other-1.0-py3-none-any.whl"
    with zipfile.ZipFile(not_ours, "w") as z:
        z.writestr("other-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: other\nVersion: 1.0\n")
    with transaction(sessions) as s:
        with pytest.raises(ValueError, match="không phải phần mềm loaxa"):
            agent_packages.publish(s, settings.media_dir, not_ours, "quantri", clock())
        package = agent_packages.publish(s, settings.media_dir, wheel, "quantri", clock())
        assert agent_packages.publish(s, settings.media_dir, wheel, "quantri", clock()).id == package.id
        sha = package.sha256
    admin = as_user("quantri")
    page = admin.get("/dai/IADER-01").get_data(as_text=True)
    assert "0.2.0 · phát hành" in page
    assert admin.post("/dai/IADER-01/cham-soc", data={"kind": "update", "package": sha}).status_code == 303
    [sent] = commands(sessions)
    assert (sent.kind, sent.payload["version"], sent.payload["sha256"]) == ("update", "0.2.0", sha)
    assert sent.payload["package_url"] == f"{settings.public_url}/api/v1/agent-package/{sha}.whl"

    # The box downloads it with its token; nobody else does.
    with transaction(sessions) as s:
        admin_user = s.scalars(select(User).where(User.username == "quantri")).one()
        token = rotate_token(s, s.get(Station, world.stations["IADER-01"]), admin_user, clock())  # type: ignore[arg-type]
    api = app.test_client()
    got = api.get(f"/api/v1/agent-package/{sha}.whl", headers={"Authorization": f"Bearer {token}"})
    assert got.status_code == 200 and got.data == wheel.read_bytes()
    assert api.get(f"/api/v1/agent-package/{sha}.whl").status_code == 401
    missing = api.get(f"/api/v1/agent-package/{'0' * 64}.whl", headers={"Authorization": f"Bearer {token}"})
    assert missing.status_code == 404 and "Không có gói phần mềm đầu thu" in missing.get_json()["error"]
