"""Bản đồ in a real browser, on a desktop screen and on a 390×844 phone: the stations drawn in their
colours, a popup with last contacts, now playing and today's tally, no sideways scrolling; with no tile
server (a coordinate plot with commune names) and with a local tile server (LOAXA_MAP_TILES). The page
asks nothing of any other host. Screenshots in tests/e2e/artifacts/ (ban-do-*.png)."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from e2e_support import PASSWORD
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import make_server

from scheduler.accounts import hash_password
from scheduler.db.models import User
from scheduler.db.session import transaction
from scheduler.settings import Settings
from tests.e2e.test_emergency_flow import SCREENS, assert_fits
from tests.fake_clock import FakeClock
from tests.scheduler.fleet_world import seed_fleet
from web.app import create_app

pytestmark = pytest.mark.browser

# A 1×1 grey PNG: Leaflet stretches it over the 256 px tile.
TILE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mO4d+/efwAIMAOZh1T9ZQAAAABJRU5ErkJggg=="
)


class TileServer:
    """A tile server on the loopback: answers every /tiles/z/x/y.png and remembers what was asked."""

    def __init__(self) -> None:
        asked: list[str] = []
        self.asked = asked

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                asked.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(TILE)))
                self.end_headers()
                self.wfile.write(TILE)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def tile_server() -> Iterator[TileServer]:
    server = TileServer()
    yield server
    server.close()


def serve(settings: Settings, clock: FakeClock) -> tuple[str, Any, threading.Thread]:
    app = create_app(settings, clock=clock, testing=False)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{server.server_port}", server, thread


def seed(sessions: sessionmaker[Session], clock: FakeClock) -> None:
    with transaction(sessions) as s:
        seed_fleet(s, clock())
        s.add(User(username="quantri", full_name="Quản trị", role="admin", password_hash=hash_password(PASSWORD),
                   created_at=clock()))


def open_map(browser: Any, base: str, screen: str) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport=SCREENS[screen], locale="vi-VN", is_mobile=screen == "dien-thoai")
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/dang-nhap")
    page.fill('input[name="username"]', "quantri")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/ban-do/")
    page.wait_for_load_state("load")
    assert errors == []
    page.wait_for_selector('#fleet-map[data-ready="4"]', state="attached", timeout=10_000)
    return context, page, requested


def check_popup(page: Any, screen: str) -> None:
    from playwright.sync_api import expect

    dot = page.locator('path.station-dot[data-code="A-01"]')
    expect(dot).to_have_count(1)
    assert "st-dang_phat" in (dot.get_attribute("class") or "")
    fill = page.evaluate("getComputedStyle(document.querySelector('path[data-code=\"A-01\"]')).fill")
    assert fill == "rgb(23, 105, 170)", fill  # the "đang phát" blue of loaxa.css
    dot.click(force=True)
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text("Tiếp sóng Đài tỉnh")
    expect(popup).to_contain_text("đã phát 1/3 mục")
    expect(popup).to_contain_text("Báo trạng thái")
    expect(popup.locator("a")).to_have_attribute("href", "/dai/A-01")
    # Once the details are in, Leaflet pans the map until the whole popup shows inside it.
    page.wait_for_function("""() => { const p = document.querySelector('.leaflet-popup').getBoundingClientRect();
        const m = document.getElementById('fleet-map').getBoundingClientRect();
        return p.top >= m.top && p.bottom <= m.bottom && p.left >= m.left && p.right <= m.right; }""")
    box = popup.bounding_box()
    width = SCREENS[screen]["width"]
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_map_without_a_tile_server_is_a_coordinate_plot_with_commune_names(
    browser: Any, settings: Settings, sessions: sessionmaker[Session], clock: FakeClock, artifacts: Path, screen: str
) -> None:
    from playwright.sync_api import expect

    seed(sessions, clock)
    base, server, thread = serve(settings, clock)
    try:
        context, page, requested = open_map(browser, base, screen)
        expect(page.locator("path.station-dot")).to_have_count(4)
        expect(page.locator(".commune-label")).to_have_text(["Xã Chư Pưh", "Xã Ia Dêr"])
        expect(page.locator(".leaflet-tile")).to_have_count(0)
        assert_fits(page, SCREENS[screen]["width"], "/ban-do/")
        page.screenshot(path=str(artifacts / f"ban-do-{screen}-khong-nen.png"), full_page=True)
        check_popup(page, screen)
        assert_fits(page, SCREENS[screen]["width"], "/ban-do/ popup")
        page.screenshot(path=str(artifacts / f"ban-do-{screen}-popup.png"), full_page=False)
        assert [u for u in requested if not u.startswith(base)] == []
        context.close()
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_map_draws_tiles_from_the_configured_server(
    browser: Any, settings: Settings, sessions: sessionmaker[Session], clock: FakeClock, artifacts: Path,
    tile_server: TileServer, screen: str,
) -> None:
    from playwright.sync_api import expect

    seed(sessions, clock)
    tiled = replace(settings, map_tiles=tile_server.url + "/tiles/{z}/{x}/{y}.png", map_attribution="Nền: Sở TT")
    base, server, thread = serve(tiled, clock)
    try:
        context, page, requested = open_map(browser, base, screen)
        expect(page.locator(".leaflet-tile-loaded").first).to_be_visible()
        expect(page.locator(".leaflet-control-attribution")).to_contain_text("Nền: Sở TT")
        assert tile_server.asked and all(p.startswith("/tiles/") and p.endswith(".png") for p in tile_server.asked)
        assert [u for u in requested if not u.startswith((base, tile_server.url))] == []
        check_popup(page, screen)
        assert_fits(page, SCREENS[screen]["width"], "/ban-do/ có nền")
        page.screenshot(path=str(artifacts / f"ban-do-{screen}-co-nen.png"), full_page=True)
        context.close()
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_a_big_fleet_is_drawn_on_one_canvas_on_a_phone(
    browser: Any, settings: Settings, sessions: sessionmaker[Session], clock: FakeClock, artifacts: Path
) -> None:
    """600 more stations: drawn on a canvas (no SVG element per dot), coloured, the page still 390 px wide."""
    from sqlalchemy import select

    from scheduler.db.models import Commune, Station

    seed(sessions, clock)
    with transaction(sessions) as s:
        commune = s.scalars(select(Commune).where(Commune.name == "Xã Chư Pưh")).one()
        s.add_all(Station(code=f"N-{n:03d}", name=f"Cụm loa {n}", commune=commune, status={}, languages="vi",
                          lat=13.0 + (n % 30) * 0.02, lon=107.8 + (n // 30) * 0.02,
                          last_status_at=clock() if n % 3 else None) for n in range(600))
    base, server, thread = serve(settings, clock)
    try:
        context = browser.new_context(viewport=SCREENS["dien-thoai"], locale="vi-VN", is_mobile=True)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{base}/dang-nhap")
        page.fill('input[name="username"]', "quantri")
        page.fill('input[name="password"]', PASSWORD)
        page.click('button[type="submit"]')
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/ban-do/")
        page.wait_for_selector('#fleet-map[data-ready="604"]', state="attached")
        assert errors == []
        assert page.locator("#fleet-map canvas").count() == 1
        assert page.locator("path.station-dot").count() == 0
        # Grey (offline) and green (online) dots really were painted on the canvas.
        painted = page.evaluate("""() => { const c = document.querySelector('#fleet-map canvas');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; const seen = new Set();
            for (let i = 0; i < d.length; i += 4) { if (d[i + 3] > 200) seen.add(d[i] + ',' + d[i + 1] + ',' + d[i + 2]); }
            return Array.from(seen); }""")
        assert any(abs(int(r) - 30) < 12 and abs(int(g) - 122) < 12 for r, g, _ in (p.split(",") for p in painted))
        assert_fits(page, SCREENS["dien-thoai"]["width"], "/ban-do/ 604 đài")
        page.screenshot(path=str(artifacts / "ban-do-dien-thoai-604-dai.png"), full_page=False)
        context.close()
    finally:
        server.shutdown()
        thread.join(timeout=10)
