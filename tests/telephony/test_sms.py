"""SMS codes through another provider (issue 9 #5): ``SMS_SENDER`` names a factory that
makes the sender at start-up; codes then go through it, not Twilio, and a sender that
cannot be made stops start-up saying why."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import create_app
from models import OneTimeCode
from settings import ConfigError, Settings
from telephony.simulator import RestStandIn
from tests.demo import customer
from tests.telephony.sms_provider import Outbox

pytestmark = pytest.mark.usefixtures("demo")

NO_PIN = customer(pin=False)
PROVIDER = "tests.telephony.sms_provider"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"sms_sender": f"{PROVIDER}:outbox"})


def outbox(app: Flask) -> Outbox:
    sender = app.extensions["sms"]
    assert isinstance(sender, Outbox)
    return sender


def test_a_code_goes_through_the_plugged_in_provider_and_verifies_the_caller(
    app: Flask, phone, twilio_api: RestStandIn, db: Session
) -> None:
    call = phone(NO_PIN["phone"]).dial().press("2").press("#").press("*")
    assert "we have sent it a text message with a six-digit code" in call.text
    [(to, body)] = outbox(app).sent
    assert to == NO_PIN["phone"] and "Bitai Wallet" in body
    assert twilio_api.messages() == []  # not through Twilio
    found = re.search(r"\b(\d{6})\b", body)
    assert found is not None
    call.press(found.group(1))
    assert "you are verified" in call.text
    stored = db.scalars(select(OneTimeCode)).one()
    assert stored.message_sid == "outbox-1"  # the provider's id, kept as Twilio's is


def test_when_the_provider_sends_nothing_the_caller_hears_the_same_and_nothing_is_kept(
    app: Flask, phone, db: Session
) -> None:
    outbox(app).down = True
    call = phone(NO_PIN["phone"]).dial().press("2").press("#").press("*")
    assert "If the number is registered, we have sent it" in call.text  # as for anyone
    assert db.scalars(select(OneTimeCode)).all() == []  # no code kept that nobody got


@pytest.mark.parametrize(
    ("named", "reason"),
    [
        ("tests.telephony.no_such_provider:outbox", "cannot import"),
        (f"{PROVIDER}:nothing_here", "has no callable 'nothing_here'"),
        (f"{PROVIDER}:not_a_sender", "has no send"),
        (f"{PROVIDER}:failing", "failed: KeyError"),
    ],
)
def test_a_sender_that_cannot_be_made_stops_start_up_naming_sms_sender(
    settings: Settings, named: str, reason: str
) -> None:
    with pytest.raises(ConfigError, match=rf"SMS_SENDER: .*{reason}"):
        create_app(settings.model_copy(update={"sms_sender": named}))
