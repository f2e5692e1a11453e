"""The agent's SQLite outbox: rows survive reopening, leave only when confirmed, and never while open."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from scheduler.agent.store import PlayRow, Store

NOW = datetime(2026, 11, 24, 5, 30, tzinfo=UTC)


def row(play_id: str, result: str) -> PlayRow:
    return PlayRow(play_id=play_id, item_key=f"k-{play_id}", kind="bulletin", actual_start=NOW.isoformat(),
                   result=result, title="Tuyên truyền CCHC")


def test_rows_survive_reopening_the_file_without_a_clean_close(tmp_path: Path) -> None:
    store = Store(tmp_path / "agent.sqlite3")
    store.start_play(row("open", "playing"))
    store.log_closed(row("done", "skipped"), handled_key="k-done")
    del store  # as after a power cut
    again = Store(tmp_path / "agent.sqlite3")
    assert {r.play_id: r.result for r in again.all_plays()} == {"open": "playing", "done": "skipped"}
    assert again.handled_keys() == {"k-done"}


def test_only_closed_rows_are_offered_for_upload_and_an_open_row_is_never_deleted(tmp_path: Path) -> None:
    store = Store(tmp_path / "agent.sqlite3")
    store.start_play(row("open", "playing"))
    store.log_closed(row("done", "played"), handled_key=None)
    assert [r.play_id for r in store.closed_plays(10)] == ["done"]
    assert store.delete_plays(["open", "done", "unknown"]) == 1
    assert [r.play_id for r in store.all_plays()] == ["open"]


def test_finishing_a_play_and_marking_its_item_handled_happen_together(tmp_path: Path) -> None:
    store = Store(tmp_path / "agent.sqlite3")
    store.start_play(row("p", "playing"))
    store.finish_play("p", NOW, 2000, "played", "", handled_key="k-p")
    [closed] = store.all_plays()
    assert (closed.result, closed.played_ms, closed.actual_end) == ("played", 2000, NOW.isoformat())
    assert store.handled_keys() == {"k-p"}
