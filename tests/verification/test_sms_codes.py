"""Customers without a PIN verify with a 6-digit SMS code: 5 minutes, once (SPEC §5)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Call, OneTimeCode
from tests.conftest import HOTLINE, OPEN_HOURS
from tests.demo import customer, national

pytestmark = pytest.mark.usefixtures("demo")

NO_PIN = customer(pin=False)
WITH_PIN = customer(language="zh")


def code_in(message: dict[str, str]) -> str:
    found = re.search(r"\b(\d{6})\b", message["Body"])
    assert found, message["Body"]
    return found.group(1)


def test_caller_id_customer_without_pin_gets_a_code_by_sms(phone, twilio_api, db) -> None:
    call = phone(NO_PIN["phone"]).dial().press("2")
    assert "We have sent a text message with a six-digit code" in call.text
    [sms] = twilio_api.messages()
    assert sms["To"] == NO_PIN["phone"] and sms["From"] == HOTLINE
    assert "Bitai Wallet" in sms["Body"]
    call.press(code_in(sms))
    assert "you are verified" in call.text
    assert twilio_api.errors == []  # every request matched Twilio's API description
    stored = db.scalars(select(OneTimeCode)).one()
    assert code_in(sms) not in stored.code_hash and stored.used_at is not None


def test_a_code_works_only_once(phone, twilio_api) -> None:
    first = phone(NO_PIN["phone"]).dial().press("2")
    code = code_in(twilio_api.messages()[0])
    first.press(code)
    second = phone(NO_PIN["phone"]).dial().press("2")
    second.press(code)
    assert "does not match" in second.text
    assert len(twilio_api.messages()) == 2  # the second call got a fresh code


def test_a_code_expires_after_five_minutes(phone, twilio_api, db: Session) -> None:
    call = phone(NO_PIN["phone"]).dial().press("2")
    code = code_in(twilio_api.messages()[0])
    sent = db.scalars(select(OneTimeCode)).one()
    assert sent.expires_at - sent.created_at == timedelta(minutes=5)
    db.execute(update(OneTimeCode).values(expires_at=OPEN_HOURS - timedelta(seconds=1)))
    db.commit()
    call.press(code)
    assert "does not match" in call.text


def test_keyed_in_number_without_pin_gets_a_code_and_the_usual_words(phone, twilio_api) -> None:
    no_pin = phone("anonymous").dial().press("2").press(national(NO_PIN["phone"]))
    with_pin = phone("anonymous").dial().press("2").press(national(WITH_PIN["phone"]))
    assert no_pin.documents[-1] == with_pin.documents[-1]
    [sms] = twilio_api.messages()
    assert sms["To"] == NO_PIN["phone"]
    no_pin.press(code_in(sms))
    assert "you are verified" in no_pin.text


def test_keying_the_number_again_sends_no_second_sms_at_once(phone, twilio_api) -> None:
    call = phone("anonymous").dial().press("2").press(national(NO_PIN["phone"]))
    call.press("000000").press(national(NO_PIN["phone"]))
    assert len(twilio_api.messages()) == 1
    call.press(code_in(twilio_api.messages()[0]))
    assert "you are verified" in call.text


def test_when_twilio_refuses_the_sms_the_caller_is_offered_an_agent(
    phone, twilio_api, db: Session
) -> None:
    twilio_api.fail_next(status=400, code=21211)
    call = phone(NO_PIN["phone"]).dial().press("2")
    assert "cannot send a text message code" in call.text
    assert "To speak to an agent, press 0" in call.text
    assert db.scalars(select(OneTimeCode)).all() == []
    record = db.scalars(select(Call)).one()
    assert not record.verified
