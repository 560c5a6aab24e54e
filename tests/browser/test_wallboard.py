"""The wallboard in headless Chromium: an operator's open board shows a call the phone
simulator plays, without a reload, and says so when it can no longer keep up."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from admin import wallboard
from tests.browser.conftest import console_sign_in, screenshot
from tests.demo import DEMO, customer

pytestmark = pytest.mark.usefixtures("demo")

EMILY = customer(language="en")
FANG = next(agent for agent in DEMO["agents"] if agent["id"] == "A04")  # top-ups, English


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """The board asks twice a second here, so that the test waits less for each change."""
    monkeypatch.setattr(wallboard, "POLL_MS", 500)


def test_a_call_played_with_the_simulator_appears_on_the_open_wallboard(page: Page, phone) -> None:
    console_sign_in(page, "supervisor", "hotline-supervisor")
    funds, fang = page.locator("tr[data-queue=funds]"), page.locator("tr[data-agent=A04]")
    expect(funds.locator("td.waiting")).to_have_text("0")
    expect(fang).to_have_attribute("data-status", "offline")
    page.evaluate("window.notReloaded = true")  # gone if the page reloads

    phone(FANG["phone"]).dial("/agents/incoming").press(FANG["pin"]).press("2")  # available
    caller = phone(EMILY["phone"]).dial().press("2").press("#").press(EMILY["pin"])
    caller.press("2").press("3").press("0")  # her latest top-up, then an agent
    assert caller.queued

    expect(funds.locator("td.waiting")).to_have_text("1")
    expect(funds.locator("td.offered")).to_have_text("1")  # Fang's phone rings
    expect(fang.locator("td.caller")).to_contain_text(EMILY["name"])
    expect(fang.locator("td.topic")).to_have_text("top-ups and withdrawals")
    screenshot(page, "console-wallboard")
    assert page.evaluate("window.notReloaded") is True

    # The server stops answering: the board says it is stale, and recovers by itself.
    page.route("**/admin/wallboard.json", lambda route: route.abort())
    expect(page.locator("#stale")).to_be_visible()
    page.unroute("**/admin/wallboard.json")
    expect(page.locator("#stale")).to_be_hidden()
