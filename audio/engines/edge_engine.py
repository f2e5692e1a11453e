"""Edge TTS neural voices (optional extra `loaxa[edge]`): Vietnamese HoaiMy/NamMinh, Khmer Sreymom/Piseth.

edge-tts builds its websocket URL from the module constant `edge_tts.communicate.WSS_URL`; when
settings.edge_url is set (tests: a local websocket server) that constant is swapped for the
duration of the request, under a lock, and restored.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from audio.engines.online import OnlineEngine, parse_retry_after
from audio.errors import EngineUnavailable
from audio.segment import AudioSegment

DEFAULT_VOICES: dict[str, str] = {"vi": "vi-VN-HoaiMyNeural", "km": "km-KH-SreymomNeural"}
MIN_INTERVAL_S = 0.3
MAX_CHUNK_CHARS = 300
DECODE_RATE = 24000
RECEIVE_TIMEOUT_FACTOR = 3  # synthesis of a long chunk takes longer than a connect

_url_lock = threading.Lock()


def _import_edge() -> Any:
    try:
        import edge_tts.communicate
    except ImportError as exc:
        raise EngineUnavailable(
            "Chưa cài edge-tts. Hãy cài: pip install 'loaxa[edge]'.",
            engine="edge",
            reason="chưa cài gói edge-tts",
        ) from exc
    return edge_tts.communicate


def _run(coro_factory: Any) -> Any:
    """Run a coroutine to completion from sync code, even when the caller is inside an event loop."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro_factory()).result()


class EdgeEngine(OnlineEngine):
    name = "edge"
    label = "Edge TTS"
    max_chunk_chars = MAX_CHUNK_CHARS
    min_interval_s = MIN_INTERVAL_S
    decode_rate = DECODE_RATE

    @property
    def url(self) -> str | None:
        return self.settings.edge_url

    def service_host(self) -> str:
        return urlsplit(self.url).netloc if self.url else "speech.platform.bing.com"

    def supports(self, language: str) -> bool:
        return language in DEFAULT_VOICES

    def voice_for(self, language: str) -> str:
        override = self.settings.voices.get(self.name)
        if override and override.split("-")[0] == language:
            return override
        return DEFAULT_VOICES.get(language, "")

    def synthesize(self, chunks: Sequence[str], language: str, voice: str) -> AudioSegment:
        communicate = _import_edge()
        return self.join_fetched(self._fetch(communicate, chunk, voice) for chunk in chunks)

    def _fetch(self, communicate: Any, chunk: str, voice: str) -> bytes:
        import aiohttp

        for retry_index in range(self.retry.attempts):
            self.throttle.wait()
            try:
                return self._fetch_once(communicate, chunk, voice)
            except aiohttp.WSServerHandshakeError as exc:
                if exc.status == 429 and retry_index + 1 < self.retry.attempts:
                    after = parse_retry_after(exc.headers.get("Retry-After") if exc.headers else None)
                    self._sleep(self.retry.delay(retry_index, after))
                    continue
                if exc.status == 429:
                    raise self.unavailable(
                        f"máy chủ {self.host} từ chối vì quá nhiều yêu cầu (HTTP 429) sau "
                        f"{self.retry.attempts} lần thử; hãy thử lại sau ít phút"
                    ) from exc
                raise self.unavailable(f"máy chủ {self.host} trả lỗi HTTP {exc.status}") from exc
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                raise self.unavailable(
                    f"không kết nối được máy chủ {self.host} ({type(exc).__name__}); hãy kiểm tra kết nối Internet"
                ) from exc
            except Exception as exc:  # edge_tts' own protocol errors (NoAudioReceived, ...)
                if type(exc).__module__.startswith("edge_tts"):
                    raise self.unavailable(f"máy chủ {self.host} trả lời sai giao thức ({exc})") from exc
                raise
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _fetch_once(self, communicate: Any, chunk: str, voice: str) -> bytes:
        timeout = max(1, math.ceil(self.settings.http_timeout_s))

        async def collect() -> bytes:
            comm = communicate.Communicate(
                chunk, voice, connect_timeout=timeout, receive_timeout=timeout * RECEIVE_TIMEOUT_FACTOR
            )
            audio = bytearray()
            async for message in comm.stream():
                if message["type"] == "audio":
                    audio += message["data"]
            return bytes(audio)

        if not self.url:
            return bytes(_run(collect))
        # edge-tts appends "&ConnectionId=..." to its URL, so ours must already carry a query.
        url = self.url if "?" in self.url else f"{self.url}?"
        with _url_lock:
            original = communicate.WSS_URL
            communicate.WSS_URL = url
            try:
                return bytes(_run(collect))
            finally:
                communicate.WSS_URL = original
