"""The manifest's bytes and local times: fast paths that must say exactly what the plain ones say."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.manifest import ItemRow, manifest_bytes, manifest_of

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
TITLES = ["Tuyên truyền cải cách hành chính", 'Dấu "ngoặc" và \\ gạch', "Dòng\nmới\tvà \x01 điều khiển",
          "Ký tự \u2028 ngăn dòng, 🎙 biểu tượng", "/ đường dẫn </script>", ""]


def rows(start: datetime) -> list[ItemRow]:
    return [ItemRow(7 + k, start + timedelta(minutes=37 * k, microseconds=k), start + timedelta(minutes=37 * k + 3),
                    "emergency" if k == 2 else "bulletin", f"CCHC-{k}", title, "vi", "thuong", f"{k:064x}",
                    180_000, None, 4 if k == 2 else None, True if k == 2 else None)
            for k, title in enumerate(TITLES)]


def test_bytes_are_what_the_standard_library_writes() -> None:
    # Vietnamese kept readable, quotes, backslashes, control characters, U+2028 and astral characters.
    manifest = manifest_of("XA-01", "2026-W49", 3, datetime(2026, 12, 3, 1, tzinfo=UTC),
                           rows(datetime(2026, 12, 6, 16, 30, tzinfo=UTC)), HCM, "https://loa.example.vn")
    expected = json.dumps(manifest, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    assert manifest_bytes(manifest) == expected
    assert json.loads(manifest_bytes(manifest)) == manifest


def test_local_times_across_midnight_and_the_week_boundary() -> None:
    # Sunday 23:30 local is Sunday 16:30 UTC; the items run past Monday 00:00 local (the next ISO week).
    start = datetime(2026, 12, 6, 16, 30, tzinfo=UTC)
    items = manifest_of("XA-01", "2026-W49", 1, start, rows(start), HCM, "")["items"]
    assert [i["start"] for i in items[:3]] == ["2026-12-06T23:30:00+07:00", "2026-12-07T00:07:00.000001+07:00",
                                               "2026-12-07T00:44:00.000002+07:00"]
    # The same instant given in another zone renders the same; a different zone renders its own offset.
    same = start.astimezone(ZoneInfo("Europe/Paris"))
    again = manifest_of("XA-01", "2026-W49", 1, start, rows(same), HCM, "")["items"]
    assert [i["start"] for i in again] == [i["start"] for i in items]
    bangkok = manifest_of("XA-01", "2026-W49", 1, start, rows(start), ZoneInfo("Asia/Bangkok"), "")["items"]
    assert bangkok[0]["start"] == "2026-12-06T23:30:00+07:00" and bangkok[0]["end"] == "2026-12-06T23:33:00+07:00"
    tokyo = manifest_of("XA-01", "2026-W49", 1, start, rows(start), ZoneInfo("Asia/Tokyo"), "")["items"]
    assert tokyo[0]["start"] == "2026-12-07T01:30:00+09:00"
