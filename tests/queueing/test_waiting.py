"""Waiting for an agent (SPEC §6): what the queue plays, callbacks, voicemail, hours, rating."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Call, CallbackRequest, Voicemail
from telephony.simulator import Leg
from tests.demo import customer

pytestmark = pytest.mark.usefixtures("demo")

WANG = customer(language="zh")
EMILY = customer(language="en")
HOLD_MUSIC = "http://com.twilio.sounds.music.s3.amazonaws.com/MARKOVICHAMP-Borghestral.mp3"


def queued(phone, who: dict = EMILY, path: tuple[str, ...] = ("2",)) -> Leg:  # noqa: ANN001
    call = phone(who["phone"]).dial().press("2" if who is EMILY else "1").press(who["pin"])
    for key in path:
        call.press(key)
    call.press("0")
    assert call.wait_url is not None
    return call


def record(db: Session, call: Leg) -> Call:
    db.rollback()
    return db.scalars(select(Call).where(Call.call_sid == call.call_sid)).one()


def test_waiting_callers_hear_their_position_and_hold_music(phone) -> None:
    call = queued(phone).hold(position=3, seconds=5)
    assert "You are number 3 in the queue." in call.text
    assert call.played == [HOLD_MUSIC]
    assert "call you back" not in call.text  # not yet: they have only just joined


def test_the_expected_wait_comes_from_recent_answered_callers(phone) -> None:
    for wait in (120, 240):  # two earlier callers of this queue, answered
        queued(phone).leave_queue("bridged", seconds=wait)
    call = queued(phone).hold(position=1, seconds=60)
    assert "The expected wait is about 2 minutes." in call.text  # (120+240)/2 - 60 s


def test_twilios_average_stands_in_until_there_is_history(phone) -> None:
    call = queued(phone).hold(position=2, seconds=10, average=400)
    assert "about 7 minutes" in call.text
    # Twilio reporting no average (no caller waiting long enough to have one):
    assert "expected wait" not in queued(phone).hold(position=2, seconds=10, average=0).text


def test_a_callback_from_the_hold_menu_is_recorded_and_the_call_ends_politely(
    phone, db: Session
) -> None:
    call = queued(phone).hold(position=2, seconds=90)
    assert "press 1 and we will call you back" in call.text
    call.press("1")  # Twilio: <Leave/>, then the Enqueue action with QueueResult=leave
    assert "We will call you back at the number ending 7 0 0 0" in call.text
    assert call.hung_up
    request = db.scalars(select(CallbackRequest)).one()
    assert (request.number, request.language, request.topic, request.status) == (
        EMILY["phone"],
        "en",
        "funds",
        "open",
    )
    assert record(db, call).outcome == "callback"


def test_another_key_on_the_hold_menu_keeps_the_caller_waiting(phone, db: Session) -> None:
    call = queued(phone).hold(position=2, seconds=90).press("5")
    assert not call.hung_up and call.queue_action is not None
    assert "You are number 2" in call.hold(position=2, seconds=120).text
    assert db.scalars(select(CallbackRequest)).all() == []


def test_after_the_maximum_wait_the_caller_may_leave_a_voicemail(phone, db: Session) -> None:
    call = queued(phone).hold(position=1, seconds=600)
    assert "all our agents are still busy" in call.text
    call.press("1")
    assert "leave your message after the tone" in call.text
    call.leave_message(duration=17)
    assert "We have your message" in call.text and call.hung_up
    voicemail = db.scalars(select(Voicemail)).one()
    assert voicemail.duration_seconds == 17 and voicemail.topic == "funds"
    assert voicemail.recording_url.endswith(f"/Recordings/{voicemail.recording_sid}")
    assert voicemail.customer_id == EMILY["id"]
    left = [e.data for e in record(db, call).events if e.kind == "queue.left"]
    assert left == [{"queue": "funds", "result": "leave", "seconds": 600, "reason": "max_wait"}]


def test_after_the_maximum_wait_the_caller_may_ask_for_a_callback(phone, db: Session) -> None:
    queued(phone).hold(position=1, seconds=601).press("2")
    assert db.scalars(select(CallbackRequest)).one().number == EMILY["phone"]


def test_an_empty_voicemail_ends_the_call_kindly(phone, db: Session) -> None:
    call = queued(phone).hold(position=1, seconds=700).press("1").silence()
    assert "did not receive a message" in call.text and call.hung_up
    assert db.scalars(select(Voicemail)).all() == []


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 29, 15, 0, tzinfo=UTC),  # Sunday 23:00 in Shanghai
        datetime(2027, 1, 1, 3, 0, tzinfo=UTC),  # New Year's Day, 11:00
    ],
)
def test_outside_hours_an_agent_means_voicemail_or_a_callback(
    app: Flask, phone, db: Session, moment: datetime
) -> None:
    app.extensions["clock"] = lambda: moment
    call = phone(WANG["phone"]).dial().press("1").press(WANG["pin"]).press("0")
    assert "现在不是人工客服服务时间" in call.text and "留言请按1" in call.text
    assert call.queue is None
    call.press("2")
    assert db.scalars(select(CallbackRequest)).one().topic == "general"


def test_self_service_still_works_outside_hours(app: Flask, phone) -> None:
    app.extensions["clock"] = lambda: datetime(2026, 11, 29, 15, 0, tzinfo=UTC)
    call = phone(WANG["phone"]).dial().press("1").press(WANG["pin"]).press("2").press("3")
    assert "500元" in call.text


def test_a_withheld_caller_asking_for_a_callback_may_leave_a_voicemail(phone, db: Session) -> None:
    call = phone("anonymous").dial().press("2").silence().silence().silence()
    call.silence()  # offered an agent, stays on the line: the general queue
    call.hold(position=1, seconds=120).press("1")
    assert "leave your message after the tone" in call.text
    assert db.scalars(select(CallbackRequest)).all() == []


@pytest.mark.parametrize(
    ("result", "outcome"), [("hangup", "abandoned"), ("queue-full", "left_queue")]
)
def test_leaving_the_queue_otherwise(phone, db: Session, result: str, outcome: str) -> None:
    call = queued(phone).leave_queue(result, seconds=33)
    if result == "queue-full":
        assert "To leave a voicemail, press 1" in call.text
    assert record(db, call).outcome == outcome


@pytest.mark.parametrize(("key", "rating"), [("5", 5), ("1", 1), ("8", None), ("*", None)])
def test_the_rating_after_an_agent_call(phone, db: Session, key: str, rating: int | None) -> None:
    call = queued(phone).leave_queue("bridged", seconds=50)
    assert "Please rate this call from 1" in call.text
    call.press(key)
    assert "Thank you for calling" in call.text and call.hung_up
    assert record(db, call).rating == rating
