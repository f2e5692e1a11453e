"""iCalendar export: RFC 5545 escaping and folding, readable by the `icalendar` package."""

from __future__ import annotations

from datetime import datetime, timedelta

import icalendar
from export_world import BULLETINS, manifest_of
from sqlalchemy.orm import Session, sessionmaker

from scheduler.programmes.exports.ical import escape_text, fold, to_ics


def test_calendar_parses_with_one_event_per_item_at_the_right_instants(built_week: sessionmaker[Session]) -> None:
    manifest = manifest_of(built_week, "CHUPAH-01")
    calendar = icalendar.Calendar.from_ical(to_ics(manifest))
    events = list(calendar.walk("VEVENT"))
    assert len(events) == len(manifest["items"]) > 0
    for event, item in zip(events, manifest["items"], strict=True):
        start, end = datetime.fromisoformat(item["start"]), datetime.fromisoformat(item["end"])
        # iCalendar counts whole seconds: the event starts on the item's second and covers its end.
        assert event.decoded("DTSTART") == start.replace(microsecond=0)
        assert end <= event.decoded("DTEND") < end + timedelta(seconds=1)
    assert len({str(e["UID"]) for e in events}) == len(events)


def test_titles_with_commas_semicolons_and_backslashes_come_back_intact(built_week: sessionmaker[Session]) -> None:
    calendar = icalendar.Calendar.from_ical(to_ics(manifest_of(built_week, "IAGRAI-01")))
    summaries = {str(e["SUMMARY"]) for e in calendar.walk("VEVENT")}
    for code in ("MC-01", "DVC-01", "CHISO-01", "KC-BAO9"):
        assert BULLETINS[code][1] in summaries, code
    descriptions = [str(e["DESCRIPTION"]) for e in calendar.walk("VEVENT") if str(e["SUMMARY"]) == BULLETINS["KC-BAO9"][1]]
    assert descriptions and descriptions[0].splitlines()[0] == "Loại: Khẩn cấp"


def test_lines_are_folded_at_75_octets_with_crlf(built_week: sessionmaker[Session]) -> None:
    text = to_ics(manifest_of(built_week, "IAGRAI-01"))
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in lines)
    assert any(line.startswith(" ") for line in lines), "long Vietnamese titles should need folding"


def test_folding_never_splits_a_vietnamese_letter() -> None:
    line = "SUMMARY:" + "Thủ tục hành chính một cửa liên thông " * 4
    folded = fold(line)
    pieces = folded.split("\r\n ")
    assert all(len(p.encode("utf-8")) <= 75 for p in pieces)
    assert "".join(pieces) == line  # each piece decodes on its own: no cut inside a UTF-8 sequence


def test_text_values_are_escaped_per_rfc5545() -> None:
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
