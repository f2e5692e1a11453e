"""A full cache disk, on a real tmpfs (private user and mount namespace, see full_disk.py): the agent
never crash-loops, keeps playing what it holds, cleans partial downloads, evicts audio no programme
needs, says "đầy bộ nhớ" and recovers by itself when space returns; no play is lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from agent_world import CODE, acked, server_plays
from delivery_world import ItemSpec, add_asset, add_programme, add_station, free_port, make_mp3, set_items, wait_for
from full_disk import HERE, fill, in_small_fs, small_fs_available
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from test_agent_process import LOAXA, loaxa_serve, this_week

from scheduler.db.models import AudioAsset, Programme
from scheduler.db.models import Station as StationRow
from scheduler.db.session import transaction
from scheduler.settings import Settings

NO_SMALL_FS = small_fs_available()
pytestmark = pytest.mark.skipif(NO_SMALL_FS is not None, reason=f"needs a private tmpfs: {NO_SMALL_FS}")


def test_store_on_a_full_tmpfs_frees_space_holds_rows_in_memory_and_recovers(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    done = subprocess.run(in_small_fs(2048, cache, [sys.executable, str(HERE), str(cache)]),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["reserve_laid"]
    # The first time the disk filled: partial downloads and unneeded audio deleted, the reserve released,
    # the audio still to air kept, and the box says so.
    assert seen["after_first_fill"] == {"full": True, "label": "đầy bộ nhớ", "reserve": False,
                                        "orphan_part": False, "needed": True, "unneeded": False}
    # Filled again with nothing left to free: rows are held in memory, none lost, nothing raised but the
    # alive mark (which the agent ignores).
    assert seen["held_in_memory"] > 0
    assert seen["errors_from_alive_marks"] == ["DiskFull"]
    assert seen["closed_ids_complete"]
    # Space returns: the reserve is laid again and every held row reaches the disk.
    assert seen["after_space_returns"] == {"full": False, "reserve": True, "still_held": 0}
    assert seen["on_disk_after_restart"]
    assert seen["handled_on_disk"] == 400


def agent_argv(url: str, token: str, cache: Path) -> list[str]:
    return [*LOAXA, "agent", "--server", url, "--station", CODE, "--token", token, "--cache", str(cache),
            "--player", "null", "--no-mqtt", "--poll", "5", "--upload-every", "1", "--status-every", "5",
            "--disk-reserve", "1"]


def box_status(sessions: sessionmaker[Session]) -> dict[str, Any]:
    with sessions() as s:
        return dict(s.scalar(select(StationRow.status).where(StationRow.code == CODE)) or {})


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_real_agent_on_a_full_tmpfs_keeps_playing_cleans_up_says_so_and_recovers(
        settings: Settings, sessions: sessionmaker[Session], media_dir: Path, tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    first, second, third = now + timedelta(seconds=22), now + timedelta(seconds=26), now + timedelta(seconds=42)
    week = this_week(now)
    with transaction(sessions) as s:
        station, token = add_station(s, CODE, now)
        a = add_asset(s, media_dir, make_mp3(2.0, 440), now, 2000)
        b = add_asset(s, media_dir, make_mp3(2.0, 550), now, 2000)
        add_programme(s, station, week, [ItemSpec(first, a, title="Tuyên truyền CCHC"),
                                         ItemSpec(second, b, title="Dịch vụ công trực tuyến")], now)
    port, cache, log = free_port(), tmp_path / "cache", tmp_path / "processes.log"
    with loaxa_serve(settings, port, log):
        with open(log, "ab") as out:
            agent = subprocess.Popen(in_small_fs(3072, cache, agent_argv(f"http://127.0.0.1:{port}", token, cache)),
                                     stdout=out, stderr=subprocess.STDOUT)
        try:
            inside = Path(f"/proc/{agent.pid}/root") / cache.relative_to("/")
            wait_for(lambda: acked(sessions, week) == 1 and (inside / "reserve.bin").exists(), timeout=60, step=0.2)
            # A second status means the first pass, with its hourly clean-up of stray files, is over.
            first_status = wait_for(lambda: box_status(sessions).get("received_at"), timeout=30, step=0.2)
            wait_for(lambda: box_status(sessions).get("received_at") != first_status, timeout=30, step=0.2)
            orphan = inside / "audio" / "cc" / f"{'c' * 64}.part"  # a download cut short long ago
            unneeded = inside / "audio" / "dd" / f"{'d' * 64}.mp3"  # audio of a week that is over
            for path in (orphan, unneeded):
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(os.urandom(200 * 1024))
            fill(inside / "filler.bin")  # something else filled the card
            with transaction(sessions) as s:
                c = add_asset(s, media_dir, make_mp3(2.0, 660), now, 2000)
                programme = s.scalar(select(Programme).where(Programme.week == week))
                assert programme is not None
                held = [ItemSpec(first, s.get(AudioAsset, a.id), title="Tuyên truyền CCHC"),
                        ItemSpec(second, s.get(AudioAsset, b.id), title="Dịch vụ công trực tuyến")]
                set_items(programme, [*held, ItemSpec(third, c, title="Cơ chế một cửa")])
                programme.version = 2
            wait_for(lambda: box_status(sessions).get("storage", {}).get("state") == "full", timeout=60, step=0.2)
            assert box_status(sessions)["storage"]["label"] == "đầy bộ nhớ"
            full_since = datetime.fromisoformat(box_status(sessions)["storage"]["since"])
            assert full_since < first  # what follows airs on a full disk
            assert not orphan.exists() and not unneeded.exists()
            assert not list((inside / "audio").glob("*/*.part"))
            assert not (inside / "reserve.bin").exists()
            # Full, and still playing what it holds: both items air on time and reach the server.
            wait_for(lambda: len(server_plays(sessions)) == 2, timeout=60, step=0.2)
            assert agent.poll() is None
            (inside / "filler.bin").unlink()  # space returns
            wait_for(lambda: len(server_plays(sessions)) == 3, timeout=60, step=0.2)
            wait_for(lambda: box_status(sessions).get("storage", {}).get("state") == "ok", timeout=30, step=0.2)
            assert (inside / "reserve.bin").exists()
            assert agent.poll() is None  # one process from start to end: never crashed, never restarted
        finally:
            agent.terminate()
            agent.wait(timeout=30)
    plays = server_plays(sessions)
    assert [(p.title, p.result) for p in plays] == [("Tuyên truyền CCHC", "played"),
                                                    ("Dịch vụ công trực tuyến", "played"),
                                                    ("Cơ chế một cửa", "played")], log.read_text()
    assert [p.scheduled_start for p in plays] == [first, second, third]
    assert acked(sessions, week) == 2
