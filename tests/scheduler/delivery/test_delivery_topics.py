"""Topic names: Vietnamese names slugified, one subtree per station."""

from __future__ import annotations

import pytest

from scheduler.db.models import Commune, Province, Station
from scheduler.delivery.mqtt_topics import code_segment, slugify, station_code_from_status_topic, station_topics


@pytest.mark.parametrize(("name", "slug"), [
    ("Gia Lai", "gia-lai"),
    ("Xã Ia Dêr", "xa-ia-der"),
    ("Đắk Lắk", "dak-lak"),
    ("Phường Đông Hà (cũ)", "phuong-dong-ha-cu"),
    ("Sóc Trăng", "soc-trang"),
    ("Quảng Trị", "quang-tri"),
    ("  ", "x"),
])
def test_vietnamese_names_become_ascii_topic_levels(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_station_topics_follow_province_commune_station() -> None:
    province = Province(name="Quảng Trị")
    station = Station(code="QT-ĐH/01", commune=Commune(name="Phường Đông Hà", province=province))
    topics = station_topics(station)
    assert topics.programme == "loaxa/quang-tri/phuong-dong-ha/QT-DH-01/programme"
    assert topics.cmd.endswith("/cmd") and topics.status.endswith("/status")
    assert "+" not in code_segment("A+B#C") and "#" not in code_segment("A+B#C")


def test_status_topic_yields_the_station_level_and_nothing_else_does() -> None:
    assert station_code_from_status_topic("loaxa/gia-lai/xa-ia-der/GL-01/status") == "GL-01"
    assert station_code_from_status_topic("loaxa/gia-lai/xa-ia-der/GL-01/cmd") is None
    assert station_code_from_status_topic("other/gia-lai/xa-ia-der/GL-01/status") is None
