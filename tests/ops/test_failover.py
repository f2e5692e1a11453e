"""Two app nodes behind nginx: one killed with SIGKILL during a programme change loses nothing.

The layout of deploy/ as benchmarks/bench_failover.py runs it (nginx, two gunicorn nodes, PostgreSQL,
Mosquitto), at a small size: every station fetches its new programme, acknowledges it and uploads play-log
rows while node 1 dies; the database must then hold every acknowledgement and every row exactly once.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_failover  # noqa: E402
from _layout import mosquitto, scratch_database  # noqa: E402

STATIONS = 40
PLAYS = 5


@pytest.fixture(scope="module")
def two_nodes() -> Iterator[tuple[Any, dict[str, str]]]:
    install = subprocess.run([str(ROOT / "scripts" / "nginx.sh"), "install"], capture_output=True, text=True,
                             timeout=600)
    if install.returncode != 0:
        pytest.skip(f"không có nginx và không cài được (scripts/nginx.sh install): {install.stderr.strip()}")
    with tempfile.TemporaryDirectory(prefix="loaxa-failover-") as tmp, scratch_database() as database_url:
        work = Path(tmp)
        tokens, _week = bench_failover.seed(database_url, work / "media", STATIONS, 5, datetime.now(UTC))
        with bench_failover.cluster(work, database_url, nodes=2, workers=1, threads=4) as up:
            yield up, tokens


def change(up: Any, tokens: dict[str, str], version: int, kill: Any) -> Any:
    with tempfile.TemporaryDirectory(prefix="loaxa-mqtt-") as tmp, mosquitto(Path(tmp)) as mqtt_url:
        return bench_failover.programme_change(up, mqtt_url, tokens, version, PLAYS, kill, kill_at=0.3,
                                               concurrency=8, timeout=120)


@pytest.mark.postgres
@pytest.mark.mqtt
@pytest.mark.timeout(600)
def test_a_node_killed_mid_change_loses_no_acknowledgement_and_no_play_log_row(
    two_nodes: tuple[Any, dict[str, str]],
) -> None:
    up, tokens = two_nodes
    calm = change(up, tokens, 2, kill=None)
    # Both nodes take requests: nginx spreads them, so the kill below hits work under way.
    assert all(n > 0 for n in calm.per_node), calm.per_node
    assert not calm.lost, bench_failover.describe("calm", calm)

    run = change(up, tokens, 3, kill=up.nodes[0])

    assert run.killed_at is not None
    assert up.nodes[0].proc.poll() is not None  # node 1 is really gone
    assert run.acked_in_db == STATIONS, bench_failover.describe("kill", run)
    assert run.client_done == STATIONS, bench_failover.describe("kill", run)
    assert run.plays_sent == STATIONS * PLAYS
    assert run.plays_missing == 0 and run.plays_doubled == 0, bench_failover.describe("kill", run)
    assert run.per_node[1] > calm.per_node[1], run.per_node  # node 2 took over node 1's stations
