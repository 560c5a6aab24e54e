"""Hotline's pages in a real browser: Debian's headless Chromium, driven by Playwright,
looks at a live Hotline (the test app, served over HTTP on loopback) while the phone
simulator drives calls in-process against the same app and database.

Where ``/usr/bin/chromium`` is missing these tests skip, saying how to install it;
under ``CI=true`` (where ``.ci/run`` installs it) a missing browser fails them.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Locator, Page, Playwright, expect, sync_playwright
from werkzeug.serving import make_server

from tests.needs import missing

CHROMIUM = Path("/usr/bin/chromium")
# The system browser as a quiet, headless robot: never a download, an update or a sync.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# What an agent would notice within a few polls of /desk/state (about one a second).
WAIT_MS = 10_000


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite only: the browser sees what the app does, whatever the database."""
    path = tmp_path / "hotline.db"
    path.write_bytes(sqlite_template.read_bytes())
    return f"sqlite:///{path}"


@pytest.fixture
def live(app: Flask) -> Iterator[str]:
    """The app served on a free loopback port, in a thread; its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        reason = (
            f"the browser tests need Debian's chromium at {CHROMIUM}: "
            "apt-get install chromium (.ci/run installs it)"
        )
        missing(reason)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """One browser for the session (never ``playwright install``: the system's own)."""
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
    )
    expect.set_options(timeout=WAIT_MS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser, live: str) -> Iterator[Page]:
    """A fresh page, with cookies of its own, on the live Hotline (``page.goto("/desk")``)."""
    context = browser.new_context(base_url=live)
    context.set_default_timeout(WAIT_MS)
    yield context.new_page()
    context.close()


def fill_login(page: Page, path: str, name_field: str, name: str, password: str) -> None:
    """Fill in and send a sign-in form (``form#login`` at ``path``), as a person would."""
    page.goto(path)
    form = page.locator("form#login")
    form.locator(f"input[name={name_field}]").fill(name)
    form.locator("input[type=password][name=password]").fill(password)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()


def log_in(page: Page, agent_id: str, password: str) -> None:
    """Fill in and send the desk's login form, as an agent would."""
    fill_login(page, "/desk/login", "agent", agent_id, password)


def sign_in(page: Page, agent_id: str, password: str) -> None:
    """Sign in on the desk; the desk then shows."""
    log_in(page, agent_id, password)
    expect(page).to_have_url(re.compile(r"/desk$"))


def click_and_wait(page: Page, button: Locator) -> None:
    """Click a desk button that asks the server to act (a POST under /desk) and wait for
    its answer: by then the server has made its requests to Twilio's API, which the
    simulator carries out when the test next lets time pass (``switch.wait``)."""
    with page.expect_response(
        lambda response: response.request.method == "POST" and "/desk/" in response.url
    ):
        button.click()


def console_sign_in(page: Page, name: str, password: str) -> None:
    """Sign in on the operators' console, as an operator would; the console then shows."""
    fill_login(page, "/admin/login", "name", name, password)
    expect(page.locator("header .who")).to_contain_text(name)


def screenshot(page: Page, name: str) -> None:
    """With HOTLINE_SCREENSHOTS=<folder> (README: the console's pictures), keep what the
    page shows now as <folder>/<name>.png."""
    folder = os.environ.get("HOTLINE_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
