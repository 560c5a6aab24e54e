"""The agents' desk in headless Chromium (issue 9's acceptance): what an agent sees and
does on /desk while the phone simulator plays the callers, the agents' phones and
Twilio. Each test reads the page as the agent would, and the database and the
simulated calls for what the desk did."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Agent, AgentCall, Call, CallbackRequest, Voicemail
from telephony.simulator import Leg, RestStandIn, Switch
from tests.browser.conftest import click_and_wait, log_in, sign_in
from tests.demo import DEMO, customer

pytestmark = pytest.mark.usefixtures("demo")

AGENTS = {agent["id"]: agent for agent in DEMO["agents"]}
LINA = AGENTS["A01"]  # every branch, Mandarin and English
EMILY = customer(language="en")
PASSWORD = LINA["desk_password"]  # the demo data's
ANNOUNCEMENT = "比太钱包客服回电，接听请按1。"


def stored(db: Session, what: Any, *where: Any) -> Any:
    """What the database holds now (``what`` of the one row that matches)."""
    db.rollback()
    return db.scalars(select(what).where(*where)).one()


def call_id(db: Session, caller: Leg) -> int:
    """Hotline's id of the caller's call (``data-call`` on the screen pop)."""
    return int(stored(db, Call.id, Call.call_sid == caller.call_sid))


def status_of(db: Session, agent: dict) -> str:
    return str(stored(db, Agent.status, Agent.id == agent["id"]))


@pytest.fixture
def lina(page: Page) -> Page:
    """李娜 signed in on the desk."""
    sign_in(page, LINA["id"], PASSWORD)
    expect(page.locator("#agent-name")).to_have_text(LINA["name"])
    return page


def set_status(desk: Page, status: str) -> None:
    desk.locator(f"button[name=status][value={status}]").click()
    expect(desk.locator("#status")).to_have_attribute("data-status", status)


def test_the_desk_is_behind_a_sign_in_and_repeated_failures_lock_even_the_right_password(
    app: Flask, page: Page
) -> None:
    wall = page.request.get("/desk", max_redirects=0)
    assert wall.status == 302 and wall.headers["location"].endswith("/desk/login")
    assert page.request.get("/desk/state").status == 401  # the JSON the page polls
    page.goto("/desk")
    expect(page).to_have_url(re.compile(r"/desk/login$"))
    expect(page.locator("form#login")).to_be_visible()
    sign_in(page, LINA["id"], PASSWORD)  # the right password opens the desk...
    expect(page.locator("#agent-name")).to_have_text(LINA["name"])
    page.locator("form#logout button").click()
    page.goto("/desk")  # ...and signing out closes it
    expect(page).to_have_url(re.compile(r"/desk/login$"))
    log_in(page, "A99", PASSWORD)  # no such agent
    refused = page.locator("#login-error")
    expect(refused).to_be_visible()
    message = refused.inner_text()
    for _ in range(app.extensions["settings"].verification_lockout_failures):
        log_in(page, LINA["id"], "not-her-password")
        expect(refused).to_have_text(message)  # a wrong password sounds the same
    log_in(page, LINA["id"], PASSWORD)
    expect(refused).to_have_text(message)  # locked: the right one too, saying no more
    page.goto("/desk")
    expect(page).to_have_url(re.compile(r"/desk/login$"))


def test_a_post_without_its_csrf_token_is_refused_and_changes_nothing(
    lina: Page, db: Session
) -> None:
    before = lina.locator("#status").get_attribute("data-status")
    assert before == status_of(db, LINA) != "break"
    refused = lina.request.post("/desk/status", form={"status": "break"})  # signed in, no token
    assert refused.status == 400
    assert status_of(db, LINA) == before
    lina.reload()
    expect(lina.locator("#status")).to_have_attribute("data-status", before)
    set_status(lina, "break")  # the desk's own button, which sends the token, works
    assert status_of(db, LINA) == "break"


def offered_emily(lina: Page, phone, switch: Switch, twilio_api: RestStandIn) -> tuple[Leg, Leg]:  # noqa: ANN001
    """With Lina available on the desk, Emily (verified) hears her latest top-up, asks for
    an agent, and Lina's phone rings: she picks up and hears about Emily. The caller's
    leg and Lina's."""
    expect(lina.locator("#pop")).to_be_hidden()
    caller = (
        phone(EMILY["phone"]).dial().press("2").press("#").press(EMILY["pin"]).press("2").press("3")
    )
    caller.press("0")
    assert caller.queued
    [ring] = twilio_api.calls()
    assert ring["To"] == LINA["phone"]
    agent = switch.phone(LINA["phone"]).call
    assert agent is not None
    return caller, agent


def accepted_on_the_desk(lina: Page, switch: Switch) -> None:
    # The desk's server asks Twilio to move the caller into the room; Twilio does it.
    click_and_wait(lina, lina.locator("button#accept"))
    switch.wait(1)


def test_the_screen_pop_shows_who_calls_and_why_without_a_reload(
    lina: Page, phone, switch: Switch, twilio_api: RestStandIn, db: Session
) -> None:
    set_status(lina, "available")
    lina.evaluate("window.notReloaded = true")  # gone if the page reloads
    caller, agent = offered_emily(lina, phone, switch, twilio_api)
    pop = lina.locator("#pop")
    expect(pop).to_be_visible()  # rung
    expect(pop).to_have_attribute("data-call", str(call_id(db, caller)))
    agent.press("1")  # she hears the whisper: the offer is still open
    expect(pop).to_be_visible()
    who, why = lina.locator("#pop-who"), lina.locator("#pop-why")
    expect(who).to_contain_text(EMILY["name"])  # named: verified
    expect(who).to_contain_text("英语")  # her language, in Lina's
    expect(why).to_contain_text("充值与提现")  # the branch she called about
    expect(why).to_contain_text("最近充值或提现")  # what she heard before asking
    expect(why).to_contain_text("300.00")  # her overdue top-up, among her transactions
    expect(lina.locator("button#accept")).to_be_visible()
    expect(lina.locator("button#pass")).to_be_visible()
    assert lina.evaluate("window.notReloaded") is True


def test_accept_on_the_desk_connects_the_call_and_a_late_phone_key_does_nothing(
    lina: Page, phone, switch: Switch, twilio_api: RestStandIn, db: Session
) -> None:
    set_status(lina, "available")
    caller, agent = offered_emily(lina, phone, switch, twilio_api)
    agent.press("1")  # hearing the whisper, whose 1 also accepts
    assert agent.gather is not None
    late_key = agent.gather.action
    expect(lina.locator("#pop")).to_have_attribute("data-call", str(call_id(db, caller)))
    accepted_on_the_desk(lina, switch)
    room = f"hotline-{caller.call_sid}"
    assert caller.conference == agent.conference == room
    expect(lina.locator("#on-call")).to_be_visible()
    expect(lina.locator("button#accept")).to_be_hidden()
    expect(lina.locator("#pop")).to_have_attribute("data-call", str(call_id(db, caller)))
    # Her 1 on the phone arrives after the desk's Accept: no second claim, nothing moves.
    assert f">{room}<" in agent.post(late_key, {"Digits": "1"})  # she stays in the room
    switch.wait(1)
    assert len(twilio_api.dequeues()) == 1
    assert caller.conference == agent.conference == room
    assert stored(db, Call.agent_id, Call.call_sid == caller.call_sid) == LINA["id"]
    assert status_of(db, LINA) == "busy"
    expect(lina.locator("#status")).to_have_attribute("data-status", "busy")


def test_wrap_up_with_a_disposition_then_ready(
    app: Flask, lina: Page, phone, switch: Switch, twilio_api: RestStandIn, db: Session
) -> None:
    set_status(lina, "available")
    caller, agent = offered_emily(lina, phone, switch, twilio_api)
    expect(lina.locator("#pop")).to_be_visible()
    accepted_on_the_desk(lina, switch)
    expect(lina.locator("#on-call")).to_be_visible()
    lina.locator("textarea#notes").fill("Top-up of 300 overdue; asked the bank.")
    click_and_wait(lina, lina.locator("button#save-notes"))
    on_her_call = AgentCall.call_sid == agent.call_sid
    assert stored(db, AgentCall.notes, on_her_call) == "Top-up of 300 overdue; asked the bank."
    caller.conference_ends(seconds=95)  # the talk is over
    wrap_up = lina.locator("#wrap-up")
    expect(wrap_up).to_be_visible()
    expect(lina.locator("#status")).to_have_attribute("data-status", "wrap_up")
    expect(lina.locator("#on-call")).to_be_hidden()
    codes = app.extensions["flow"].agents.dispositions
    offered = lina.locator("#wrap-up-form select[name=disposition] option")
    values = [value for value in offered.evaluate_all("os => os.map(o => o.value)") if value]
    assert values and set(values) <= set(codes)
    code = values[-1]
    lina.locator("#wrap-up-form select[name=disposition]").select_option(code)
    notes = lina.locator("#wrap-up-form textarea[name=notes]")
    notes.fill("Top-up of 300 overdue; the bank will credit it today.")
    lina.locator("button#ready").click()
    expect(lina.locator("#status")).to_have_attribute("data-status", "available")
    expect(wrap_up).to_be_hidden()
    assert status_of(db, LINA) == "available"
    row = stored(db, AgentCall, on_her_call)
    assert row.disposition == code
    assert row.notes is not None and "the bank will credit it today" in row.notes


def test_a_voicemail_plays_on_the_desk_and_is_marked_done(
    lina: Page, phone, twilio_api: RestStandIn, db: Session
) -> None:
    call = (
        phone(EMILY["phone"]).dial().press("2").press("#").press(EMILY["pin"]).press("2").press("0")
    )
    call.hold(seconds=600).press("1").leave_message(duration=6)
    voicemail = stored(db, Voicemail)
    item = lina.locator(f"#voicemails li.voicemail[data-id='{voicemail.id}']")
    expect(item).to_be_visible()  # without a reload
    audio = item.locator("audio")
    expect(audio).to_have_attribute("src", f"/desk/voicemails/{voicemail.id}/recording")
    heard = audio.evaluate(
        """async audio => {
            audio.muted = true;  // played as an agent would, but silently
            await audio.play();
            return {state: audio.readyState, seconds: audio.duration};
        }"""
    )
    assert heard["state"] >= 1 and round(heard["seconds"]) == 6  # Emily's six seconds
    fetched = [r for r in twilio_api.requests if "/Recordings/" in r.path]
    assert fetched and {(r.method, r.path.rsplit("/", 1)[-1]) for r in fetched} == {
        ("GET", voicemail.recording_sid)
    }
    item.locator("button.done").click()
    expect(item).to_have_count(0)
    done = stored(db, Voicemail, Voicemail.id == voicemail.id)
    assert (done.status, done.done_by) == ("done", LINA["id"])


def test_an_agent_accepts_a_callback_on_the_desk_and_the_customer_hears_who_calls_first(
    app: Flask, lina: Page, phone, switch: Switch, twilio_api: RestStandIn, db: Session
) -> None:
    # The app's clock follows the simulated network's, as callbacks' retries need.
    app.extensions["clock"] = lambda: switch.clock.start + timedelta(seconds=switch.clock.now)
    stranger = "+8613012345601"
    call = phone(stranger).dial().press("1").press("0")  # unknown, Mandarin, general queue
    call.hold(position=1, seconds=70)  # from a minute on, the music offers a callback
    call.press_during_music("1")
    assert "我们会尽快回电至尾号" in call.text and call.hung_up
    db.execute(  # ready, as the agent line or a wrap-up leaves her (nobody rings her)
        update(Agent)
        .where(Agent.id == LINA["id"])
        .values(status="available", status_since=datetime(2026, 11, 24, 1, tzinfo=UTC))
    )
    db.commit()
    callback = stored(db, CallbackRequest)
    item = lina.locator(f"#callbacks li.callback[data-id='{callback.id}']")
    expect(item).to_be_visible()
    # Hotline rings Lina's phone; answered, it calls the customer back.
    click_and_wait(lina, item.locator("button.accept-callback"))
    switch.wait(1)
    agent = switch.phone(LINA["phone"]).call
    assert agent is not None and "正在呼叫客户" in agent.text
    back = switch.phone(stranger).call
    assert back is not None and back.direction == "outbound-api"
    assert back.text == ANNOUNCEMENT and back.conference is None  # told first, not yet bridged
    back.press("1")
    assert back.conference == agent.conference is not None
    expect(item).to_have_count(0)
