"""M3U export: an extended playlist an operator's player can open, one entry per playable item."""

from __future__ import annotations

from export_world import BASE_URL, BULLETINS, manifest_of
from sqlalchemy.orm import Session, sessionmaker

from scheduler.programmes.exports.m3u import to_m3u
from scheduler.wire import parse_manifest


def parse_m3u(text: str) -> list[tuple[int, str, str]]:
    """(seconds, title, url) per entry; raises on anything an M3U reader would not accept."""
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U"
    entries = []
    pending: tuple[int, str] | None = None
    for line in lines[1:]:
        if line.startswith("#EXTINF:"):
            assert pending is None, "two #EXTINF lines without a URL between them"
            seconds, title = line[len("#EXTINF:"):].split(",", 1)
            pending = (int(seconds), title)
        elif line.startswith("#") or not line.strip():
            continue
        else:
            assert pending is not None, f"URL without #EXTINF: {line}"
            entries.append((*pending, line))
            pending = None
    assert pending is None
    return entries


def test_every_playable_item_becomes_one_entry_in_start_order(built_week: sessionmaker[Session]) -> None:
    manifest = manifest_of(built_week, "CHUPAH-01")
    entries = parse_m3u(to_m3u(manifest))
    playable = [i for i in manifest["items"] if i["audio_url"] or i["stream_url"]]
    assert len(entries) == len(playable) > 0
    assert [e[2] for e in entries] == [i["audio_url"] or i["stream_url"] for i in playable]
    assert all(url.startswith(BASE_URL) or url.startswith("http://vov.example/") for _, _, url in entries)


def test_audio_entries_carry_their_length_and_streams_have_none(built_week: sessionmaker[Session]) -> None:
    manifest = manifest_of(built_week, "CHUPAH-01")
    entries = parse_m3u(to_m3u(manifest))
    relays = [e for e in entries if e[2].startswith("http://vov.example/")]
    audio = [e for e in entries if e[2].startswith(BASE_URL)]
    assert relays and all(seconds == -1 for seconds, _, _ in relays)
    assert audio and all(seconds == 96 for seconds, _, _ in audio)  # 95.5 s rounds to 96


def test_titles_keep_their_vietnamese_commas_and_semicolons(built_week: sessionmaker[Session]) -> None:
    entries = parse_m3u(to_m3u(manifest_of(built_week, "IAGRAI-01")))
    titles = {title for _, title, _ in entries}
    assert f"MC-01 — {BULLETINS['MC-01'][1]}" in titles
    assert f"KC-BAO9 — {BULLETINS['KC-BAO9'][1]}" in titles


def test_a_newline_in_a_title_cannot_start_a_bogus_entry() -> None:
    manifest = parse_manifest({"format": 1, "station": "X", "week": "2026-W48", "version": 1, "items": [{
        "start": "2026-11-23T05:30:00+07:00", "end": "2026-11-23T05:32:00+07:00", "kind": "bulletin",
        "bulletin": "B1", "title": "Dòng một\nhttp://evil.example/x.mp3", "audio_url": "https://a/1.mp3",
        "stream_url": None, "duration_ms": 120_000}]})
    assert parse_m3u(to_m3u(manifest)) == [(120, "B1 — Dòng một http://evil.example/x.mp3", "https://a/1.mp3")]
