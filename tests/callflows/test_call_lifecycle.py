"""A call from greeting to hang-up: menu, queue, status callback, replays and failures."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from models import Call, VerificationAttempt, Voicemail
from telephony.simulator import Leg
from tests.demo import customer

pytestmark = pytest.mark.usefixtures("demo")

ZH = customer(language="zh")


def record(db: Session, call: Leg) -> Call:
    db.rollback()
    return db.scalars(select(Call).where(Call.call_sid == call.call_sid)).one()


def verified_call(phone) -> Leg:  # noqa: ANN001
    return phone(ZH["phone"]).dial().press("1").press("#").press(ZH["pin"])


def test_key_zero_puts_a_verified_caller_in_the_general_queue(phone, db: Session) -> None:
    call = verified_call(phone).press("0")
    assert "人工客服将尽快为您服务" in call.text
    assert call.queue == "hotline-general"
    call.leave_queue("bridged", seconds=42)  # the agent call has ended
    assert "请为本次服务评价：非常满意请按1" in call.text
    call.press("4")  # 不满意
    assert "感谢您的来电" in call.text and call.hung_up
    call.end(duration=300)
    row = record(db, call)
    assert row.outcome == "agent" and row.queue == "general" and row.rating == 2
    assert row.duration_seconds == 300 and row.twilio_status == "completed"
    assert row.ended_at is not None and row.stage == "ended"
    left = [e for e in row.events if e.kind == "queue.left"]
    assert left[0].data == {"queue": "general", "result": "bridged", "seconds": 42, "reason": None}


def test_wrong_keys_and_silence_repeat_the_menu_then_reach_an_agent(phone) -> None:
    call = verified_call(phone)
    call.press("7")
    assert "没有这个选项" in call.text and "主菜单" in call.text
    call.silence()
    assert "没有听到您的选择" in call.text and "主菜单" in call.text  # not "not an option"
    call.press("#")
    assert call.queue == "hotline-general"  # the third miss: a person, not a hang-up


def test_hanging_up_in_the_menus_is_recorded(phone, db: Session) -> None:
    call = verified_call(phone)
    call.end(status="completed", duration=25)
    row = record(db, call)
    assert row.outcome == "hung_up" and row.duration_seconds == 25


def test_status_callback_before_any_other_webhook_opens_the_record(phone, db: Session) -> None:
    call = phone(ZH["phone"])
    call.end(status="no-answer", duration=0)
    call.end(status="no-answer", duration=0)  # repeated: still one record, one end event
    row = record(db, call)
    assert row.twilio_status == "no-answer" and row.stage == "ended"
    assert [e.kind for e in row.events].count("call.ended") == 1


def test_a_retried_pin_request_counts_once(phone, db: Session) -> None:
    call = phone(ZH["phone"]).dial().press("1").press("#")
    action = call.gather.action
    call.press("000000")
    retry = call.post(action, {"Digits": "000000"})  # Twilio retrying the same request
    assert "请输入您在比太钱包注册的手机号码" in retry  # where the call is now
    attempts = db.scalars(select(VerificationAttempt)).all()
    assert [a.outcome for a in attempts] == ["failure"]
    assert record(db, call).verification_failures == 1


def test_a_late_gather_answer_resumes_the_call_where_it_is(phone, db: Session) -> None:
    call = verified_call(phone)
    body = call.post("/voice/verify/secret", {"Digits": ZH["pin"]})
    assert "主菜单" in body  # already verified: the menu again, nothing re-checked
    assert len(db.scalars(select(VerificationAttempt)).all()) == 1


def test_a_webhook_for_an_unknown_call_starts_it_properly(phone) -> None:
    call = phone(ZH["phone"])
    body = call.post("/voice/menu", {"Digits": "0"})
    assert "普通话请按1" in body  # the greeting: nothing skipped, no menu without verification


def test_when_something_inside_fails_the_caller_hears_an_apology_and_leaves_a_message(
    app: Flask, phone, db: Session
) -> None:
    call = phone(ZH["phone"]).dial()
    engine = app.extensions["db"].engine
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE call_events RENAME TO call_events_away"))
    try:
        call.press("1")
    finally:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE call_events_away RENAME TO call_events"))
    assert "something went wrong" in call.text and "系统暂时出现问题" in call.text
    assert call.queue is None  # not a queue no agent takes from, but a message for agents
    assert "请在提示音后留下您的问题" in call.text and "leave your question" in call.text
    call.leave_message(duration=15)
    assert "您的留言已收到" in call.text and call.hung_up
    [voicemail] = db.scalars(select(Voicemail)).all()
    assert voicemail.duration_seconds == 15 and voicemail.call_id == record(db, call).id


def test_webhook_without_call_sid_still_gets_twiml(phone) -> None:
    call = phone(ZH["phone"])
    call.call_sid = ""
    body = call.post("/voice/incoming", {})
    assert "系统暂时出现问题" in body and "<Record" in body
