"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Chromium comes from the distribution (`scripts/ensure_browser.sh`, run by `make test`), never
from `playwright install`.
"""

import os
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
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
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# Playwright's sync API keeps an event loop in this thread; the tests' ORM calls are still plain
# synchronous code, so Django's guard against ORM use from async code does not apply.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure_browser.sh (make test does).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser, live_server):
    """`open_page(viewport=..., user=...)` → a fresh page on the live server; a JavaScript error on
    it fails the test."""
    contexts, errors = [], []

    def make(viewport=DESKTOP, user=None, **options):
        context = browser.new_context(base_url=live_server.url, viewport=viewport, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        if user is not None:
            context.add_cookies([session_cookie(user, live_server.url)])
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(error))
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def page(open_page):
    return open_page()


def session_cookie(user, url):
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": url,
    }


def eventually(check, timeout=10.0, page=None):
    """Wait until `check()` is truthy (the browser works on its own clock); its last value.
    With `page`, the wait lets Playwright deliver the page's events meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        if page is not None:
            page.wait_for_timeout(50)
        else:
            time.sleep(0.05)


class PlayEdge(SimpleHTTPRequestHandler):
    """A stand-in play domain: every `*.m3u8` is the test pattern's playlist."""

    def translate_path(self, path):
        name = path.split("?")[0].rsplit("/", 1)[-1]
        return str(Path(self.directory) / ("stream.m3u8" if name.endswith(".m3u8") else name))

    def end_headers(self):
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def play_edge(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(PlayEdge, directory=Path(__file__).parent / "hls"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.TENCENT_LIVE_PLAY_DOMAIN = f"127.0.0.1:{server.server_port}"
    settings.TENCENT_LIVE_PLAY_SCHEME = "http"
    yield
    server.shutdown()
    server.server_close()
