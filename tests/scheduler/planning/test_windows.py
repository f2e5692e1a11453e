"""The station window spec: parsing every form, Vietnamese errors, round-trips and overlap checks."""

from __future__ import annotations

from datetime import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.domain import WeeklyWindow
from scheduler.planning.windows import (
    find_overlaps,
    find_stray_blocks,
    format_days,
    format_windows,
    parse_days,
    parse_windows,
)

WEEKDAYS = frozenset(range(5))


def test_range_list_and_single_day_forms_parse_to_weekday_numbers() -> None:
    assert parse_days("T2-T6") == WEEKDAYS
    assert parse_days("T2,T4,T6") == {0, 2, 4}
    assert parse_days("CN") == {6}
    assert parse_days("T2-T4,T7") == {0, 1, 2, 5}
    assert parse_days("t2-cn") == frozenset(range(7))


def test_station_csv_example_gives_two_session_windows() -> None:
    windows = parse_windows("T2-CN 05:30-06:00; T2-T6 17:00-17:30")
    assert windows == (
        WeeklyWindow(frozenset(range(7)), time(5, 30), time(6, 0)),
        WeeklyWindow(WEEKDAYS, time(17, 0), time(17, 30)),
    )


def test_relay_block_takes_its_stream_address() -> None:
    (relay,) = parse_windows("T2-T6 17:00-17:15 tiep-song=https://vov.vn/live/vov1")
    assert relay.kind == "relay"
    assert relay.stream_url == "https://vov.vn/live/vov1"
    assert (relay.start, relay.end) == (time(17, 0), time(17, 15))


def test_relay_call_form_and_diacritic_key_mean_the_same_relay() -> None:
    canonical = parse_windows("T2-T6 17:00-17:15 tiep-song=https://vov.vn/a")
    assert parse_windows("relay(T2-T6 17:00-17:15 https://vov.vn/a)") == canonical
    assert parse_windows("T2-T6 17:00-17:15 tiếp-sóng=https://vov.vn/a") == canonical


def test_language_segment_and_whole_session_language_are_distinguished() -> None:
    segment, session = parse_windows("T2-T6 17:15-17:22 lang=jra; T7 06:00-06:30 lang-buoi=km")
    assert (segment.kind, segment.language) == ("segment", "jra")
    assert (session.kind, session.language) == ("session", "km")


def test_quoted_label_keeps_spaces_and_semicolons() -> None:
    (relay,) = parse_windows('T2-T6 17:00-17:15 tiep-song=https://r.vn/a ten="Thời sự; Đài PT-TH tỉnh"')
    assert relay.label == "Thời sự; Đài PT-TH tỉnh"


def test_midnight_crossing_window_is_legal_and_24_00_means_midnight() -> None:
    late, last = parse_windows("T2,T4,T6 23:30-00:30; CN 23:00-24:00")
    assert late.crosses_midnight and late.duration.total_seconds() == 3600
    assert last.end == time(0, 0) and last.duration.total_seconds() == 3600


def test_spaces_and_17h30_style_times_are_tolerated() -> None:
    assert parse_windows("T2 - T6  5h30 - 6h") == parse_windows("T2-T6 05:30-06:00")


def test_blank_spec_has_no_windows() -> None:
    assert parse_windows("  ") == ()
    assert parse_windows("T2 05:30-06:00;") == parse_windows("T2 05:30-06:00")


@pytest.mark.parametrize(
    ("spec", "bad_part"),
    [
        ("T8 05:30-06:00", "«T8»"),
        ("T2-T6 25:00-26:00", "«25:00»"),
        ("T2-T6 05:70-06:00", "«05:70»"),
        ("T6-T2 05:00-06:00", "«T6-T2»"),
        ("T2-T6", "«T2-T6»"),
        ("05:30-06:00", "«05:30-06:00»"),
        ("T2 05:00-05:00", "trùng nhau"),
        ("T2 05:00-06:00 mau=do", "«mau=do»"),
        ("T2 05:00-06:00 tiep-song=vov1", "«vov1»"),
        ("T2 05:00-06:00 lang=Jrai1", "«Jrai1»"),
        ("T2 05:00-06:00 lang=jra lang-buoi=vi", "lang-buoi"),
        ("T2 05:00-06:00 lang=jra lang=bdq", "bị lặp"),
        ('T2 05:00-06:00 ten="Thời sự', "ngoặc kép"),
    ],
)
def test_bad_spec_is_rejected_with_a_vietnamese_message_naming_the_bad_part(spec: str, bad_part: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_windows(f"T2-CN 05:30-06:00; {spec}")
    message = str(caught.value)
    assert bad_part in message
    assert "Khung giờ" in message or "Ngày" in message
    # ... and says what to do instead.
    assert any(hint in message.lower() for hint in ("ví dụ", "dùng", "viết", "chọn", "xoá"))


def test_error_names_only_the_failing_window_not_the_whole_spec() -> None:
    with pytest.raises(ValueError, match="«T2-T6 17:00-17:99»"):
        parse_windows("T2-CN 05:30-06:00; T2-T6 17:00-17:99")


def test_format_days_uses_ranges_for_runs_of_three_or_more() -> None:
    assert format_days({0, 1, 2, 3, 4}) == "T2-T6"
    assert format_days({0, 2, 4}) == "T2,T4,T6"
    assert format_days({5, 6}) == "T7,CN"
    assert format_days({0, 1, 2, 4}) == "T2-T4,T6"


def test_format_windows_writes_the_canonical_spec() -> None:
    spec = (
        "T2-CN 05:30-06:00; T2-T6 17:00-17:15 tiep-song=https://vov.vn/a; "
        'T2-T6 17:15-17:22 lang=jra ten="Tiếng Jrai"; T7,CN 23:30-00:30 lang-buoi=km'
    )
    assert format_windows(parse_windows(spec)) == spec


_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 5, 15, 30, 45, 59]), st.sampled_from([0, 0, 30]))


@st.composite
def _windows(draw: st.DrawFn) -> WeeklyWindow:
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    start = draw(_times)
    end = draw(_times.filter(lambda t: t != start))
    kind = draw(st.sampled_from(["session", "relay", "segment"]))
    language = draw(st.sampled_from([None, "vi", "jra", "km"]))
    label = draw(st.sampled_from(["", "Thời sự VOV", 'Bản tin "đặc biệt"; sáng', "a\\b"]))
    if kind == "relay":
        return WeeklyWindow(days, start, end, "relay", language, "https://vov.vn/live?kenh=1&x=(2)", label)
    if kind == "segment":
        return WeeklyWindow(days, start, end, "segment", language or "jra", None, label)
    return WeeklyWindow(days, start, end, "session", language, None, label)


@settings(database=None)
@given(st.lists(_windows(), max_size=5))
def test_format_then_parse_gives_back_the_same_windows(windows: list[WeeklyWindow]) -> None:
    assert parse_windows(format_windows(windows)) == tuple(windows)


def test_sessions_overlapping_on_shared_days_are_reported_with_those_days() -> None:
    (overlap,) = find_overlaps(parse_windows("T2-T6 17:00-17:30; T2,T4,T7 17:15-18:00"))
    assert overlap.days == (0, 2)
    assert "trùng giờ" in overlap.message and "T2, T4" in overlap.message


def test_sessions_on_different_days_or_touching_do_not_overlap() -> None:
    assert find_overlaps(parse_windows("T2-T6 17:00-17:30; T7,CN 17:00-17:30; T2-CN 17:30-18:00")) == []


def test_midnight_crossing_session_overlaps_next_mornings_session() -> None:
    (overlap,) = find_overlaps(parse_windows("T2 23:30-00:30; T3 00:15-01:00"))
    assert overlap.days == (0,)


def test_sunday_night_session_overlaps_monday_early_session_across_the_week_boundary() -> None:
    assert len(find_overlaps(parse_windows("CN 23:30-00:30; T2 00:00-00:45"))) == 1


def test_blocks_inside_a_session_are_not_overlaps_but_two_blocks_colliding_are() -> None:
    spec = "T2-T6 17:00-17:30; T2-T6 17:00-17:15 tiep-song=https://r.vn/a; T2-T6 17:10-17:20 lang=jra"
    (overlap,) = find_overlaps(parse_windows(spec))
    assert {overlap.first.kind, overlap.second.kind} == {"relay", "segment"}
    assert overlap.message.startswith("Khối")


def test_relay_outside_every_session_is_a_stray_block_on_those_days() -> None:
    (stray,) = find_stray_blocks(parse_windows("T2-T6 17:00-17:30; T2-CN 17:00-17:15 tiep-song=https://r.vn/a"))
    assert stray.days == (5, 6)
    assert "T7, CN" in stray.message
