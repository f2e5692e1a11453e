"""Agent timing: do back-to-back items start on the clock, with no drift?

The real `Agent` (threaded `run_forever`, its store, its cache) plays a run of back-to-back items
with a null player whose end is reported 150 ms after the audio's length, as a real player's
start-up and tail do. Latency of each start = actual start − scheduled start.

Baseline, interleaved round by round with the same player: an ideal sleeper, one thread that sleeps
until each scheduled start and starts the player — the floor a Python thread gets on this machine.

Usage: python benchmarks/bench_agent_timing.py [--items 30] [--item-ms 400] [--rounds 3]
Figures: docs/benchmarks.md ("Agent timing"). Target: p99 ≤ 100 ms, no drift.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scheduler.agent.agent import Agent, AgentConfig  # noqa: E402
from scheduler.agent.players import NullPlayer, PlayerStatus  # noqa: E402
from scheduler.agent.timeline import Cue, item_key  # noqa: E402

OVERRUN = timedelta(milliseconds=150)


def clock() -> datetime:
    return datetime.now(UTC)


class TailPlayer(NullPlayer):
    """Reports its end OVERRUN after the audio's length; records when each start happened."""

    def __init__(self) -> None:
        super().__init__(clock)
        self.starts: list[datetime] = []

    def start(self, source: str, duration_ms: int, volume: int) -> None:
        self.starts.append(clock())
        super().start(source, duration_ms, volume)

    def poll(self) -> PlayerStatus:
        if self.until is not None and clock() < self.until + OVERRUN:
            return PlayerStatus("playing")
        return super().poll()


def cues(first: datetime, items: int, item_ms: int, sha: str) -> list[Cue]:
    out = []
    for n in range(items):
        start = first + timedelta(milliseconds=n * item_ms)
        out.append(Cue(key=item_key(start, sha, None, "bulletin"), start=start,
                       end=start + timedelta(milliseconds=item_ms), kind="bulletin", week="2026-W49",
                       title=f"Mục {n}", sha256=sha, duration_ms=item_ms))
    return out


def agent_round(work: Path, items: int, item_ms: int) -> list[float]:
    payload = b"loaxa-bench-" + str(time.time()).encode()
    sha = hashlib.sha256(payload).hexdigest()
    player = TailPlayer()
    agent = Agent(AgentConfig(server="http://127.0.0.1:9", station="BENCH-01", token="t", cache_dir=work, mqtt=False),
                  clock=clock, player=player)
    agent.cache.path(sha).parent.mkdir(parents=True, exist_ok=True)
    agent.cache.path(sha).write_bytes(payload)
    first = clock() + timedelta(seconds=1)
    agent.slots = cues(first, items, item_ms, sha)
    stop = threading.Event()
    runner = threading.Thread(target=agent.run_forever, args=(stop,), daemon=True)
    runner.start()
    time.sleep(1 + items * item_ms / 1000 + 1)
    stop.set()
    runner.join(timeout=60)
    return [(actual - cue.start).total_seconds() * 1000
            for actual, cue in zip(player.starts, agent.slots, strict=False)]


def sleeper_round(items: int, item_ms: int) -> list[float]:
    player = TailPlayer()
    first = clock() + timedelta(seconds=1)
    scheduled = [first + timedelta(milliseconds=n * item_ms) for n in range(items)]
    for at in scheduled:
        wait = (at - clock()).total_seconds()
        if wait > 0:
            time.sleep(wait)
        player.start("x", item_ms, 100)
    return [(actual - at).total_seconds() * 1000 for actual, at in zip(player.starts, scheduled, strict=True)]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def summary(values: list[float]) -> str:
    return (f"p50 {statistics.median(values):7.1f} ms   p99 {percentile(values, 99):7.1f} ms   "
            f"max {max(values):7.1f} ms   (n={len(values)})")


def drift(values: list[float]) -> float:
    """Mean lateness of the last five starts minus that of the first five (ms)."""
    return statistics.mean(values[-5:]) - statistics.mean(values[:5])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--item-ms", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    agent_all: list[float] = []
    sleeper_all: list[float] = []
    drifts: list[float] = []
    with tempfile.TemporaryDirectory(prefix="loaxa-bench-timing-") as tmp:
        for n in range(args.rounds):
            got = agent_round(Path(tmp) / f"box-{n}", args.items, args.item_ms)
            if len(got) < args.items:
                print(f"lần {n + 1}: the agent started only {len(got)} of {args.items} items", file=sys.stderr)
            agent_all += got
            drifts.append(drift(got))
            sleeper_all += sleeper_round(args.items, args.item_ms)
            print(f"lần {n + 1}: agent {summary(got)}  drift {drifts[-1]:+.1f} ms", flush=True)
    print()
    print(f"{args.items} back-to-back items of {args.item_ms} ms × {args.rounds} rounds, player end reported "
          f"{OVERRUN.total_seconds() * 1000:.0f} ms late:")
    print(f"  loaxa agent      {summary(agent_all)}   drift (last 5 − first 5) "
          f"{statistics.mean(drifts):+.1f} ms")
    print(f"  ideal sleeper    {summary(sleeper_all)}")


if __name__ == "__main__":
    main()
