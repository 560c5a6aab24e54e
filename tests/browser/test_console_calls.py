"""Calls and callbacks at the operators' console in headless Chromium: a call played
with the simulator found by the last four digits of the number and its timeline
opened; a callback marked done, its row's state changing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from tests.browser.conftest import console_sign_in, screenshot
from tests.queueing.test_agent_line import EMILY
from tests.queueing.test_callbacks import asks_for_a_callback, the_callback, unknown

pytestmark = pytest.mark.usefixtures("demo")
SUPERVISOR = ("supervisor", "hotline-supervisor")  # the demo data's


def test_a_call_found_by_its_last_four_digits_and_its_timeline(page: Page, phone) -> None:
    emily = (
        phone(EMILY["phone"]).dial().press("2").press("#").press(EMILY["pin"]).press("3").press("1")
    )
    emily.hang_up()
    phone("+8613012345601").dial().press("1").hang_up()  # another caller
    console_sign_in(page, *SUPERVISOR)
    page.goto("/admin/calls")
    search = page.locator("form#call-search")
    search.locator("input[name=digits]").fill(EMILY["phone"][-4:])
    search.locator("button[type=submit]").click()
    rows = page.locator("table#calls tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("*******7000")
    expect(page.locator("body")).not_to_contain_text(EMILY["phone"])
    rows.first.get_by_role("link", name="Timeline").click()
    expect(page).to_have_url(re.compile(r"/admin/calls/\d+$"))
    timeline = page.locator("table#timeline")
    expect(timeline).to_contain_text("Verified by PIN")
    expect(timeline).to_contain_text("Menu main: pressed 3 → menu transactions")
    expect(timeline).to_contain_text("Heard their latest transaction")
    expect(page.locator("#summary")).to_contain_text("Emily Chen (verified)")
    screenshot(page, "console-call")
    expect(page.locator("body")).not_to_contain_text(EMILY["pin"])


def test_a_callback_marked_done(page: Page, phone, db: Session) -> None:
    asks_for_a_callback(unknown(phone, 1), position=1)
    callback = the_callback(db)
    console_sign_in(page, *SUPERVISOR)
    page.goto("/admin/callbacks?show=all")
    row = page.locator(f'tr[data-callback="{callback.id}"]')
    expect(row.locator("td.state")).to_have_text("open")
    row.get_by_role("button", name="Mark done").click()
    expect(page.locator("#messages")).to_contain_text(f"Callback {callback.id} marked done.")
    expect(row.locator("td.state")).to_have_text("done")
    expect(row).to_contain_text("by operator supervisor")
    expect(row.get_by_role("button", name="Mark done")).to_have_count(0)
