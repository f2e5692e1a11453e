"""Local servers that speak the online engines' protocols, on 127.0.0.1, for the engine tests.

GttsServer answers Google Translate's batchexecute RPC the way translate.google.com does;
EdgeServer speaks the Edge read-aloud websocket protocol (turn.start, audio frames, turn.end).
Both record what they were sent and can be scripted to refuse (HTTP 429, 500).
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from aiohttp import WSMsgType, web


@dataclass
class GttsRequest:
    path: str
    text: str
    language: str


@dataclass
class GttsServer:
    """A stand-in for translate.google.com's TTS RPC; `statuses` is consumed one per request."""

    mp3: bytes
    statuses: list[int] = field(default_factory=list)
    retry_after: str | None = None
    requests: list[GttsRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                rpc = json.loads(parse_qs(body)["f.req"][0])
                text, language, *_ = json.loads(rpc[0][0][1])
                server.requests.append(GttsRequest(self.path, text, language))
                status = server.statuses.pop(0) if server.statuses else 200
                if status != 200:
                    self.send_response(status)
                    if status == 429 and server.retry_after:
                        self.send_header("Retry-After", server.retry_after)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                audio = base64.b64encode(server.mp3).decode()
                payload = (
                    f')]}}\'\n\n{len(audio) + 60}\n[["wrb.fr","jQ1olc","[\\"{audio}\\"]",null,null,null,"generic"]]\n'
                )
                data = payload.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


_SSML_TEXT_RE = re.compile(r"<prosody[^>]*>(.*)</prosody>", re.S)
_SSML_VOICE_RE = re.compile(r"<voice name='([^']*)'>")


@dataclass
class EdgeRequest:
    voice: str
    text: str
    query: str


@dataclass
class EdgeServer:
    """A stand-in for Edge's read-aloud websocket; `handshake_statuses` refuse connections first."""

    mp3: bytes
    handshake_statuses: list[int] = field(default_factory=list)
    requests: list[EdgeRequest] = field(default_factory=list)
    handshakes: int = 0

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_get("/edge/v1", self._handle)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/edge/v1?TrustedClientToken=test"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.handshakes += 1
        if self.handshake_statuses:
            return web.Response(status=self.handshake_statuses.pop(0))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            if message.type != WSMsgType.TEXT or "Path:ssml" not in message.data:
                continue  # speech.config carries nothing to check
            ssml = message.data.split("\r\n\r\n", 1)[1]
            voice = _SSML_VOICE_RE.search(ssml)
            text = _SSML_TEXT_RE.search(ssml)
            self.requests.append(
                EdgeRequest(voice.group(1) if voice else "", text.group(1) if text else "", request.query_string)
            )
            await ws.send_str(
                "X-RequestId:1\r\nContent-Type:application/json; charset=utf-8\r\nPath:turn.start\r\n\r\n{}"
            )
            half = len(self.mp3) // 2
            for piece in (self.mp3[:half], self.mp3[half:]):
                header = b"X-RequestId:1\r\nContent-Type:audio/mpeg\r\nPath:audio\r\n"
                await ws.send_bytes(len(header).to_bytes(2, "big") + header + piece)
            await ws.send_str(
                "X-RequestId:1\r\nContent-Type:application/json; charset=utf-8\r\nPath:turn.end\r\n\r\n{}"
            )
        return ws

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
