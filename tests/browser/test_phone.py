"""The browser phone (/simulator) in a real browser: an admin plays a verified call from the
demo data to an answer from the account, the webhooks going over HTTP to the live Hotline
as in production, Hotline's REST requests reaching the tests' stand-in."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from admin.phones import Phones
from telephony.simulator import RestStandIn
from tests.admin.consoles import ADMIN
from tests.browser.conftest import console_sign_in

# The browser's speech synthesis, recorded: headless Chromium has no voices of its own.
SPEECH = """
window.spoken = [];
window.SpeechSynthesisUtterance = class { constructor(text) { this.text = text; } };
Object.defineProperty(window, "speechSynthesis", { value: {
  getVoices: () => [{ lang: "zh-CN" }, { lang: "en-US" }],
  speak: (utterance) => window.spoken.push([utterance.lang, utterance.text]),
  cancel: () => {},
} });
"""


@pytest.mark.usefixtures("demo")
def test_the_admin_plays_a_verified_call_to_an_answer(
    page: Page, app: Flask, twilio_api: RestStandIn, request: pytest.FixtureRequest
) -> None:
    app.extensions["browser_phones"] = phones = Phones(stand_in=twilio_api)
    request.addfinalizer(phones.close)
    page.add_init_script(SPEECH)
    console_sign_in(page, *ADMIN)
    page.goto("/simulator")
    transcript = page.locator("#transcript")
    page.get_by_label("Caller ID").fill("+8613700137000")  # Emily Chen, English, PIN 8642
    page.get_by_role("button", name="Call", exact=True).click()
    expect(transcript).to_contain_text("For English, press 2.")

    pad = page.locator("#pad")
    pad.get_by_role("button", name="2", exact=True).click()
    page.get_by_role("button", name="Send keys").click()
    pad.get_by_role("button", name="#", exact=True).click()  # "#" alone: this phone
    expect(transcript).to_contain_text("Please enter your phone PIN")
    for key in "8642#":  # "#" sends what was keyed
        pad.get_by_role("button", name=key, exact=True).click()
    expect(transcript).to_contain_text("Thank you, you are verified.")
    for choice in ("2", "3"):  # top-ups and withdrawals; the latest one
        page.get_by_label("keys", exact=True).fill(choice)
        page.get_by_label("keys", exact=True).press("Enter")
    expect(transcript).to_contain_text("Your latest top-up, made on November 22")
    expect(transcript).to_contain_text("300 yuan")
    expect(transcript).not_to_contain_text("8642")
    spoken = page.evaluate("window.spoken")
    assert ["en-US", "Thank you, you are verified."] in spoken
    assert any(lang == "zh-CN" for lang, _ in spoken)  # the greeting's Mandarin half
