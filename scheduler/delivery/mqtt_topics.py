"""MQTT topic names: loaxa/<province>/<commune>/<station>/{programme,cmd,status,event}.

Province and commune names are slugified (Vietnamese diacritics stripped, đ → d), so topics stay
ASCII and free of the MQTT wildcards; station codes keep their case.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from scheduler.db.models import Station
from scheduler.wire import CMD_TOPIC, EVENT_TOPIC, PROGRAMME_TOPIC, STATUS_TOPIC, TOPIC_ROOT


def strip_diacritics(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def slugify(text: str) -> str:
    """«Xã Ia Grai» -> «xa-ia-grai»; «Đắk Lắk» -> «dak-lak»."""
    slug = re.sub(r"[^a-z0-9]+", "-", strip_diacritics(text).lower()).strip("-")
    return slug or "x"


def code_segment(code: str) -> str:
    """A station code made safe as one topic level (no '/', '+', '#', spaces); case is kept."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", strip_diacritics(code)).strip("-") or "x"


@dataclass(frozen=True)
class StationTopics:
    root: str

    @property
    def programme(self) -> str:
        return f"{self.root}/{PROGRAMME_TOPIC}"

    @property
    def cmd(self) -> str:
        return f"{self.root}/{CMD_TOPIC}"

    @property
    def status(self) -> str:
        return f"{self.root}/{STATUS_TOPIC}"

    @property
    def event(self) -> str:
        return f"{self.root}/{EVENT_TOPIC}"


def place_root(province: str, commune: str) -> str:
    """loaxa/<province>/<commune> from the names."""
    return f"{TOPIC_ROOT}/{slugify(province)}/{slugify(commune)}"


def topic_root(province: str, commune: str, code: str) -> str:
    """loaxa/<province>/<commune>/<station> from the names and the code."""
    return f"{place_root(province, commune)}/{code_segment(code)}"


def station_topics(station: Station) -> StationTopics:
    commune = station.commune
    return StationTopics(topic_root(commune.province.name, commune.name, station.code))


class TopicNamer:
    """station_topics for many stations from plain names: each commune's part is slugified once (the
    costly part of naming a topic; a commune has many stations)."""

    def __init__(self) -> None:
        self._places: dict[tuple[str, str], str] = {}

    def topics(self, province: str, commune: str, code: str) -> StationTopics:
        place = self._places.get((province, commune))
        if place is None:
            place = self._places[(province, commune)] = place_root(province, commune)
        return StationTopics(f"{place}/{code_segment(code)}")


def station_code_from_status_topic(topic: str, leaf: str = STATUS_TOPIC) -> str | None:
    """The station level of `loaxa/p/c/<station>/status` (or `/<leaf>`), or None for any other topic."""
    parts = topic.split("/")
    if len(parts) == 5 and parts[0] == TOPIC_ROOT and parts[4] == leaf:
        return parts[3]
    return None
