"""One-time codes by SMS (SPEC §5): * at the PIN; 6 digits, 5 minutes, once; only to a
registered, unlocked customer, one in flight, a few a day per customer and caller ID."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from models import OneTimeCode, VerificationGuard
from settings import Settings
from telephony.simulator import Leg
from tests.conftest import HOTLINE, OPEN_HOURS
from tests.demo import customer, national
from tests.sql import plan_of
from verification.codes import texted_for

pytestmark = pytest.mark.usefixtures("demo")

NO_PIN = customer(pin=False)
WITH_PIN = customer(language="zh")
STRANGER = "+8613012345678"  # not registered
CODE_SENT = "If the number is registered, we have sent it a text message"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Small caps, so that a test reaches them in a few calls.
    return settings.model_copy(
        update={"sms_codes_per_customer_per_day": 3, "sms_codes_per_caller_per_day": 2}
    )


def code_in(message: dict[str, str]) -> str:
    found = re.search(r"\b(\d{6})\b", message["Body"])
    assert found, message["Body"]
    return found.group(1)


def ask_code(phone, caller: str, number: str = "#") -> Leg:  # noqa: ANN001
    """A call from ``caller`` claiming ``number`` (# alone: the caller ID), then *."""
    call = phone(caller).dial().press("2").press(number).press("*")
    assert CODE_SENT in call.text
    return call


def test_star_texts_a_code_that_verifies(phone, twilio_api, db: Session) -> None:
    call = ask_code(phone, NO_PIN["phone"])
    [sms] = twilio_api.messages()
    assert sms["To"] == NO_PIN["phone"] and sms["From"] == HOTLINE
    assert "Bitai Wallet" in sms["Body"]
    call.press(code_in(sms))
    assert "you are verified" in call.text
    assert twilio_api.errors == []  # every request matched Twilio's API description
    stored = db.scalars(select(OneTimeCode)).one()
    assert code_in(sms) not in stored.code_hash and stored.used_at is not None


def test_a_customer_with_a_pin_who_forgot_it_gets_a_code_too(phone, twilio_api) -> None:
    call = ask_code(phone, STRANGER, national(WITH_PIN["phone"]))
    [sms] = twilio_api.messages()
    assert sms["To"] == WITH_PIN["phone"]
    call.press(code_in(sms))
    assert "you are verified" in call.text


def test_a_code_works_only_once(phone, twilio_api) -> None:
    first = ask_code(phone, NO_PIN["phone"])
    code = code_in(twilio_api.messages()[0])
    first.press(code)
    second = ask_code(phone, NO_PIN["phone"])
    second.press(code)
    assert "does not match" in second.text
    assert len(twilio_api.messages()) == 2  # the first was used: the second call got one


def test_a_code_expires_after_five_minutes(phone, twilio_api, db: Session) -> None:
    call = ask_code(phone, NO_PIN["phone"])
    code = code_in(twilio_api.messages()[0])
    sent = db.scalars(select(OneTimeCode)).one()
    assert sent.expires_at - sent.created_at == timedelta(minutes=5)
    db.execute(update(OneTimeCode).values(expires_at=OPEN_HOURS - timedelta(seconds=1)))
    db.commit()
    call.press(code)
    assert "does not match" in call.text


def test_an_unregistered_number_gets_the_same_words_and_texts_nobody(phone, twilio_api) -> None:
    stranger = ask_code(phone, STRANGER)
    customer_call = ask_code(phone, NO_PIN["phone"])
    assert stranger.documents == customer_call.documents
    assert [sms["To"] for sms in twilio_api.messages()] == [NO_PIN["phone"]]


def test_a_locked_customer_is_texted_nothing(phone, twilio_api, db: Session) -> None:
    db.add(
        VerificationGuard(
            subject=f"customer:{NO_PIN['id']}",
            consecutive_failures=5,
            locked_until=OPEN_HOURS + timedelta(minutes=30),
        )
    )
    db.commit()
    ask_code(phone, NO_PIN["phone"])
    assert twilio_api.messages() == []


def test_one_code_in_flight_however_often_it_is_asked(phone, twilio_api, app: Flask) -> None:
    first = ask_code(phone, NO_PIN["phone"])
    app.extensions["clock"] = lambda: OPEN_HOURS + timedelta(minutes=2)
    first.press("*")
    second = ask_code(phone, NO_PIN["phone"], national(NO_PIN["phone"]))
    [sms] = twilio_api.messages()  # neither * again nor another call texted again
    second.press(code_in(sms))  # the code in flight works in any call
    assert "you are verified" in second.text
    app.extensions["clock"] = lambda: OPEN_HOURS + timedelta(minutes=3)
    ask_code(phone, NO_PIN["phone"])
    assert len(twilio_api.messages()) == 2  # used: the customer may have another


def test_codes_per_customer_per_day_are_capped(phone, twilio_api, app: Flask) -> None:
    for minutes, caller in enumerate(["+8613100000001", "+8613100000002", "+8613100000003"]):
        app.extensions["clock"] = lambda m=minutes: OPEN_HOURS + timedelta(minutes=10 * m)
        ask_code(phone, caller, national(NO_PIN["phone"]))
    assert len(twilio_api.messages()) == 3
    app.extensions["clock"] = lambda: OPEN_HOURS + timedelta(hours=1)
    ask_code(phone, "+8613100000004", national(NO_PIN["phone"]))
    assert len(twilio_api.messages()) == 3  # the fourth in a day: none
    app.extensions["clock"] = lambda: OPEN_HOURS + timedelta(days=1, minutes=1)
    ask_code(phone, "+8613100000004", national(NO_PIN["phone"]))
    assert len(twilio_api.messages()) == 4  # a day after the first, one more


def test_codes_per_caller_id_per_day_are_capped(phone, twilio_api) -> None:
    ask_code(phone, STRANGER, national(NO_PIN["phone"]))
    ask_code(phone, STRANGER, national(WITH_PIN["phone"]))
    ask_code(phone, STRANGER, national(customer(language="en")["phone"]))
    assert len(twilio_api.messages()) == 2  # the third from one caller ID in a day: none
    ask_code(phone, "+8613100000009", national(customer(language="en")["phone"]))
    assert len(twilio_api.messages()) == 3  # another caller ID may


def test_when_twilio_refuses_the_sms_the_caller_hears_the_same(
    phone, twilio_api, db: Session
) -> None:
    twilio_api.fail_next(status=400, code=21211)
    call = ask_code(phone, NO_PIN["phone"])
    assert db.scalars(select(OneTimeCode)).all() == []
    call.press("*")  # the failed text holds nothing in flight: * tries again
    call.press(code_in(twilio_api.messages()[-1]))
    assert "you are verified" in call.text


@pytest.mark.parametrize("caller", ["+8613800138000", None])
def test_the_cap_per_caller_counts_the_days_codes_off_their_index(
    engine: Engine, caller: str | None
) -> None:
    """Each * asks how many codes the caller's number had texted today: with years of
    calls behind it, reading every event ever recorded would hold each one up."""
    query = texted_for(caller, OPEN_HOURS)
    compiled = query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
    with engine.connect() as connection:
        lines = plan_of(connection, str(compiled), avoid="enable_seqscan")
    assert any("ix_call_events_sms_sent" in line for line in lines), lines
