"""A local HTTP audio stream for watchdog tests: endless WAV, paced in real time, whose content a test
switches between a tone, silence, a stall and a hang-up, as a failing relay or live source would."""

from __future__ import annotations

import math
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Literal

RATE = 8000
CHUNK_S = 0.1
Mode = Literal["tone", "silence", "stall", "hangup"]


def wav_header(rate: int = RATE) -> bytes:
    """A mono 16-bit WAV header claiming an endless data chunk, as streaming encoders send."""
    size = 0xFFFFFFFF - 36
    return (b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
            + b"data" + struct.pack("<I", size))


def tone_chunk(frequency: float, start: int, frames: int, rate: int = RATE) -> bytes:
    return b"".join(struct.pack("<h", int(12000 * math.sin(2 * math.pi * frequency * (start + i) / rate)))
                    for i in range(frames))


class StreamServer:
    """`url` serves the stream; set `mode` to change what the next chunks carry; `tone_seconds`
    (with mode "hangup") sends that much tone before closing the connection."""

    def __init__(self, mode: Mode = "tone", frequency: float = 1000.0, tone_seconds: float = 1.0) -> None:
        self.mode: Mode = mode
        self.frequency = frequency
        self.tone_seconds = tone_seconds
        self.connections = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
                pass

            def do_GET(self) -> None:
                outer.connections += 1
                self.send_response(200)
                self.send_header("Content-Type", "audio/wav")
                self.end_headers()
                frames = int(RATE * CHUNK_S)
                sent = 0
                silence = b"\0\0" * frames
                try:
                    self.wfile.write(wav_header())
                    while not outer._closed.is_set():
                        mode = outer.mode
                        if mode == "hangup" and sent * CHUNK_S >= outer.tone_seconds:
                            return
                        if mode == "stall":
                            time.sleep(CHUNK_S)
                            continue
                        chunk = silence if mode == "silence" else tone_chunk(outer.frequency, sent * frames, frames)
                        self.wfile.write(chunk)
                        self.wfile.flush()
                        sent += 1
                        time.sleep(CHUNK_S)
                except (BrokenPipeError, ConnectionResetError):
                    return

        self._closed = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/live.wav"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> StreamServer:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._closed.set()
        self._httpd.shutdown()
        self._httpd.server_close()
