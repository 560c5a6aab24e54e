"""The urgent line (SPEC §4 key 8, §6): a stolen account or fraud is one key or one phrase
away, open around the clock, and nothing promises a transfer that will not happen."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import update
from sqlalchemy.orm import Session

from models import Agent
from telephony.endpoints import Client, Endpoint, Phone, parse_endpoint
from telephony.simulator import Leg
from tests.demo import customer

pytestmark = pytest.mark.usefixtures("demo")

WANG = customer(language="zh")
EMILY = customer(language="en")
SUNDAY_NIGHT = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai: closed
DUTY_DESK = "+8613911112222"
DUTY_PHONE = Phone(DUTY_DESK)


def at_main_menu(phone, who: dict) -> Leg:  # noqa: ANN001
    return (
        phone(who["phone"]).dial().press("2" if who is EMILY else "1").press("#").press(who["pin"])
    )


def with_overflow(app: Flask, desk: Endpoint = DUTY_PHONE) -> None:
    settings = app.extensions["settings"]
    app.extensions["settings"] = settings.model_copy(update={"overflow_number": desk})


def an_agent_is_on(db: Session) -> None:
    db.execute(update(Agent).where(Agent.id == "A01").values(status="busy"))
    db.commit()


@pytest.mark.parametrize(("who", "frozen"), [(WANG, "您的账户已冻结"), (EMILY, "is now frozen")])
def test_a_stolen_account_after_hours_waits_in_the_urgent_queue(
    app: Flask, phone, who: dict, frozen: str
) -> None:
    app.extensions["clock"] = lambda: SUNDAY_NIGHT
    call = at_main_menu(phone, who).press("8").press("1").press("1")  # key 8, freeze, confirm
    assert frozen in call.text
    assert call.queue == "hotline-urgent" and call.live
    assert (
        "现在不是人工客服服务时间" not in call.text and "not available right now" not in call.text
    )
    # No agent is on: said as it is, not "putting you through to an agent first".
    assert "目前暂时没有客服在线" in call.text or "No agent is on duty right now" in call.text
    assert "first" not in call.text.split("frozen")[0]


@pytest.mark.parametrize(
    "desk",
    [
        DUTY_PHONE,
        parse_endpoint("sip:duty@pbx.example.com;transport=tls", None),
        Client("duty_team"),  # the duty team's browsers
    ],
    ids=str,
)
def test_with_an_overflow_number_and_nobody_on_the_caller_goes_there(
    app: Flask, phone, switch, desk: Endpoint
) -> None:  # noqa: ANN001
    app.extensions["clock"] = lambda: SUNDAY_NIGHT
    with_overflow(app, desk)
    call = at_main_menu(phone, EMILY).press("8").press("1").press("1")
    assert "Putting you through to our duty team now." in call.text
    assert call.queue is None
    # Dialled with the noun Twilio has for it (the simulator refuses a <Number>sip:…).
    reached = switch.phone(str(desk)).call
    assert reached is not None and reached.live  # the duty desk was dialled and answered


def test_urgent_callers_are_not_sent_away_after_the_maximum_wait(phone, db: Session) -> None:
    an_agent_is_on(db)
    call = at_main_menu(phone, EMILY).press("8").press("1").press("1").hold(seconds=900)
    assert "all our agents are still busy" not in call.text and call.queued


def test_the_last_agent_going_off_sends_urgent_callers_to_overflow(
    app: Flask, phone, db: Session
) -> None:
    an_agent_is_on(db)
    with_overflow(app)
    call = at_main_menu(phone, EMILY).press("8").press("1").press("1")
    assert call.queued and "Please hold" in call.text
    db.execute(update(Agent).values(status="offline"))
    db.commit()
    assert "Putting you through to our duty team now." in call.hold().text


@pytest.mark.parametrize(
    ("words", "caller"), [("我的账户被盗了", WANG), ("my account was stolen", EMILY)]
)
def test_one_phrase_reaches_the_stolen_account_branch(phone, words: str, caller: dict) -> None:
    call = at_main_menu(phone, caller).say(words)
    assert "立即冻结账户" in call.text or "freeze your account now" in call.text


@pytest.mark.parametrize("language", ["1", "2"])
def test_an_unverified_caller_reporting_fraud_goes_straight_to_the_urgent_queue(
    phone, db: Session, language: str
) -> None:
    an_agent_is_on(db)
    call = phone("+8613012345678").dial().press(language).silence().silence().silence()
    call.press("1")  # not verified: the menus anyway
    call.press("8")
    assert call.queue == "hotline-urgent"
    assert "冻结" not in call.text and "freeze" not in call.text  # no freeze offered


def test_an_agent_from_the_stolen_branch_is_the_account_queue_not_a_fast_lane(phone) -> None:
    call = at_main_menu(phone, WANG).press("8").press("0")
    assert call.queue == "hotline-account"
    back = at_main_menu(phone, EMILY).press("1").press("3").press("0")
    assert back.queue == "hotline-account"
