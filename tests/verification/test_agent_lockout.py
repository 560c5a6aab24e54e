"""Agents' PINs on the agent line share the customers' lockout (SPEC §5): five wrong
PINs in a row, across calls, lock the agent's phone verification for
VERIFICATION_LOCKOUT_MINUTES, even when several calls guess at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

import verification.agents
from models import Call, VerificationGuard
from telephony.simulator import Leg
from tests.concurrently import at_once, press_at_once
from tests.conftest import OPEN_HOURS
from tests.demo import DEMO, customer

pytestmark = pytest.mark.usefixtures("demo")

SARAH = next(agent for agent in DEMO["agents"] if agent["id"] == "A03")
EMILY = customer(language="en")
SUBJECT = f"agent:{SARAH['id']}"
# Until the PIN matches, every language of the flow (test_agent_line_sameness).
ASK_PIN = "请输入坐席密码，以井号键结束。 Please enter your agent PIN, followed by the pound key."
REFUSED = "无法确认您的坐席身份。再见。 We could not confirm that you are an agent. Goodbye."
MENU = "To take the next caller now, press 1."


def agent_line(phone) -> Leg:  # noqa: ANN001
    call = phone(SARAH["phone"]).dial("/agents/incoming")
    assert call.text == ASK_PIN
    return call


def guess(phone, *pins: str) -> Leg:  # noqa: ANN001
    """One call to the agent line, keying ``pins`` in turn."""
    call = agent_line(phone)
    for pin in pins:
        call.press(pin)
    return call


def lock_out(phone) -> None:  # noqa: ANN001
    guess(phone, "0000", "1111", "2222")  # the call's three tries
    guess(phone, "3333", "4444")  # the fifth in a row


def stored_guard(db: Session) -> VerificationGuard | None:
    db.rollback()
    return db.get(VerificationGuard, SUBJECT)


def minutes(app: Flask) -> timedelta:
    return timedelta(minutes=app.extensions["settings"].verification_lockout_minutes)


def test_five_wrong_pins_across_calls_lock_the_agent_out_even_with_the_right_pin(
    app: Flask, phone, db: Session
) -> None:
    emily = phone(EMILY["phone"]).dial().press("2").press("#").press(EMILY["pin"]).press("0")
    emily.hold(position=1, seconds=10)  # a caller Sarah could take
    first = guess(phone, "0000")
    assert first.text == ASK_PIN
    first.press("1111").press("2222")
    assert first.text == REFUSED and first.hung_up
    second = guess(phone, "3333", "4444", SARAH["pin"])  # right, but the fifth was wrong
    assert second.text == REFUSED and second.hung_up
    third = guess(phone, SARAH["pin"])
    assert third.text == ASK_PIN  # as for any wrong PIN: no menu, no hint of the lock
    third.press("1")  # the menu's "take the next caller" key is just another wrong PIN
    assert third.text == ASK_PIN
    lock = stored_guard(db)
    assert lock is not None and lock.consecutive_failures == 5
    assert lock.locked_until == OPEN_HOURS + minutes(app)
    db.rollback()
    waiting = db.scalars(select(Call).where(Call.call_sid == emily.call_sid)).one()
    assert waiting.stage == "queued" and waiting.offered_agent_id is None


def test_the_lock_lifts_after_the_lockout_minutes_by_the_apps_clock(
    app: Flask, phone, db: Session
) -> None:
    lock_out(phone)
    app.extensions["clock"] = lambda: OPEN_HOURS + minutes(app) - timedelta(seconds=1)
    assert guess(phone, SARAH["pin"]).text == ASK_PIN
    app.extensions["clock"] = lambda: OPEN_HOURS + minutes(app)
    assert MENU in guess(phone, SARAH["pin"]).text
    lock = stored_guard(db)
    assert lock is not None and lock.consecutive_failures == 0 and lock.locked_until is None


def test_the_right_pin_clears_the_count(phone, db: Session) -> None:
    guess(phone, "0000", "1111", "2222")
    assert MENU in guess(phone, "3333", SARAH["pin"]).text  # four wrong, then right
    lock = stored_guard(db)
    assert lock is not None and lock.consecutive_failures == 0
    guess(phone, "4444", "5555", "6666")
    assert MENU in guess(phone, "7777", SARAH["pin"]).text  # four more: not locked


def pins_checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The PINs compared with Sarah's, from now on."""
    checked: list[str] = []
    compare = verification.agents.matches

    def counted(key, purpose, subject, entered, stored):  # noqa: ANN001, ANN202
        if subject == SARAH["id"] and stored is not None:  # compared with her PIN
            checked.append(entered)
        return compare(key, purpose, subject, entered, stored)

    monkeypatch.setattr(verification.agents, "matches", counted)
    return checked


def test_concurrent_wrong_pins_never_get_more_than_five_tries_checked(
    phone,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
) -> None:
    checked = pins_checked(monkeypatch)
    calls = [agent_line(phone) for _ in range(10)]
    press_at_once(calls, [f"{9000 + i}" for i in range(len(calls))])
    assert len(checked) == 5
    for call in calls:
        assert call.text == ASK_PIN  # each heard a proper answer, locked or not
    lock = stored_guard(db)
    assert lock is not None and lock.locked_until is not None
    assert guess(phone, SARAH["pin"]).text == ASK_PIN


def test_pins_racing_within_one_call_get_its_three_tries_at_most_each_counted(
    phone,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
) -> None:
    """Requests of one call at once (retries, or a forger): a guess checked but rolled
    back with a loser's transaction would go uncounted."""
    checked = pins_checked(monkeypatch)
    call = agent_line(phone)
    pins = [f"{8000 + i}" for i in range(10)]
    at_once([lambda pin=pin: call.post("/agents/pin", {"Digits": pin}) for pin in pins])
    assert 1 <= len(checked) <= 3
    lock = stored_guard(db)
    assert lock is not None and lock.consecutive_failures == len(checked)
