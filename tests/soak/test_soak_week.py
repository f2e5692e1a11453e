"""Soak: 1,000 simulated stations against one real server for a simulated week (accelerated clock).

The stations are a light asyncio client that speaks the agent's protocol over real HTTP: conditional
manifest fetches, audio by hash with SHA-256 checks, acknowledgements, and a play-log outbox that
deletes rows only once the server confirms them. Faults are injected on purpose: network outages
of up to a day and a half, power cuts, lost upload answers, batches sent twice, and a mid-week
programme change for 30 % of the stations. At the end every programme must be acknowledged at its
latest version and every scheduled item logged exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import random
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scheduler" / "delivery"))
from delivery_world import add_asset, free_port, make_mp3, wait_port  # noqa: E402

from scheduler.accounts import hash_token  # noqa: E402
from scheduler.db.models import Commune, PlayLog, Programme, ProgrammeItem, Province, Station  # noqa: E402
from scheduler.db.session import transaction  # noqa: E402
from scheduler.settings import Settings  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600),
              pytest.mark.parametrize("backend", ["postgresql"], indirect=True)]

STATIONS = 1000
WEEK, NEXT_WEEK = "2026-W48", "2026-W49"
MONDAY = datetime(2026, 11, 22, 17, 0, tzinfo=UTC)  # Monday 23 Nov 2026, 00:00 in Hà Nội
SESSIONS = (timedelta(hours=5, minutes=30), timedelta(hours=17))  # local offsets from midnight
CHANGE_AT = MONDAY + timedelta(days=2, hours=12)  # Wednesday noon: a new version for some stations
CHANGED_FROM = MONDAY + timedelta(days=4)  # ...changing their items from Friday on
STEP = timedelta(hours=3)  # simulated time advances in steps; plays carry their scheduled instants
VISIT_EVERY = 24  # hours between two visits of a station to the server (so 1/8 of them each step)
CONCURRENCY = 16


class SimClock:
    """Simulated time, mirrored into a file the server process reads as its clock."""

    def __init__(self, now: datetime, file: Path) -> None:
        self.file = file
        self.now = now

    @property
    def now(self) -> datetime:
        return self._now

    @now.setter
    def now(self, value: datetime) -> None:
        self._now = value
        tmp = self.file.with_suffix(".tmp")
        tmp.write_text(value.isoformat())
        tmp.replace(self.file)

    def __call__(self) -> datetime:
        return self._now


@contextlib.contextmanager
def soak_server(settings: Settings, clock: SimClock) -> Iterator[str]:
    """The real app under waitress in its own process (so client and server do not share one GIL)."""
    port = free_port()
    env = {**os.environ, "LOAXA_DATABASE_URL": settings.database_url, "LOAXA_MEDIA_DIR": str(settings.media_dir),
           "LOAXA_DATA_DIR": str(settings.data_dir), "LOAXA_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    env.pop("LOAXA_MQTT_URL", None)
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("soak_server.py")), str(clock.file),
                             str(port)], env=env, cwd=Path(__file__).resolve().parents[2])
    try:
        wait_port(port, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@dataclass
class Item:
    start: datetime
    end: datetime
    sha: str
    item_id: int
    bulletin: str


@dataclass
class SoakStation:
    """What a receiver box keeps: manifests, audio it holds, an outbox, items already handled."""

    code: str
    token: str
    offset: int  # visit phase in steps, spreads the load
    outage: tuple[datetime, datetime] | None = None
    power_off: tuple[datetime, datetime] | None = None
    manifests: dict[str, dict[str, Any]] = field(default_factory=dict)
    etags: dict[str, str] = field(default_factory=dict)
    audio: set[str] = field(default_factory=set)
    acked: dict[str, int] = field(default_factory=dict)
    outbox: dict[str, dict[str, Any]] = field(default_factory=dict)
    handled: set[tuple[str, str]] = field(default_factory=set)
    _parsed: list[Item] = field(default_factory=list)
    _parsed_for: tuple[tuple[str, int], ...] = ()

    def online(self, now: datetime) -> bool:
        return self.outage is None or not self.outage[0] <= now < self.outage[1]

    def powered(self, at: datetime) -> bool:
        return self.power_off is None or not self.power_off[0] <= at < self.power_off[1]

    def items(self) -> list[Item]:
        versions = tuple((week, m["version"]) for week, m in sorted(self.manifests.items()))
        if versions != self._parsed_for:
            found = [Item(datetime.fromisoformat(i["start"]), datetime.fromisoformat(i["end"]), i["sha256"],
                          i["id"], i["bulletin"]) for m in self.manifests.values() for i in m["items"]]
            self._parsed = sorted(found, key=lambda x: x.start)
            self._parsed_for = versions
        return self._parsed


@dataclass
class Faults:
    lost_answers: int = 0
    sent_twice: int = 0
    refused_offline: int = 0
    requests: int = 0


def _seed(sessions: sessionmaker[Session], media_dir: Path, now: datetime) -> tuple[list[SoakStation], list[str]]:
    rng = random.Random(48)
    with transaction(sessions) as s:
        assets = [add_asset(s, media_dir, make_mp3(0.5, 300 + 100 * n), now, 500) for n in range(5)]
        shas = [a.sha256 for a in assets]
        provinces = [Province(name=name, policy={}) for name in ("Gia Lai", "Sóc Trăng")]
        s.add_all(provinces)
        s.flush()
        communes = [Commune(name=f"Xã Số {n}", province_id=provinces[n % 2].id, policy={}) for n in range(40)]
        s.add_all(communes)
        s.flush()
        tokens = [secrets.token_urlsafe(24) for _ in range(STATIONS)]
        s.execute(insert(Station), [
            {"code": f"ST-{n:04d}", "name": f"Cụm loa {n}", "commune_id": communes[n % 40].id, "status": {},
             "token_hash": hash_token(tokens[n]), "token_issued_at": now, "languages": "vi", "windows": "",
             "speakers": 4, "active": True} for n in range(STATIONS)
        ])
        ids = {code: sid for code, sid in s.execute(select(Station.code, Station.id))}
        programmes = []
        for n in range(STATIONS):
            for week in (WEEK, NEXT_WEEK):
                programmes.append({"station_id": ids[f"ST-{n:04d}"], "week": week, "version": 1, "built_at": now,
                                   "content_hash": f"v1-{week}", "notified_version": 0, "acked_version": 0})
        s.execute(insert(Programme), programmes)
        pids = {(sid, week): pid for pid, sid, week in s.execute(select(Programme.id, Programme.station_id,
                                                                      Programme.week))}
        rows = []
        for n in range(STATIONS):
            sid = ids[f"ST-{n:04d}"]
            for day in range(7):
                for session_offset in SESSIONS:
                    for k in range(3):
                        start = MONDAY + timedelta(days=day) + session_offset + timedelta(seconds=3 * k)
                        rows.append(_item_row(pids[(sid, WEEK)], start, shas[(n + k) % 2], k))
            rows.append(_item_row(pids[(sid, NEXT_WEEK)], MONDAY + timedelta(days=7, hours=6), shas[0], 0))
        s.execute(insert(ProgrammeItem), rows)
    stations = []
    for n in range(STATIONS):
        station = SoakStation(f"ST-{n:04d}", tokens[n], offset=n % (VISIT_EVERY // 3))
        if rng.random() < 0.10:  # network down for 6 to 36 hours, starting Monday or Tuesday daytime
            begin = MONDAY + timedelta(hours=rng.randint(8, 40))
            station.outage = (begin, begin + timedelta(hours=rng.randint(6, 36)))
        if rng.random() < 0.03:  # a power cut over Tuesday morning's session
            station.power_off = (MONDAY + timedelta(days=1, hours=4), MONDAY + timedelta(days=1, hours=9))
        stations.append(station)
    return stations, shas


def _item_row(programme_id: int, start: datetime, sha: str, k: int) -> dict[str, Any]:
    return {"programme_id": programme_id, "start": start, "end": start + timedelta(milliseconds=500),
            "kind": "bulletin", "bulletin_code": f"CCHC-{k}", "title": f"Tuyên truyền CCHC số {k}", "topic": "cchc",
            "language": "vi", "priority": "thuong", "audio_sha256": sha, "duration_ms": 500, "locked": False}


def _change_programmes(sessions: sessionmaker[Session], stations: list[SoakStation], new_sha: str,
                       now: datetime) -> set[str]:
    """Version 2 for 30 % of the stations: from Friday on they air the new bulletin instead."""
    changed = {s.code for s in stations if int(s.code[3:]) % 10 < 3}
    with transaction(sessions) as s:
        programmes = s.scalars(select(Programme).join(Station).where(Station.code.in_(changed),
                                                                     Programme.week == WEEK))
        for programme in programmes:
            for item in programme.items:
                if item.start >= CHANGED_FROM:
                    item.audio_sha256, item.bulletin_code = new_sha, "CCHC-MOI"
            programme.version, programme.content_hash, programme.built_at = 2, "v2", now
    return changed


class Client:
    def __init__(self, base: str, http: aiohttp.ClientSession, faults: Faults, rng: random.Random) -> None:
        self.base, self.http, self.faults, self.rng = base, http, faults, rng

    async def get(self, st: SoakStation, path: str, etag: str | None = None) -> tuple[int, str | None, Any]:
        self.faults.requests += 1
        headers = {"Authorization": f"Bearer {st.token}", **({"If-None-Match": etag} if etag else {})}
        async with self.http.get(self.base + path, headers=headers) as response:
            if response.status == 200 and response.content_type == "application/json":
                return 200, response.headers.get("ETag"), await response.json()
            return response.status, response.headers.get("ETag"), await response.read()

    async def post(self, st: SoakStation, path: str, body: Any) -> Any:
        self.faults.requests += 1
        async with self.http.post(self.base + path, json=body, headers={"Authorization": f"Bearer {st.token}"}) as r:
            assert r.status == 200, await r.text()
            return await r.json()

    async def visit(self, st: SoakStation, now: datetime) -> None:
        """Poll, fetch what changed (audio verified by hash), acknowledge, upload the outbox."""
        status, etag, index = await self.get(st, "/api/v1/manifest", st.etags.get("index"))
        if status == 200:
            st.etags["index"] = etag or ""
            for entry in index["weeks"]:
                held = st.manifests.get(entry["week"])
                if held is None or held["version"] != entry["version"]:
                    code, week_etag, body = await self.get(st, f"/api/v1/manifest/{entry['week']}")
                    assert code == 200
                    st.manifests[entry["week"]] = body
        for item in st.items():
            if item.sha not in st.audio and item.end > now:
                code, _, data = await self.get(st, f"/api/v1/audio/{item.sha}.mp3")
                assert code == 200 and hashlib.sha256(data).hexdigest() == item.sha
                st.audio.add(item.sha)
        for week, manifest in st.manifests.items():
            if st.acked.get(week) != manifest["version"]:
                await self.post(st, "/api/v1/ack", {"week": week, "version": manifest["version"]})
                st.acked[week] = manifest["version"]
        await self.upload(st)

    async def upload(self, st: SoakStation) -> None:
        rows = list(st.outbox.values())
        for start in range(0, len(rows), 100):
            batch = {"plays": rows[start : start + 100]}
            answer = await self.post(st, "/api/v1/playlog", batch)
            roll = self.rng.random()
            if roll < 0.05:  # the answer is lost on the way back: rows stay and go again next visit
                self.faults.lost_answers += 1
                continue
            if roll < 0.10:  # a retry races the first answer: the same batch goes twice
                self.faults.sent_twice += 1
                answer = await self.post(st, "/api/v1/playlog", batch)
            for play_id in answer["accepted"]:
                st.outbox.pop(play_id, None)


def play_due(st: SoakStation, now: datetime) -> None:
    """Air (or log as missed) every item whose time has come; one outbox row per item."""
    for item in st.items():
        if item.start > now:
            break
        key = (item.start.isoformat(), item.sha)
        if key in st.handled:
            continue
        st.handled.add(key)
        aired = st.powered(item.start) and item.sha in st.audio
        play_id = uuid.uuid4().hex
        st.outbox[play_id] = {
            "play_id": play_id, "item_id": item.item_id, "week": WEEK, "kind": "bulletin", "bulletin": item.bulletin,
            "scheduled_start": item.start.isoformat(), "scheduled_ms": 500,
            "actual_start": item.start.isoformat(),
            "actual_end": (item.end if aired else item.start).isoformat(),
            "played_ms": 500 if aired else 0, "result": "played" if aired else "skipped",
            "reason": "" if aired else "Không phát được: đầu thu không hoạt động (mất điện).",
        }


async def simulate(base: str, stations: list[SoakStation], clock: SimClock, on_change: Any) -> Faults:
    faults, rng = Faults(), random.Random(7)
    limit = asyncio.Semaphore(CONCURRENCY)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as http:
        client = Client(base, http, faults, rng)

        async def visit(st: SoakStation) -> None:
            async with limit:
                await client.visit(st, clock.now)

        hour = 0
        changed = False
        while clock.now < MONDAY + timedelta(days=7):
            if not changed and clock.now >= CHANGE_AT:
                on_change(clock.now)
                changed = True
            for st in stations:
                play_due(st, clock.now)
            due = [st for st in stations if (hour == 0 or (hour // 3) % (VISIT_EVERY // 3) == st.offset)]
            reachable = [st for st in due if st.online(clock.now)]
            faults.refused_offline += len(due) - len(reachable)
            await asyncio.gather(*(visit(st) for st in reachable))
            clock.now += STEP
            hour += 3
        for st in stations:  # the week is over; everyone is back online and reports in
            play_due(st, clock.now)
        for _ in range(10):  # lost answers leave rows behind: they go again until confirmed
            await asyncio.gather(*(visit(st) for st in stations if st.outbox))
    return faults


def test_a_simulated_week_delivers_every_programme_and_logs_every_play_exactly_once(
        settings: Settings, sessions: sessionmaker[Session], media_dir: Path) -> None:
    clock = SimClock(MONDAY, settings.data_dir / "soak-clock.txt")
    stations, shas = _seed(sessions, media_dir, clock.now)
    with transaction(sessions) as s:
        new_sha = add_asset(s, media_dir, make_mp3(0.5, 999), clock.now, 500).sha256
    changed: set[str] = set()

    def on_change(now: datetime) -> None:
        changed.update(_change_programmes(sessions, stations, new_sha, now))

    # The simulation runs in a thread of its own: another suite's fixture (Playwright's sync API)
    # may keep an event loop running in the main thread for the whole session.
    with soak_server(settings, clock) as url, ThreadPoolExecutor(max_workers=1) as pool:
        faults = pool.submit(asyncio.run, simulate(url, stations, clock, on_change)).result()

    print(f"soak: {faults.requests} requests, {faults.lost_answers} lost answers, {faults.sent_twice} batches "
          f"sent twice, {faults.refused_offline} visits missed offline")
    assert faults.lost_answers > 0 and faults.sent_twice > 0 and faults.refused_offline > 0  # faults happened
    assert all(not st.outbox for st in stations)
    with sessions() as s:
        programmes = list(s.execute(select(Station.code, Programme.week, Programme.version, Programme.acked_version)
                                    .join(Station)))
        assert len(programmes) == 2 * STATIONS
        assert all(acked == version for _, _, version, acked in programmes)
        assert {code for code, week, version, _ in programmes if week == WEEK and version == 2} == changed
        expected = {tuple(r) for r in s.execute(
            select(Station.code, ProgrammeItem.start, ProgrammeItem.bulletin_code)
            .join(Programme, ProgrammeItem.programme_id == Programme.id).join(Station)
            .where(Programme.week == WEEK))}
        logged = [tuple(r) for r in s.execute(select(PlayLog.station_code, PlayLog.scheduled_start,
                                                     PlayLog.bulletin_code))]
        assert len(logged) == len(set(logged)) == len(expected) == STATIONS * 42  # each item once, none twice
        assert set(logged) == expected  # changed stations aired the new bulletin from Friday
        skipped = s.scalar(select(func.count()).select_from(PlayLog).where(PlayLog.result == "skipped"))
        powered_off = sum(1 for st in stations if st.power_off)
        assert skipped == powered_off * 3  # Tuesday morning's session, three items each
