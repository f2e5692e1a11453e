"""Simulated stations for the delivery benchmarks: notice → fetch the manifest → acknowledge it.

    result = run_stations(mqtt_url, tokens, ack_url, start=publish_the_notices, expect=len(tokens))

Four shared-subscription MQTT clients stand in for every station's link (the broker spreads the
notices over them as over stations); each notice goes to a pool of `concurrency` HTTP workers that,
with the notified station's own token, GET the notice's `manifest_url` and POST
{"week", "version"} of the fetched manifest to `ack_url`. `start()` runs in a thread once the
subscriptions are in place (it publishes the notices); the clock runs from just before it until
`expect` distinct stations have been acknowledged. Like a real agent, a station whose request fails
(connection refused or reset, 5xx — a node going away) tries again; a 4xx is recorded and not retried.
With `plays` and `playlog_url`, each station then uploads its play-log batch (`plays(station, manifest)`)
and, like the agent, sends it again until the answer lists every play id as accepted; a station counts
as done once both its ack and its batch are in.

The same client drives a benchmark's fair floor (notices pointing at a static file, acks to a
database-free endpoint) and the real run, so the two differ only in what the server does.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

PROGRAMME_TOPICS = "loaxa/+/+/+/programme"


def add_stations(session: Any, tokens: Mapping[str, str], now: Any) -> list[int]:
    """The simulated stations' rows (code -> API token) in one province of 100 communes, in one INSERT;
    returns their ids in insertion order."""
    from sqlalchemy import insert, select

    from scheduler.accounts import hash_token
    from scheduler.db.models import Commune, Province, Station

    province = Province(name="Gia Lai", policy={})
    session.add(province)
    session.flush()
    communes = [Commune(name=f"Xã {n}", province_id=province.id, policy={}) for n in range(100)]
    session.add_all(communes)
    session.flush()
    session.execute(insert(Station), [
        {"code": code, "name": f"Đài {code}", "commune_id": communes[n % 100].id, "status": {}, "languages": "vi",
         "windows": "", "speakers": 0, "active": True, "token_hash": hash_token(token), "token_issued_at": now}
        for n, (code, token) in enumerate(tokens.items())])
    return [sid for (sid,) in session.execute(select(Station.id).order_by(Station.id))]


@dataclass
class StationsResult:
    seconds: float  # from start() to the `expect`-th acknowledgement (or the timeout)
    acked: set[str] = field(default_factory=set)  # stations whose ack was answered 200
    logged: set[str] = field(default_factory=set)  # stations whose whole play-log batch was accepted
    versions: dict[str, int] = field(default_factory=dict)  # station -> version it acknowledged last
    retries: int = 0  # requests tried again after a connection error or a 5xx
    statuses: Counter[int] = field(default_factory=Counter)  # every HTTP answer, 0 = no answer
    started: Any = None  # what start() returned


class Ears:
    """Wildcard subscribers standing in for every station's MQTT link; `on_message(payload)` per notice."""

    def __init__(self, url: str, topic: str, on_message: Callable[[bytes], object], clients: int = 4) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        from scheduler.wire import parse_mqtt_url

        parsed = parse_mqtt_url(url)
        self.clients = []
        ready = threading.Semaphore(0)
        group = secrets.token_hex(3)
        for n in range(clients):
            client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-ears-{n}-{group}")
            if parsed.username:
                client.username_pw_set(parsed.username, parsed.password)
            # Shared subscription: the broker spreads the notices over the clients like over stations.
            client.on_connect = lambda c, *_: c.subscribe(f"$share/ears{group}/{topic}", qos=1)
            client.on_subscribe = lambda *_: ready.release()
            client.on_message = self._handler(on_message)
            client.connect(parsed.host, parsed.port)
            client.loop_start()
            self.clients.append(client)
        for _ in range(clients):
            if not ready.acquire(timeout=10):
                raise SystemExit("MQTT subscription failed")

    @staticmethod
    def _handler(on_message: Callable[[bytes], object]) -> Callable[[Any, Any, Any], None]:
        def handle(_client: Any, _userdata: Any, message: Any) -> None:
            on_message(bytes(message.payload))

        return handle

    def close(self) -> None:
        for client in self.clients:
            client.disconnect()
            client.loop_stop()


Plays = Callable[[str, dict[str, Any]], list[dict[str, Any]]]


async def _stations(queue: asyncio.Queue[bytes], tokens: Mapping[str, str], ack_url: str, expect: int,
                    concurrency: int, result: StationsResult, all_acked: asyncio.Event,
                    retry_delay: float, plays: Plays | None, playlog_url: str,
                    on_done: Callable[[int], None] | None) -> None:
    import aiohttp

    from scheduler.wire import Notice

    async def call(http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
        while True:
            try:
                async with http.request(method, url, **kwargs) as response:
                    body = await response.json(content_type=None) if response.status == 200 else None
                    result.statuses[response.status] += 1
                    if response.status < 500:
                        return response.status, body
            except (TimeoutError, aiohttp.ClientError, ConnectionError):
                result.statuses[0] += 1
            result.retries += 1
            await asyncio.sleep(retry_delay)

    async def worker(http: aiohttp.ClientSession) -> None:
        while True:
            notice = Notice.from_json(await queue.get())
            headers = {"Authorization": f"Bearer {tokens[notice.station]}"}
            status, manifest = await call(http, "GET", notice.manifest_url, headers=headers)
            if status != 200:
                continue
            status, _ = await call(http, "POST", ack_url, headers=headers,
                                   json={"week": manifest["week"], "version": manifest["version"]})
            if status != 200:
                continue
            result.acked.add(notice.station)
            result.versions[notice.station] = int(manifest["version"])
            done = result.acked
            if plays is not None:
                batch = plays(notice.station, manifest)
                waiting = {p["play_id"] for p in batch}
                while waiting:  # the agent deletes only the rows the server lists as accepted
                    status, answer = await call(http, "POST", playlog_url, headers=headers, json={"plays": batch})
                    if status != 200:
                        break
                    waiting -= set(answer["accepted"])
                if waiting:
                    continue
                result.logged.add(notice.station)
                done = result.logged
            if on_done is not None:
                on_done(len(done))
            if len(done) >= expect:
                all_acked.set()

    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency), timeout=timeout) as http:
        workers = [asyncio.create_task(worker(http)) for _ in range(concurrency)]
        try:
            await all_acked.wait()
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)


def run_stations(mqtt_url: str, tokens: Mapping[str, str], ack_url: str, *, start: Callable[[], Any],
                 expect: int, concurrency: int = 32, topic: str = PROGRAMME_TOPICS, timeout: float = 900,
                 retry_delay: float = 0.5, plays: Plays | None = None, playlog_url: str = "",
                 on_done: Callable[[int], None] | None = None) -> StationsResult:
    """Subscribe as the stations, run `start()` in a thread, and serve notices until `expect` distinct
    stations are done (or `timeout` seconds pass: then `acked` holds fewer). `tokens` maps a station code
    to its API token; `ack_url` is where acknowledgements go. `on_done(n)` runs (in the event loop) each
    time a station is done, n counting them. The stations' event loop runs in a thread of its own, so a
    caller that already has one running (Playwright's sync API in the same test process) does not matter."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="stations") as runner:
        return runner.submit(_run_stations, mqtt_url, tokens, ack_url, start, expect, concurrency, topic, timeout,
                             retry_delay, plays, playlog_url, on_done).result()


def _run_stations(mqtt_url: str, tokens: Mapping[str, str], ack_url: str, start: Callable[[], Any], expect: int,
                  concurrency: int, topic: str, timeout: float, retry_delay: float, plays: Plays | None,
                  playlog_url: str, on_done: Callable[[int], None] | None) -> StationsResult:
    loop = asyncio.new_event_loop()
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    result = StationsResult(seconds=0.0)
    ears = Ears(mqtt_url, topic, lambda payload: loop.call_soon_threadsafe(queue.put_nowait, payload))
    try:
        all_acked = asyncio.Event()
        began = time.perf_counter()
        # Stations start fetching as the first notices land, while the rest are still being published.
        starting = loop.run_in_executor(None, start)
        main = _stations(queue, tokens, ack_url, expect, concurrency, result, all_acked, retry_delay, plays,
                         playlog_url, on_done)
        with_timeout = asyncio.wait_for(main, timeout)
        with contextlib.suppress(TimeoutError):
            loop.run_until_complete(with_timeout)
        result.seconds = time.perf_counter() - began
        result.started = loop.run_until_complete(starting)
    finally:
        ears.close()
        loop.close()
    return result
