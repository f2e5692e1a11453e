"""The pure timing rules: due, missed, replay (docs/agent.md, "Timing rules")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler.agent.timeline import LATE_GRACE, Cue, due, item_key, may_replay, merge_cues
from scheduler.wire import parse_manifest

T0 = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)


def slot(offset_s: int, length_s: int, kind: str = "bulletin", sha: str = "a" * 64) -> Cue:
    start = T0 + timedelta(seconds=offset_s)
    return Cue(key=item_key(start, sha if kind != "relay" else None, "http://vov" if kind == "relay" else None, kind),
                start=start, end=start + timedelta(seconds=length_s), kind=kind, duration_ms=length_s * 1000,
                sha256=sha if kind != "relay" else None, stream_url="http://vov" if kind == "relay" else None)


def test_nothing_is_due_before_its_start() -> None:
    assert due([slot(10, 5)], T0 + timedelta(seconds=9), set()).start is None


def test_item_may_start_late_until_its_slot_end_plus_grace_then_it_is_missed() -> None:
    item = slot(0, 60)
    assert due([item], item.end + LATE_GRACE - timedelta(seconds=1), set()).start == item
    late = due([item], item.end + LATE_GRACE, set())
    assert late.start is None and late.missed == [item]


def test_items_start_in_order_and_handled_ones_are_skipped_over() -> None:
    first, second = slot(0, 5), slot(5, 5, sha="b" * 64)
    assert due([first, second], T0 + timedelta(seconds=6), set()).start == first
    assert due([first, second], T0 + timedelta(seconds=6), {first.key}).start == second


def test_relay_is_joined_only_while_more_than_30_seconds_remain() -> None:
    relay = slot(0, 120, kind="relay")
    assert due([relay], T0 + timedelta(seconds=89), set()).start == relay
    assert due([relay], T0 + timedelta(seconds=90), set()).missed == [relay]


def test_cut_item_is_replayed_only_inside_its_slot_and_with_more_than_a_tenth_left() -> None:
    item = slot(0, 100)
    assert may_replay(item, played_ms=50_000, now=T0 + timedelta(seconds=60))
    assert not may_replay(item, played_ms=95_000, now=T0 + timedelta(seconds=96))  # 5 % left
    assert not may_replay(item, played_ms=20_000, now=item.end)  # slot over


def test_same_item_in_a_new_version_keeps_its_identity() -> None:
    item = {"id": 10, "start": "2026-11-24T05:30:00+07:00", "end": "2026-11-24T05:31:00+07:00", "kind": "bulletin",
            "sha256": "c" * 64, "duration_ms": 60000}
    v1 = parse_manifest({"format": 1, "station": "S", "week": "2026-W48", "version": 1, "items": [item]})
    v2 = parse_manifest({"format": 1, "station": "S", "week": "2026-W48", "version": 2, "items": [{**item, "id": 99}]})
    assert merge_cues([v1])[0].key == merge_cues([v2])[0].key
    assert merge_cues([v1])[0].start == T0


def test_a_manifest_breaking_the_contract_is_refused_with_the_field_named() -> None:
    good = {"id": 1, "start": "2026-11-24T05:30:00+07:00", "end": "2026-11-24T05:31:00+07:00", "kind": "bulletin",
            "sha256": "c" * 64, "duration_ms": 60000}
    head = {"format": 1, "station": "S", "week": "2026-W48", "version": 3}
    assert parse_manifest({**head, "items": [good]})["items"][0]["title"] == ""
    for broken, field in (({**good, "start": "05:30"}, "start/end"), ({**good, "sha256": "xyz"}, "sha256"),
                          ({**good, "duration_ms": "60s"}, "duration_ms")):
        try:
            parse_manifest({**head, "items": [broken]})
        except ValueError as exc:
            assert field in str(exc) and "Mục thứ 1" in str(exc)
        else:
            raise AssertionError(f"accepted a manifest with a bad {field}")
    try:
        parse_manifest({**head, "version": "3", "items": []})
    except ValueError as exc:
        assert "version" in str(exc)
    else:
        raise AssertionError("accepted a manifest without a numeric version")
