"""Whole calls through verification (SPEC §5), followed the way Twilio follows TwiML."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Call, CallEvent
from telephony.simulator import Leg
from tests.demo import customer, national

pytestmark = pytest.mark.usefixtures("demo")

ZH = customer(language="zh")
EN = customer(language="en")
STRANGER = "+8613012345678"  # not registered


def call_record(db: Session, call: Leg) -> Call:
    db.rollback()
    return db.scalars(select(Call).where(Call.call_sid == call.call_sid)).one()


def test_registered_caller_id_and_right_pin_reach_the_main_menu(phone, db: Session) -> None:
    call = phone(ZH["phone"]).dial()
    assert "普通话请按1" in call.text and "For English, press 2" in call.text
    call.press("1")
    assert "如果您正在使用该手机来电，请直接按井号键" in call.text
    call.press("#")
    assert "请输入您的电话密码" in call.text
    assert all(said.language == "cmn-CN" and said.voice == "Polly.Zhiyu" for said in call.heard)
    call.press(ZH["pin"])
    assert "身份验证成功" in call.text and "主菜单" in call.text
    record = call_record(db, call)
    assert record.verified and record.customer_id == ZH["id"]
    assert record.language == "zh"


def test_english_caller_hears_english_throughout(phone, db: Session) -> None:
    call = phone(EN["phone"]).dial().press("2").press("#")
    assert call.text.startswith("Please enter your phone PIN, followed by the pound key.")
    assert {said.language for said in call.heard} == {"en-US"}
    call.press(EN["pin"])
    assert "you are verified" in call.text and "Main menu" in call.text


def test_silence_on_the_greeting_picks_mandarin_for_unknown_callers(phone) -> None:
    call = phone(STRANGER).dial().silence()
    assert "请输入您在比太钱包注册的手机号码" in call.text


@pytest.mark.parametrize(
    "caller_id",
    ["anonymous", "", "+266696687", "Restricted", "+7378742833", "+86282452253", STRANGER],
)
def test_withheld_or_other_caller_id_keys_in_number_then_pin(
    phone, db: Session, caller_id: str
) -> None:
    call = phone(caller_id).dial().press("2")
    assert "registered with Bitai Wallet" in call.text
    call.press(national(EN["phone"]))
    assert "Please enter your phone PIN" in call.text
    call.press(EN["pin"])
    assert "you are verified" in call.text
    record = call_record(db, call)
    assert record.verified and record.customer_id == EN["id"]
    assert record.caller is None or record.caller == STRANGER


@pytest.mark.parametrize("keyed", ["national", "international", "country-code"])
def test_keyed_in_number_in_any_usual_form(phone, db: Session, keyed: str) -> None:
    digits = national(ZH["phone"])
    digits = {"national": digits, "international": "0086" + digits, "country-code": "86" + digits}[
        keyed
    ]
    call = phone("anonymous").dial().press("1").press(digits).press(ZH["pin"])
    assert "身份验证成功" in call.text
    assert call_record(db, call).customer_id == ZH["id"]


def test_wrong_number_and_wrong_pin_sound_the_same(phone) -> None:
    wrong_number = phone("anonymous").dial().press("2").press(national(STRANGER))
    wrong_pin = phone("anonymous").dial().press("2").press(national(ZH["phone"]))
    # Asked for the PIN in the same words, whether or not the number is registered.
    assert wrong_number.documents[-1] == wrong_pin.documents[-1]
    wrong_number.press("999999")
    wrong_pin.press("999999")
    assert wrong_number.documents[-1] == wrong_pin.documents[-1]
    assert "does not match our records" in wrong_pin.text
    assert "registered with Bitai Wallet" in wrong_pin.text  # starts over from the number


def test_caller_id_alone_verifies_nobody(phone, db: Session) -> None:
    call = phone(ZH["phone"]).dial().press("1").press("#")
    record = call_record(db, call)
    assert not record.verified and record.customer_id is None
    assert call.gather is not None and "/voice/verify/secret?" in call.gather.action


def test_three_failures_offer_an_agent_and_leave_the_caller_unverified(phone, db: Session) -> None:
    call = phone(EN["phone"]).dial().press("2").press("#")
    call.press("0000")
    assert "does not match" in call.text and "registered with Bitai Wallet" in call.text
    call.press("#").press("1111")
    call.press("#").press("2222")
    assert "We could not verify your identity" in call.text
    assert "press 0" in call.text
    record = call_record(db, call)
    assert not record.verified and record.verification_failures == 3
    call.press("0")
    assert call.queue == "hotline-general"


def test_caller_who_stays_on_the_line_after_the_offer_reaches_an_agent(phone) -> None:
    call = phone("anonymous").dial().press("2")
    call.silence().silence().silence()  # no number at all, three times
    assert "We could not verify your identity" in call.text
    call.silence()
    assert call.queue == "hotline-general"


def test_unverified_caller_can_continue_to_the_menu(phone, db: Session) -> None:
    call = phone(STRANGER).dial().press("2")
    for _ in range(3):
        call.press(national(STRANGER))
        call.press("1234")
    call.press("1")
    assert "Main menu" in call.text
    assert not call_record(db, call).verified


def test_every_step_is_recorded_without_secrets(phone, db: Session) -> None:
    call = phone(ZH["phone"]).dial().press("1").press("#").press("000000")
    call.press("#").press(ZH["pin"])
    kinds = [e.kind for e in call_record(db, call).events]
    assert kinds == [
        "call.started",
        "language.chosen",
        "verification.number_entered",
        "verification.failed",
        "verification.number_entered",
        "verification.verified",
    ]
    for event in db.scalars(select(CallEvent)):
        assert ZH["pin"] not in str(event.data)
