"""Browser tests: the real app served on 127.0.0.1, driven by headless Debian Chromium through Playwright.

Chromium comes from Debian (scripts/install-browser.sh), never from Playwright's own download.
If it cannot be found, the tests are skipped with a loud reason — nothing else skips them.
Screenshots land in tests/e2e/artifacts/ (the path is printed).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from e2e_support import PASSWORD, TONE_HZ, Seeded
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import make_server

from scheduler.accounts import hash_password
from scheduler.db.models import Commune, Province, Station, User
from scheduler.db.session import transaction
from scheduler.settings import Settings
from tests.tone import write_tone_wav
from web.app import create_app

CHROMIUM = os.environ.get("LOAXA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).with_name("artifacts")
USERS = {"quantri": "admin", "bientap": "editor", "duyet": "approver"}


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """The browser flow runs on SQLite only; the page tests cover PostgreSQL."""
    return str(request.param)


def _chromium_or_skip() -> str:
    path = shutil.which(CHROMIUM) or (CHROMIUM if Path(CHROMIUM).is_file() else None)
    if path is None:
        message = (
            f"!!! BROWSER TESTS SKIPPED: no Chromium at {CHROMIUM}. Run scripts/install-browser.sh "
            "(apt-get install chromium) to run them. !!!"
        )
        print("\n" + message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Any]:
    """One Playwright driver per run: its sync API refuses a second driver in the same thread."""
    _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_driver: Any) -> Iterator[Any]:
    path = _chromium_or_skip()
    browser = playwright_driver.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    print(f"\nẢnh chụp màn hình (screenshots): {ARTIFACTS}")
    return ARTIFACTS


@pytest.fixture
def seeded(sessions: sessionmaker[Session], clock: Callable[[], datetime]) -> Seeded:
    now = clock()
    digest = hash_password(PASSWORD)
    with transaction(sessions) as s:
        province = Province(name="Gia Lai", policy={}, default_windows="T2-CN 05:30-06:30; T2-CN 17:00-18:00")
        s.add(province)
        s.flush()
        commune = Commune(province_id=province.id, name="Xã Ia Dêr", policy={})
        other = Commune(province_id=province.id, name="Xã Chư Pưh", policy={})
        s.add_all([commune, other])
        s.flush()
        for code, name, where in (
            ("IADER-01", "Cụm loa thôn Plei Ia Dêr", commune),
            ("IADER-02", "Cụm loa làng Bông", commune),
            ("CHUPUH-01", "Cụm loa trung tâm Chư Pưh", other),
        ):
            s.add(Station(code=code, name=name, commune=where, languages="vi", status={}, last_status_at=now))
        for username, role in USERS.items():
            s.add(
                User(
                    username=username, full_name=username.capitalize(), role=role, password_hash=digest, created_at=now
                )
            )
        s.flush()
        return Seeded(commune_id=commune.id)


@pytest.fixture
def live_server(settings: Settings, clock: Callable[[], datetime], seeded: Seeded) -> Iterator[str]:
    """The app (CSRF on, as in production) on a free loopback port, in a background thread."""
    app = create_app(settings, clock=clock, testing=False)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def mic_browser(tmp_path: Path, playwright_driver: Any) -> Iterator[Any]:
    """Chromium whose microphone says a TONE_HZ tone (a looped WAV) and which never asks for permission."""
    path = _chromium_or_skip()
    tone = write_tone_wav(tmp_path / "tone.wav", TONE_HZ, 2.0)
    args = [*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={tone}"]
    browser = playwright_driver.chromium.launch(executable_path=path, args=args, headless=True)
    yield browser
    browser.close()
