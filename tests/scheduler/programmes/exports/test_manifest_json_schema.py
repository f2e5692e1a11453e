"""docs/manifest.schema.json describes the manifests build_manifest really produces."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from export_world import manifest_of
from sqlalchemy.orm import Session, sessionmaker

SCHEMA_PATH = Path(__file__).resolve().parents[4] / "scheduler" / "manifest.schema.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("station", ["IAGRAI-01", "CHUPAH-01"])
def test_real_manifests_validate_against_the_published_schema(
    built_week: sessionmaker[Session], validator: jsonschema.Draft202012Validator, station: str
) -> None:
    manifest = manifest_of(built_week, station)
    kinds = {item["kind"] for item in manifest["items"]}
    assert {"bulletin", "emergency"} <= kinds
    validator.validate(json.loads(json.dumps(manifest)))  # as a station receives it: JSON, not Python objects


def test_the_relay_station_manifest_has_relays_and_they_validate(
    built_week: sessionmaker[Session], validator: jsonschema.Draft202012Validator
) -> None:
    manifest = manifest_of(built_week, "CHUPAH-01")
    assert any(item["kind"] == "relay" for item in manifest["items"])
    validator.validate(manifest)


def _broken(manifest: dict[str, Any], change: str) -> dict[str, Any]:
    broken = copy.deepcopy(manifest)
    item = broken["items"][0]
    if change == "naive time":
        item["start"] = item["start"][:19]
    elif change == "unknown kind":
        item["kind"] = "quang_cao"
    elif change == "emergency without audio":
        emergency = next(i for i in broken["items"] if i["kind"] == "emergency")
        emergency["sha256"] = emergency["audio_url"] = None
    elif change == "extra field":
        broken["volume"] = 100
    elif change == "bad week":
        broken["week"] = "2026-48"
    return broken


@pytest.mark.parametrize("change", ["naive time", "unknown kind", "emergency without audio", "extra field", "bad week"])
def test_the_schema_rejects_manifests_that_break_the_contract(
    built_week: sessionmaker[Session], validator: jsonschema.Draft202012Validator, change: str
) -> None:
    manifest = manifest_of(built_week, "IAGRAI-01")
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(_broken(manifest, change))
