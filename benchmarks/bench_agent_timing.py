"""Agent timing: does every item start on the clock — back to back, with real players, and relays?

The real `Agent` (threaded `run_forever`, its store, its cache) plays runs of items; each run is
repeated, interleaved round by round, by an ideal sleeper: one thread that sleeps until each
scheduled start and starts the same player — the floor a Python thread gets on this machine.

1. Back-to-back file items, null player whose end is reported 150 ms after the audio's length (as a
   real player's start-up and tail do). Latency = when the player was told to start − scheduled start.
2. The same with the real players (mpv, ffplay) where installed; a missing one is skipped with a
   message (scripts/install-players.sh installs them). Their sound output goes into a FIFO read here
   (mpv: `ao=pcm` through an MPV_HOME config; ffplay: SDL's `disk` driver), so latency is measured
   to the first audible sample the player produced after the call that started it (|sample| > 8000
   of 32767 for the files' tone), and separately to that call. Two sleepers: one starting the player
   at each start (as the agent did before it prepared players) and one preparing it 2 s ahead as the
   agent does.
3. Relays: file items alternate with relay items of a live mount on a private Icecast
   (scripts/icecast.sh, fed by ffmpeg in real time, a quieter tone: |sample| > 1000), with mpv (sound)
   or the null player. The player is prepared for a relay as for a file, STREAM_AHEAD (4 s) before it
   (mpv joins the stream paused; FIFO players join at the start). RELAY_MIN_LEFT (a relay is joined
   late only while 30 s are left) is set to 0 here so that 5 s relays can be used.

Usage: python benchmarks/bench_agent_timing.py [--rounds 3] [--items 20] [--item-ms 400]
           [--players null,mpv,ffplay] [--player-items 8] [--player-item-ms 2500] [--relays 5]
Figures: docs/benchmarks.md ("Agent timing"). Target: p99 ≤ 100 ms, no drift.
"""

from __future__ import annotations

import argparse
import array
import contextlib
import hashlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from audio.ffmpeg import ffmpeg_exe  # noqa: E402
from scheduler.agent import agent as agent_module  # noqa: E402
from scheduler.agent import timeline  # noqa: E402
from scheduler.agent.agent import PREPARE_AHEAD, Agent, AgentConfig  # noqa: E402
from scheduler.agent.players import NullPlayer, Player, PlayerStatus, make_player  # noqa: E402
from scheduler.agent.timeline import Cue, item_key  # noqa: E402

OVERRUN = timedelta(milliseconds=150)
STREAM_AHEAD = getattr(agent_module, "STREAM_AHEAD", PREPARE_AHEAD)  # (an agent before relays were made ready earlier)
RELAY_FILE_MS, RELAY_MS = 5000, 5000  # the file at least STREAM_AHEAD: the relay is made ready while it plays
LOUD = 1000  # the relay's tone peaks at about 4,000
FILE_LOUD = 8000  # the files' tone at about 16,000: a relay's last chunk read late is not taken for a file
VOLUME = 100


def clock() -> datetime:
    return datetime.now(UTC)


class TailPlayer(NullPlayer):
    """Reports its end OVERRUN after the audio's length."""

    def __init__(self) -> None:
        super().__init__(clock)

    def poll(self) -> PlayerStatus:
        if self.until is not None and clock() < self.until + OVERRUN:
            return PlayerStatus("playing")
        return super().poll()


class Recorder:
    """Any player, with the instant each start() was called."""

    def __init__(self, inner: Player) -> None:
        self.inner = inner
        self.name = inner.name
        self.starts: list[datetime] = []

    def prepare(self, source: str, volume: int) -> None:
        self.inner.prepare(source, volume)

    def cancel(self) -> None:
        self.inner.cancel()

    def start(self, source: str, duration_ms: int, volume: int) -> None:
        self.starts.append(clock())
        self.inner.start(source, duration_ms, volume)

    def poll(self) -> PlayerStatus:
        return self.inner.poll()

    def stop(self) -> None:
        self.inner.stop()


class Ear:
    """Reads the players' sound output from a FIFO and notes when each audible chunk came out. Several
    players may hold it open at once (a paused player waits while the one before it plays)."""

    def __init__(self, fifo: Path) -> None:
        self.fifo = fifo
        os.mkfifo(fifo)
        self.loud: list[tuple[datetime, int]] = []  # (read at, its loudest sample)
        self._done = False
        threading.Thread(target=self._listen, daemon=True).start()

    def _listen(self) -> None:
        while not self._done:
            with open(self.fifo, "rb", buffering=0) as out:  # blocks until a player opens it
                rest = b""
                while chunk := out.read(65536):
                    data, rest = rest + chunk, b""
                    if len(data) % 2:
                        data, rest = data[:-1], data[-1:]
                    samples = array.array("h", data)
                    if samples and (peak := max(max(samples), -min(samples))) > LOUD:
                        self.loud.append((clock(), peak))

    def close(self) -> None:
        self._done = True
        with contextlib.suppress(OSError):
            os.close(os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK))

    def heard_after(self, calls: list[datetime], items: list[Item]) -> list[datetime | None]:
        """For each start call, the first sound as loud as its item's after it (before the next call)."""
        out: list[datetime | None] = []
        for n, (call, item) in enumerate(zip(calls, items, strict=False)):
            until = calls[n + 1] if n + 1 < len(calls) else None
            floor = LOUD if item.relay else FILE_LOUD
            found = [at for at, peak in self.loud if at >= call and (until is None or at < until) and peak > floor]
            out.append(found[0] if found else None)
        return out


@dataclass
class Item:
    at: datetime
    ms: int
    source: str  # a file path, or a stream URL (relay)

    @property
    def relay(self) -> bool:
        return self.source.startswith("http")


@dataclass
class Result:
    calls: list[float] = field(default_factory=list)
    heard: list[float] = field(default_factory=list)
    missing: int = 0
    drifts: list[float] = field(default_factory=list)


def lateness(items: list[Item], at: list[datetime | None], keep: str) -> tuple[list[float], int]:
    out, missing = [], 0
    for item, got in zip(items, at, strict=False):
        if keep == "relay" and not item.relay or keep == "file" and item.relay:
            continue
        if got is None:
            missing += 1
        else:
            out.append((got - item.at).total_seconds() * 1000)
    return out, missing + max(0, len(items) - len(at))


def record(result: Result, items: list[Item], player: Recorder, ear: Ear | None, keep: str) -> None:
    calls, missing = lateness(items, list(player.starts), keep)
    result.calls += calls
    if ear is not None:
        heard, missing = lateness(items, ear.heard_after(player.starts, items), keep)
        result.heard += heard
    result.missing += missing
    if len(calls) >= 10:
        result.drifts.append(drift(calls))


def cue(item: Item, sha: str, n: int) -> Cue:
    end = item.at + timedelta(milliseconds=item.ms)
    if item.relay:
        return Cue(key=item_key(item.at, None, item.source, "relay"), start=item.at, end=end, kind="relay",
                   week="2026-W49", title=f"Tiếp sóng {n}", stream_url=item.source)
    return Cue(key=item_key(item.at, sha, None, "bulletin"), start=item.at, end=end, kind="bulletin",
               week="2026-W49", title=f"Mục {n}", sha256=sha, duration_ms=item.ms)


def agent_round(work: Path, player: Recorder, audio: Path, plan: list[tuple[int, str | None]]) -> list[Item]:
    """The real agent plays `plan` (length in ms, relay URL or None for the file) from 2.5 s from now."""
    payload = audio.read_bytes()
    sha = hashlib.sha256(payload).hexdigest()
    agent = Agent(AgentConfig(server="http://127.0.0.1:9", station="BENCH-01", token="t", cache_dir=work, mqtt=False,
                              default_volume=VOLUME), clock=clock, player=player)
    agent.cache.path(sha).parent.mkdir(parents=True, exist_ok=True)
    agent.cache.path(sha).write_bytes(payload)
    items = schedule(plan, str(agent.cache.path(sha)))
    agent.slots = [cue(item, sha, n) for n, item in enumerate(items)]
    stop = threading.Event()
    runner = threading.Thread(target=agent.run_forever, args=(stop,), daemon=True)
    runner.start()
    wait_until(items[-1].at + timedelta(milliseconds=items[-1].ms + 1500))
    stop.set()
    runner.join(timeout=60)
    return items


def sleeper_round(player: Recorder, audio: Path, plan: list[tuple[int, str | None]], prepare: bool) -> list[Item]:
    items = schedule(plan, str(audio))
    if prepare:
        player.prepare(items[0].source, VOLUME)  # as the agent does, PREPARE_AHEAD or more before
    for n, item in enumerate(items):
        nxt = items[n + 1] if n + 1 < len(items) else None
        wait_until(item.at)
        player.start(item.source, item.ms, VOLUME)
        if prepare and nxt is not None:
            wait_until(nxt.at - (STREAM_AHEAD if nxt.relay else PREPARE_AHEAD))
            player.prepare(nxt.source, VOLUME)
    wait_until(items[-1].at + timedelta(milliseconds=items[-1].ms + 1500))
    player.stop()
    return items


def schedule(plan: list[tuple[int, str | None]], file: str) -> list[Item]:
    at = clock() + PREPARE_AHEAD + timedelta(milliseconds=500)
    items = []
    for ms, url in plan:
        items.append(Item(at, ms, url or file))
        at += timedelta(milliseconds=ms)
    return items


def wait_until(at: datetime) -> None:
    wait = (at - clock()).total_seconds()
    if wait > 0:
        time.sleep(wait)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def summary(values: list[float]) -> str:
    if not values:
        return "(no starts)"
    return (f"p50 {statistics.median(values):7.1f} ms   p99 {percentile(values, 99):7.1f} ms   "
            f"max {max(values):7.1f} ms   (n={len(values)})")


def drift(values: list[float]) -> float:
    """Mean lateness of the last five starts minus that of the first five (ms)."""
    return statistics.mean(values[-5:]) - statistics.mean(values[:5])


def report(name: str, result: Result, sound: bool) -> None:
    tail = f"   drift {statistics.mean(result.drifts):+.1f} ms" if result.drifts else ""
    tail += f"   MISSING {result.missing}" if result.missing else ""
    print(f"  {name:38} told to start: {summary(result.calls)}{tail if not sound else ''}")
    if sound:
        print(f"  {'':38} first sound:   {summary(result.heard)}{tail}")


def make_audio(work: Path, ms: int) -> Path:
    work.mkdir()
    path = work / "tone.mp3"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=frequency=440:duration={ms / 1000}",
                    "-af", "volume=4", "-c:a", "libmp3lame", "-b:a", "64k", str(path)], check=True)
    return path


def real_players(names: list[str], work: Path) -> dict[str, Ear]:
    """Route each installed player's sound into a FIFO of its own; skip (and say so) the missing ones."""
    ears: dict[str, Ear] = {}
    for name in names:
        if name == "null":
            continue
        if shutil.which(name) is None:
            print(f"{name}: not installed on this machine, skipped (scripts/install-players.sh {name}).")
            continue
        ear = Ear(work / f"{name}.pcm")
        if name == "mpv":
            home = work / "mpv-home"
            home.mkdir()
            (home / "mpv.conf").write_text(f"ao=pcm\nao-pcm-file={ear.fifo}\nao-pcm-waveheader=no\naudio-format=s16\n")
            os.environ["MPV_HOME"] = str(home)
        elif name == "ffplay":
            os.environ["SDL_AUDIODRIVER"] = "disk"
            os.environ["SDL_DISKAUDIOFILE"] = str(ear.fifo)
        else:
            print(f"{name}: no way to hear it here, skipped.")
            continue
        ears[name] = ear
    return ears


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def icecast_mount(work: Path) -> Iterator[str | None]:
    """A private Icecast with a live MP3 mount fed in real time; None (with a message) if it cannot run."""
    if not (shutil.which("icecast2") or shutil.which("icecast")):
        print("Relays: Icecast is not installed, skipped (scripts/icecast.sh install).")
        yield None
        return
    port, password, home = free_port(), "bench-" + os.urandom(4).hex(), work / "icecast"
    script = [str(ROOT / "scripts" / "icecast.sh")]
    args = ["--port", str(port), "--dir", str(home), "--password", password]
    subprocess.run([*script, "start", *args], check=True, stdout=subprocess.DEVNULL)
    source = None
    try:
        url = f"http://127.0.0.1:{port}/relay.mp3"
        source = subprocess.Popen([ffmpeg_exe(), "-v", "error", "-re", "-f", "lavfi", "-i", "sine=frequency=550",
                                   "-af", "volume=1", "-c:a", "libmp3lame", "-b:a", "64k", "-flush_packets", "1",
                                   "-content_type", "audio/mpeg", "-f", "mp3",
                                   f"icecast://source:{password}@127.0.0.1:{port}/relay.mp3"], stdin=subprocess.DEVNULL)
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /relay.mp3 HTTP/1.0\r\n\r\n")
                if b" 200 " in s.recv(64):
                    break
            time.sleep(0.1)
        else:
            print("Relays: the Icecast mount never came up, skipped.")
            yield None
            return
        yield url
    finally:
        if source is not None:
            source.terminate()
            source.wait(timeout=10)
        subprocess.run([*script, "stop", *args], check=False)


def player_for(name: str) -> Recorder:
    return Recorder(TailPlayer() if name == "null" else make_player(name, clock))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--item-ms", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--players", default="null,mpv,ffplay")
    parser.add_argument("--player-items", type=int, default=8, help="back-to-back items per round, real players")
    parser.add_argument("--player-item-ms", type=int, default=2500,
                        help="their length: at least PREPARE_AHEAD + 0.5 s, as real items are")
    parser.add_argument("--relays", type=int, default=5, help="relay items per round (0: none)")
    args = parser.parse_args()
    names = [n.strip() for n in args.players.split(",") if n.strip()]
    timeline.RELAY_MIN_LEFT = timedelta(0)
    with tempfile.TemporaryDirectory(prefix="loaxa-bench-timing-") as tmp:
        work = Path(tmp)
        ears = real_players(names, work)
        players = [n for n in names if n == "null" or n in ears]
        audio = make_audio(work / "null", args.item_ms)
        player_audio = make_audio(work / "players", args.player_item_ms)
        relay_audio = make_audio(work / "relay-file", RELAY_FILE_MS)
        results: dict[str, Result] = {}
        with icecast_mount(work) if args.relays else contextlib.nullcontext(None) as url:
            relay_plan: list[tuple[int, str | None]] = []
            for _ in range(args.relays if url else 0):
                relay_plan += [(RELAY_FILE_MS, None), (RELAY_MS, url)]
            relay_players = [n for n in ("mpv", "null") if n in players][:1] if url else []
            for r in range(args.rounds):
                for name in players:
                    ear = ears.get(name)
                    runs = [("agent", None), ("ideal sleeper, prepared 2 s ahead", True)]
                    if name != "null":
                        runs.append(("ideal sleeper, started at its time", False))
                    file = audio if name == "null" else player_audio
                    plan: list[tuple[int, str | None]] = (
                        [(args.item_ms, None)] * args.items if name == "null"
                        else [(args.player_item_ms, None)] * args.player_items)
                    for label, prepare in runs:
                        player = player_for(name)
                        if prepare is None:
                            items = agent_round(work / f"box-{name}-{r}", player, file, plan)
                        else:
                            items = sleeper_round(player, file, plan, prepare)
                        time.sleep(0.5)  # the last player's output closes
                        result = results.setdefault(f"{name}: {label}", Result())
                        record(result, items, player, ear, "all")
                    print(f"round {r + 1}: {name} done", flush=True)
                for name in relay_players:
                    ear = ears.get(name)
                    for label, prepare in (("agent", None), ("ideal sleeper", True)):
                        player = player_for(name)
                        if prepare is None:
                            items = agent_round(work / f"relay-{name}-{r}", player, relay_audio, relay_plan)
                        else:
                            items = sleeper_round(player, relay_audio, relay_plan, True)
                        time.sleep(0.5)
                        record(results.setdefault(f"relays, {name}: {label}", Result()), items, player, ear, "relay")
                        record(results.setdefault(f"files between relays, {name}: {label}", Result()), items,
                               player, ear, "file")
                    print(f"round {r + 1}: relays ({name}) done", flush=True)
        for ear in ears.values():
            ear.close()
    print()
    print(f"{args.rounds} rounds. Null player: {args.items} back-to-back items of {args.item_ms} ms, end reported "
          f"{OVERRUN.total_seconds() * 1000:.0f} ms late; real players: {args.player_items} of "
          f"{args.player_item_ms} ms; relays: {args.relays} × ({RELAY_FILE_MS} ms file, {RELAY_MS} ms relay). "
          "Lateness = actual − scheduled:")
    for name, result in results.items():
        report(name, result, sound=not name.split(":")[0].endswith("null") and "null" not in name)


if __name__ == "__main__":
    main()
