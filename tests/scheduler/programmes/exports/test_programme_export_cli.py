"""`loaxa programme export`: every format to a file, whole or not at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from export_world import BASE_URL, WEEK, manifest_of
from sqlalchemy.orm import Session, sessionmaker

from scheduler.settings import Settings
from web.cli import main


def run(settings: Settings, *args: str) -> Result:
    env = {"LOAXA_DATABASE_URL": settings.database_url, "LOAXA_DATA_DIR": str(settings.data_dir),
           "LOAXA_MEDIA_DIR": str(settings.media_dir), "LOAXA_PUBLIC_URL": BASE_URL}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.mark.parametrize(("fmt", "magic"), [("json", b"{"), ("m3u", b"#EXTM3U"), ("ics", b"BEGIN:VCALENDAR"),
                                            ("pdf", b"%PDF-")])
def test_each_format_is_written_to_the_named_file(
    built_week: sessionmaker[Session], settings: Settings, tmp_path: Path, fmt: str, magic: bytes
) -> None:
    target = tmp_path / "out" / f"lich.{fmt}"
    result = run(settings, "programme", "export", "--week", str(WEEK), "--station", "IAGRAI-01", "--format", fmt,
                 "-o", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(magic)
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temporary file left behind


def test_json_export_is_the_stations_manifest(built_week: sessionmaker[Session], settings: Settings,
                                              tmp_path: Path) -> None:
    target = tmp_path / "manifest.json"
    run(settings, "programme", "export", "--week", str(WEEK), "--station", "CHUPAH-01", "-o", str(target))
    assert json.loads(target.read_text(encoding="utf-8")) == manifest_of(built_week, "CHUPAH-01")


def test_text_formats_can_go_to_standard_output(built_week: sessionmaker[Session], settings: Settings) -> None:
    result = run(settings, "programme", "export", "--week", str(WEEK), "--station", "IAGRAI-01", "--format", "m3u",
                 "-o", "-")
    assert result.output.startswith("#EXTM3U")
    pdf = run(settings, "programme", "export", "--week", str(WEEK), "--station", "IAGRAI-01", "--format", "pdf",
              "-o", "-")
    assert pdf.exit_code == 2 and "PDF" in pdf.output


def test_a_missing_programme_says_how_to_build_it_and_keeps_the_old_file(
    built_week: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    target = tmp_path / "lich.ics"
    target.write_text("bản cũ", encoding="utf-8")
    result = run(settings, "programme", "export", "--week", "2026-W50", "--station", "IAGRAI-01", "--format", "ics",
                 "-o", str(target))
    assert result.exit_code == 1
    assert "loaxa programme build --week 2026-W50" in result.output
    unknown = run(settings, "programme", "export", "--week", str(WEEK), "--station", "KHONG-CO", "-o", str(target))
    assert unknown.exit_code == 1 and "KHONG-CO" in unknown.output
    assert target.read_text(encoding="utf-8") == "bản cũ"
