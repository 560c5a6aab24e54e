"""Prompts a caller would choose (issue 8): a way to an agent while verifying, what the
phone PIN is, how long a lock lasts, the rating in each language's convention, reasons
and names in the right voice, no callback promised to a withheld number, and one
hand-off line."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Call, Customer
from telephony.simulator import Leg
from tests.demo import DEMO, customer, national
from tests.queueing.test_urgent_line import an_agent_is_on

pytestmark = pytest.mark.usefixtures("demo")

WANG = customer(language="zh")
EMILY = customer(language="en")
STRANGER = "+8613012345678"  # not registered
LANGUAGE_KEY = {"zh": "1", "en": "2"}
AGENTS = {agent["id"]: agent for agent in DEMO["agents"]}


def record(db: Session, call: Leg) -> Call:
    db.rollback()
    return db.scalars(select(Call).where(Call.call_sid == call.call_sid)).one()


def voices(call: Leg) -> list[tuple[str, str | None]]:
    return [(said.text, said.voice) for said in call.heard]


# --- 14: an agent while verifying, and what the phone PIN is ------------------------


@pytest.mark.parametrize(
    ("language", "pin_is", "zero"),
    [
        ("zh", "电话密码是您为电话客服设置的4到6位数字，不是支付密码", "人工客服请按0"),
        ("en", "Your phone PIN is the 4 to 6 digit number you set for phone service", "press 0"),
    ],
)
def test_the_pin_prompt_says_what_the_phone_pin_is_and_that_0_reaches_an_agent(
    phone, language: str, pin_is: str, zero: str
) -> None:
    call = phone(WANG["phone"]).dial().press(LANGUAGE_KEY[language]).press("#")
    assert pin_is in call.text and zero in call.text
    assert ("支付密码" if language == "zh" else "payment password") in call.text


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("caller", [WANG["phone"], STRANGER, "anonymous"])
def test_0_at_the_number_prompt_reaches_an_agent_unverified(
    phone, db: Session, language: str, caller: str
) -> None:
    call = phone(caller).dial().press(LANGUAGE_KEY[language])
    assert ("人工客服请按0" if language == "zh" else "For an agent, press 0") in call.text
    call.press("0")
    assert call.queue == "hotline-general"
    row = record(db, call)
    assert not row.verified and row.customer_id is None and row.verification_failures == 0
    assert "verification.agent_asked" in [event.kind for event in row.events]


@pytest.mark.parametrize("number", [WANG["phone"], STRANGER])
def test_0_at_the_pin_after_a_keyed_number_sounds_the_same_registered_or_not(
    phone, db: Session, number: str
) -> None:
    call = phone("anonymous").dial().press("2").press(national(number) + "#")
    asked = call.text
    call.press("0#")
    assert call.queue == "hotline-general" and "Please hold" in call.text
    assert asked.startswith("Please enter your phone PIN")  # the same words either way
    row = record(db, call)
    assert not row.verified and row.verification_failures == 0


def test_a_pin_that_starts_with_0_is_still_a_pin(phone, db: Session) -> None:
    call = phone(WANG["phone"]).dial().press("1").press("#").press("0123")
    assert "与我们的记录不符" in call.text and call.queue is None
    assert record(db, call).verification_failures == 1


# --- 17: the lock message says for how long, the same for everyone ------------------


@pytest.mark.parametrize(
    ("language", "minutes", "said"),
    [
        ("zh", 30, "电话验证可能会被锁定30分钟"),
        ("en", 30, "phone verification may be locked for 30 minutes"),
        ("en", 45, "phone verification may be locked for 45 minutes"),
    ],
)
def test_the_offer_after_failures_says_how_long_a_lock_lasts_to_every_caller(
    app: Flask, phone, language: str, minutes: int, said: str
) -> None:
    settings = app.extensions["settings"]
    app.extensions["settings"] = settings.model_copy(
        update={"verification_lockout_minutes": minutes}
    )
    heard = []
    for number in (WANG["phone"], STRANGER):  # a customer and nobody: the same words
        call = phone("anonymous").dial().press(LANGUAGE_KEY[language])
        for _ in range(3):
            call.press(national(number) + "#").press("9999#")
        assert said in call.text
        heard.append(call.text)
    assert heard[0] == heard[1]


# --- 15: the rating, in each language's convention ------------------------------------


@pytest.mark.parametrize(
    ("language", "prompt", "key", "stored"),
    [
        ("zh", "非常满意请按1，满意请按2，一般请按3，不满意请按4，非常不满意请按5", "1", 5),
        ("zh", "非常满意请按1", "5", 1),
        ("zh", "非常满意请按1", "2", 4),
        ("en", "from 1, very unhappy, to 5, very happy", "5", 5),
        ("en", "from 1, very unhappy, to 5, very happy", "1", 1),
    ],
)
def test_the_rating_follows_the_callers_convention_and_is_stored_5_best(
    phone, db: Session, language: str, prompt: str, key: str, stored: int
) -> None:
    call = phone(WANG["phone"]).dial().press(LANGUAGE_KEY[language]).press("#").press(WANG["pin"])
    call.press("0").leave_queue("bridged", seconds=40)
    assert prompt in call.text
    call.press(key)
    assert call.hung_up
    row = record(db, call)
    assert row.rating == stored
    [rated] = [event.data for event in row.events if event.kind == "call.rated"]
    assert rated == {"rating": stored, "key": key}


# --- 16: reasons and names in the voice of their own language ------------------------


def frozen_with(db: Session, who: dict, reason: str) -> None:
    customer_row = db.get(Customer, who["id"])
    assert customer_row is not None
    customer_row.status, customer_row.freeze_reason = "frozen", reason  # type: ignore[assignment]
    db.commit()


def test_a_reason_code_is_said_in_the_callers_language(phone, db: Session) -> None:
    frozen_with(db, EMILY, "suspicious_login")
    call = (
        phone(EMILY["phone"]).dial().press("2").press("#").press(EMILY["pin"]).press("1").press("2")
    )
    assert "The reason on file is: we saw a suspicious sign-in from another place" in call.text
    assert all(voice == "Polly.Joanna" for _, voice in voices(call))
    assert "suspicious_login" not in call.text


def test_an_english_caller_hears_chinese_free_text_in_the_mandarin_voice(
    phone, db: Session
) -> None:
    frozen_with(db, EMILY, "客服备注：疑似盗号，等待核实")
    call = (
        phone(EMILY["phone"]).dial().press("2").press("#").press(EMILY["pin"]).press("1").press("2")
    )
    said = voices(call)
    assert ("客服备注：疑似盗号，等待核实", "Polly.Zhiyu") in said
    assert ("Your account is frozen. The reason on file is:", "Polly.Joanna") in said
    # Only the free text itself is given to the other voice.
    assert [text for text, voice in said if voice == "Polly.Zhiyu"] == [
        "客服备注：疑似盗号，等待核实"
    ]


def test_a_mandarin_caller_hears_english_free_text_in_the_english_voice(phone, db: Session) -> None:
    frozen_with(db, WANG, "Chargeback dispute")
    call = (
        phone(WANG["phone"]).dial().press("1").press("#").press(WANG["pin"]).press("1").press("2")
    )
    said = voices(call)
    assert ("Chargeback dispute", "Polly.Joanna") in said
    assert said[said.index(("Chargeback dispute", "Polly.Joanna")) - 1][0].endswith("原因是：")


def test_a_caller_frozen_by_phone_hears_why_in_their_language(phone, db: Session) -> None:
    call = (
        phone(WANG["phone"]).dial().press("1").press("#").press(WANG["pin"]).press("1").press("3")
    )
    call.press("1").press("1")  # freeze now, and confirm
    db.rollback()
    assert db.get(Customer, WANG["id"]).freeze_reason == "frozen_by_caller"  # type: ignore[union-attr]
    later = (
        phone(WANG["phone"]).dial().press("2").press("#").press(WANG["pin"]).press("1").press("2")
    )
    assert "you reported a stolen account or a payment you did not make" in later.text


def test_an_english_agent_hears_a_chinese_name_in_the_mandarin_voice(phone) -> None:
    caller = (
        phone(WANG["phone"]).dial().press("2").press("#").press(WANG["pin"]).press("3").press("0")
    )
    caller.hold(position=1, seconds=10)
    sarah = AGENTS["A03"]  # English only, transactions
    agent = phone(sarah["phone"]).dial("/agents/incoming").press(sarah["pin"]).press("1")
    said = voices(agent)
    assert said[:3] == [
        ("A verified caller,", "Polly.Joanna"),
        ("王小明", "Polly.Zhiyu"),
        (", speaking English, about transactions and refunds.", "Polly.Joanna"),
    ]


# --- 17: no callback promised to a withheld number; one hand-off line -----------------


@pytest.mark.parametrize(
    ("language", "frozen", "hold"),
    [
        (
            "zh",
            "您的账户已冻结，任何人都无法再使用它付款或提现。",
            "请稍候，人工客服将尽快为您服务。",
        ),
        (
            "en",
            "Your account is now frozen; nobody can pay or withdraw with it.",
            "Please hold for the next available agent.",
        ),
    ],
)
def test_joining_the_queue_is_one_hand_off_line(
    phone, db: Session, language: str, frozen: str, hold: str
) -> None:
    an_agent_is_on(db)  # with nobody on, the urgent queue says so instead
    call = phone(WANG["phone"]).dial().press(LANGUAGE_KEY[language]).press("#").press(WANG["pin"])
    call.press("1").press("3").press("1").press("1")  # stolen: freeze, confirm, urgent queue
    assert call.queue == "hotline-urgent"
    assert [text for text, _ in voices(call)][:2] == [frozen, hold]


@pytest.mark.parametrize(
    ("language", "announce", "handoff"),
    [
        ("zh", "name", ["正在为您接通客服李娜。"]),  # a Chinese name in a Mandarin line
        ("en", "name", ["Connecting you now to", "李娜"]),  # in the Mandarin voice
        ("en", "id", ["Connecting you now to A01."]),
        ("zh", "none", ["正在为您接通人工客服。"]),
    ],
)
def test_when_an_agent_takes_the_call_the_caller_hears_connecting_once(
    app: Flask, phone, language: str, announce: str, handoff: list[str]
) -> None:
    flow = app.extensions["flow"]
    waiting = flow.waiting.model_copy(update={"announce_agent": announce})
    app.extensions["flow"] = flow.model_copy(update={"waiting": waiting})
    caller = phone(WANG["phone"]).dial().press(LANGUAGE_KEY[language]).press("#").press(WANG["pin"])
    caller.press("0").hold(position=1, seconds=10)
    lina = AGENTS["A01"]
    agent = phone(lina["phone"]).dial("/agents/incoming").press(lina["pin"]).press("1")
    agent.press("1")
    assert caller.conference is not None
    said = [text for text, _ in voices(caller)]
    # Said last, before joining the room, and the only line of its kind.
    assert said[-len(handoff) :] == handoff
    assert sum("接通" in text or "Connecting" in text for text in said) == 1
