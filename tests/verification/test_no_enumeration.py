"""A spoofed caller ID learns nothing (SPEC §4.1, §5): every caller hears the same
prompts, in the same order, for the same keys, until verification ends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from models import VerificationGuard
from tests.conftest import OPEN_HOURS
from tests.demo import customer

pytestmark = pytest.mark.usefixtures("demo")

WITH_PIN = customer(language="en")
NO_PIN = customer(pin=False)
LOCKED = customer(language="zh")
STRANGER = "+8613012345678"  # not registered

# Each caller claims their caller ID with # alone, then: a wrong PIN, # again, * for a
# code, a wrong code (the third failure ends the attempts), then the agent offer.
KEYS = ["#", "1234", "#", "*", "000000", "#", "9999"]


def lock(db: Session, customer_id: str) -> None:
    db.add(
        VerificationGuard(
            subject=f"customer:{customer_id}",
            consecutive_failures=5,
            locked_until=OPEN_HOURS + timedelta(minutes=30),
        )
    )
    db.commit()


@pytest.mark.parametrize("language_key", ["", "2"])
def test_every_caller_id_hears_the_same_prompts(phone, db: Session, language_key: str) -> None:
    lock(db, LOCKED["id"])
    heard = {}
    for caller_id in (WITH_PIN["phone"], NO_PIN["phone"], LOCKED["phone"], STRANGER, "anonymous"):
        call = phone(caller_id).dial()
        call.press(language_key) if language_key else call.silence()
        for keys in KEYS:
            call.press(keys)
        heard[caller_id] = call.documents
    first, *others = heard.values()
    assert all(documents == first for documents in others)
    assert "could not verify your identity" in first[-1] or "未能核实您的身份" in first[-1]
    assert len(first) == 2 + len(KEYS)


def test_silence_at_the_greeting_is_mandarin_even_for_an_english_customer(phone) -> None:
    call = phone(WITH_PIN["phone"]).dial().silence()
    assert "请输入您在比太钱包注册的手机号码" in call.text and "井号键" in call.text
