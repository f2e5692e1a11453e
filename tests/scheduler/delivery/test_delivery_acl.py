"""Mosquitto password/ACL files: real broker, each station hears only its own topics."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from delivery_world import Broker, add_station, subscriber, wait_for
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.session import transaction
from scheduler.delivery.acl import check_mosquitto_hash, mosquitto_hash, station_mqtt_password, write_mosquitto_files
from scheduler.delivery.commands import send_command
from scheduler.delivery.mqtt_topics import station_topics
from scheduler.delivery.publisher import BrokerUnavailable, MqttPublisher
from scheduler.settings import Settings
from scheduler.wire import Command
from tests.fake_clock import FakeClock

pytestmark = pytest.mark.mqtt


def test_our_hash_reads_a_mosquitto_passwd_file(tmp_path: Path) -> None:
    exe = shutil.which("mosquitto_passwd")
    if exe is None:
        pytest.skip("mosquitto_passwd is not installed")
    target = tmp_path / "passwd"
    subprocess.run([exe, "-b", "-c", str(target), "dai-01", "mật-khẩu-đài"], check=True, capture_output=True)
    stored = target.read_text().strip().split(":", 1)[1]
    assert stored.startswith("$7$")
    assert check_mosquitto_hash(stored, "mật-khẩu-đài")
    assert not check_mosquitto_hash(stored, "sai")


def test_hash_format_is_pbkdf2_sha512_with_101_iterations() -> None:
    stored = mosquitto_hash("abc", salt=b"\x00" * 12)
    assert stored.startswith("$7$101$AAAAAAAAAAAAAAAA$")
    assert check_mosquitto_hash(stored, "abc")


def test_each_station_reads_only_its_own_topics_on_a_real_broker(
        sessions: sessionmaker[Session], settings: Settings, clock: FakeClock, tmp_path: Path) -> None:
    with transaction(sessions) as s:
        a, _ = add_station(s, "GL-A", clock(), commune="Xã Ia Dêr")
        b, _ = add_station(s, "GL-B", clock(), commune="Xã Chư Pưh")
        untokened, _ = add_station(s, "GL-NO-TOKEN", clock())
        untokened.token_hash = None
        files = write_mosquitto_files(s, settings, tmp_path / "mqtt", "loaxa-server", "máy-chủ-bí-mật")
        password_a = station_mqtt_password(settings, a)
        topics_a, topics_b = station_topics(a), station_topics(b)
    assert files.stations == 2
    assert "GL-NO-TOKEN" not in files.password_file.read_text()
    conf = ["allow_anonymous false", f"password_file {files.password_file}", f"acl_file {files.acl_file}"]
    with Broker(tmp_path, extra_conf=conf) as broker:
        server_url = f"mqtt://loaxa-server:m%C3%A1y-ch%E1%BB%A7-b%C3%AD-m%E1%BA%ADt@127.0.0.1:{broker.port}"
        with subscriber(broker.url, [topics_a.cmd, topics_b.cmd], "GL-A", password_a) as heard, \
                MqttPublisher(server_url) as publisher:
            assert send_command(b, Command(kind="resync", id="for-b"), publisher=publisher)
            assert send_command(a, Command(kind="resync", id="for-a"), publisher=publisher)
            wait_for(lambda: heard)
        assert [topic for topic, _, _ in heard] == [topics_a.cmd]
        with pytest.raises(BrokerUnavailable):
            MqttPublisher(f"mqtt://GL-A:sai-mat-khau@127.0.0.1:{broker.port}").open()
