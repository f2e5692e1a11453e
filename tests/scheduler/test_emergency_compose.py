"""Words to sound for a warning: an online engine only when it answers within the budget, else espeak-ng;
the start renders exactly what the confirmation rendered."""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "audio"))
sys.path.insert(0, str(Path(__file__).resolve().parent / "delivery"))
from delivery_world import make_mp3  # noqa: E402
from tts_fakes import GttsServer  # noqa: E402

from audio.settings import AudioSettings  # noqa: E402
from scheduler.emergencies import compose  # noqa: E402

WARNING = "Lũ quét tại xã Ia Dêr lúc 17h30. Bà con di dời ngay."


class SlowServer:
    """Accepts the request and answers nothing useful for far longer than the budget."""

    def __init__(self, delay: float) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                time.sleep(delay)
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def test_a_slow_online_engine_is_abandoned_for_the_offline_one(tmp_path: Path) -> None:
    slow = SlowServer(delay=compose.ONLINE_BUDGET_S * 3)
    try:
        settings = AudioSettings(engines=("gtts", "espeak"), gtts_base_url=slow.url)
        composed = compose.render_words(WARNING, "Lũ quét", tmp_path, settings, None)
    finally:
        slow.close()
    assert composed.rendered.engine == "espeak" and composed.rendered.duration_ms > 1000
    assert "mười bảy giờ ba mươi" in composed.spoken


def test_a_quick_online_engine_is_used_and_the_start_repeats_its_render(tmp_path: Path) -> None:
    server = GttsServer(mp3=make_mp3(2.0, 520))
    try:
        settings = AudioSettings(engines=("gtts", "espeak"), gtts_base_url=server.url)
        first = compose.render_words(WARNING, "Lũ quét", tmp_path, settings, None)
        calls = len(server.requests)
        again = compose.render_words(WARNING, "Lũ quét", tmp_path, settings, None, engine=first.rendered.engine)
    finally:
        server.close()
    assert first.rendered.engine == "gtts" and calls >= 1
    assert again.rendered.sha256 == first.rendered.sha256 and len(server.requests) == calls  # a cache hit
    offline = compose.render_words(WARNING, "Lũ quét", tmp_path, replace(settings, engines=("espeak",)), None)
    assert offline.rendered.engine == "espeak"
