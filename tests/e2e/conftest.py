"""Browser tests: Debian's Chromium driven by Playwright (from PyPI) against a real daphne and rqworker.

Playwright's bundled browsers are never downloaded: `executable_path` points at the system Chromium
(`make browser-deps` installs it). Each test gets a fresh profile directory, so nothing leaks between tests.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.db import connections
from rest_framework.authtoken.models import Token

from projects.sample_media import make_video

CHROMIUM = os.environ.get("CUTLINE_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
PASSWORD = "correct horse battery"  # tests/factories.py UserFactory
# Set CUTLINE_SCREENSHOTS=docs/screenshots to refresh the README's screenshots while the tests run.
SCREENSHOT_DIR = os.environ.get("CUTLINE_SCREENSHOTS", "")


@pytest.fixture
def api_token(owner) -> str:
    token, _ = Token.objects.get_or_create(user=owner)
    return token.key


@pytest.fixture
def sample_clips(tmp_path) -> list[Path]:
    """Two different generated clips (test pattern with a tone, colour bars with another tone)."""
    folder = tmp_path / "clips"
    folder.mkdir()
    return [
        make_video(folder / "pattern.mp4", seconds=2.0, width=320, height=180, source="testsrc2", tone_hz=440),
        make_video(folder / "bars.mp4", seconds=2.0, width=320, height=180, source="smptebars", tone_hz=660),
    ]


@pytest.fixture
def browser_context(live_server_url, rq_worker, tmp_path, monkeypatch):
    """A fresh headless Chromium profile; yields a Playwright BrowserContext.

    Set up after the server and worker processes (its parameters), so the environment change below
    never reaches them: Playwright's sync API runs an event loop in this thread, and Django would
    otherwise refuse the tests' own ORM calls as "async context".
    """
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; run `make browser-deps` (Debian: apt-get install chromium).")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport=VIEWPORT,
            accept_downloads=True,
            downloads_path=str(tmp_path / "downloads"),
            base_url=live_server_url,
        )
        context.set_default_timeout(20_000)
        try:
            yield context
        finally:
            context.close()
            # ORM calls made while Playwright's loop ran opened their own connections; close them so the
            # test database can be dropped at the end.
            connections.close_all()


@pytest.fixture
def page(browser_context):
    """A page whose console errors and uncaught exceptions fail the test: a person would see them break."""
    page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    page.on("console", lambda message: problems.append(f"console: {message.text}")
            if message.type == "error" and not _expected_console_error(message.text) else None)
    page.problems = problems
    yield page
    assert not problems, problems


def _expected_console_error(text: str) -> bool:
    # Chromium logs every non-2xx fetch and WebSocket failure to the console; the tests that cause them
    # assert on what the page shows instead.
    return "Failed to load resource" in text or "WebSocket connection" in text


def log_in(page, username: str = "owner", password: str = PASSWORD) -> None:
    page.goto("/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Projects").wait_for()


def screenshot(page, name: str) -> None:
    if SCREENSHOT_DIR:
        Path(SCREENSHOT_DIR).mkdir(parents=True, exist_ok=True)
        page.evaluate("document.querySelectorAll('.notice').forEach(n => n.remove())")
        path = Path(SCREENSHOT_DIR) / name
        page.screenshot(path=str(path))
        # 256 colours keep the committed PNGs about a third of the size; the pages are flat colours anyway.
        from PIL import Image

        with Image.open(path) as shot:
            small = shot.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        small.save(path, optimize=True)
