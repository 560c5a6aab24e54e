"""Waiting for an agent (SPEC §6): what the queue plays, callbacks, voicemail, hours, rating."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from flowfile.queues import HoldMusic
from models import Agent, Call, CallbackRequest, CallEvent, Voicemail
from queueing import hold_tone
from telephony.simulator import Leg, Switch
from tests.calls.test_stages import late
from tests.conftest import BASE_URL
from tests.demo import DEMO, customer, national

pytestmark = pytest.mark.usefixtures("demo")

WANG = customer(language="zh")
EMILY = customer(language="en")
AGENTS = {agent["id"]: agent for agent in DEMO["agents"]}
LINA, FANG = AGENTS["A01"], AGENTS["A04"]
HOLD_TONE = f"{BASE_URL}/media/hold-tone-{hold_tone.VERSION}.wav"


def queued(phone, who: dict = EMILY, path: tuple[str, ...] = ("2",)) -> Leg:  # noqa: ANN001
    call = (
        phone(who["phone"]).dial().press("2" if who is EMILY else "1").press("#").press(who["pin"])
    )
    for key in path:
        call.press(key)
    call.press("0")
    assert call.wait_url is not None
    return call


def record(db: Session, call: Leg) -> Call:
    db.rollback()
    return db.scalars(select(Call).where(Call.call_sid == call.call_sid)).one()


@pytest.fixture
def live_clock(app: Flask, switch: Switch) -> None:
    """Hotline's clock is the simulated network's: time passes as calls play."""
    app.extensions["clock"] = switch.clock.moment


def agent_signs_in(phone, agent: dict) -> Leg:  # noqa: ANN001
    return phone(agent["phone"]).dial("/agents/incoming").press(agent["pin"])


def on_a_call(db: Session, agent: dict) -> None:
    db.execute(update(Agent).where(Agent.id == agent["id"]).values(status="busy"))
    db.commit()


def test_waiting_callers_hear_how_many_are_ahead_of_them_and_hold_music(phone) -> None:
    first = queued(phone)
    assert "You are next in line." in first.text
    queued(phone)
    third = queued(phone).hold()
    assert "2 callers are ahead of you." in third.text
    assert set(third.played) == {HOLD_TONE}  # Hotline's own tone: its length is known
    assert "call you back" not in third.text  # not yet: they have only just joined
    first.hang_up()
    assert "There is 1 caller ahead of you." in third.hold().text


def test_mandarin_callers_hear_how_many_are_ahead(phone) -> None:
    first = queued(phone, WANG)
    assert "下一位就是您。" in first.text
    assert "您前面还有1位客户。" in queued(phone, WANG).text


def test_callers_no_agent_of_theirs_could_take_are_not_counted(phone, db: Session) -> None:
    db.execute(update(Agent).where(Agent.id == LINA["id"]).values(languages=["zh"]))
    db.commit()
    queued(phone, WANG, ("1",))  # account, in Mandarin: only Lina or Gang could take him
    queued(phone, WANG, ("2",))  # funds, in Mandarin: Fang could, and she is Emily's too
    # Emily's transactions question goes to Sarah or Fang: one caller is ahead of her.
    assert "There is 1 caller ahead of you." in queued(phone, EMILY, ("3",)).text


def test_the_number_said_never_rises_when_an_urgent_caller_joins(phone) -> None:
    queued(phone)
    call = queued(phone)
    assert "There is 1 caller ahead of you." in call.text
    # A caller who is not verified reports a stolen account: the urgent queue, ahead of her.
    stolen = phone("+8613012345678").dial().press("2").silence().silence().silence()
    stolen.press("1").press("8")
    assert stolen.queue == "hotline-urgent"
    assert "There is 1 caller ahead of you." in call.hold().text  # not 2


def test_waits_are_told_from_the_waits_and_handling_times_of_earlier_callers(
    phone, switch: Switch, db: Session, live_clock: None
) -> None:
    first, second = queued(phone), queued(phone)
    switch.wait(120)
    lina = agent_signs_in(phone, LINA).press("1").press("1")  # takes the first caller
    first.conference_ends(seconds=240)
    lina.press("1").press("1")  # wrap-up over: the next caller, accepted
    second.conference_ends(seconds=480)
    lina.press("1").press("3")  # wrap-up over; nobody waits: offline
    on_a_call(db, FANG)  # the one agent on who could take Emily
    call = queued(phone)
    said = re.search(r"The expected wait is about (\d+) minutes\.", call.text)
    assert said is not None, call.text
    # Lina spent about 4 and 8 minutes on them (smoothed: about 5): Emily is next.
    assert 5 <= int(said.group(1)) <= 7
    db.rollback()
    answered = db.scalars(select(Call).where(Call.agent_id == LINA["id"]).order_by(Call.id)).all()
    # Recorded when Lina took them, and when she was free again.
    waits = [(c.answered_at - c.queued_at).total_seconds() for c in answered]  # type: ignore[operator]
    assert waits[0] >= 120 and waits[1] > waits[0]  # the second waited through the first call
    handled = [c.handled_seconds or 0 for c in answered]
    assert 240 <= handled[0] < 480 <= handled[1]


def test_the_wait_is_not_promised_again_once_the_caller_is_past_it(
    phone, switch: Switch, db: Session, live_clock: None
) -> None:
    caller = queued(phone)
    switch.wait(60)
    lina = agent_signs_in(phone, LINA).press("1").press("1")
    caller.conference_ends(seconds=50)
    lina.press("1").press("3")
    on_a_call(db, FANG)
    call = queued(phone)
    assert "The expected wait is about 2 minutes." in call.text  # 50 s talk and wrap-up
    call.hold().hold().hold()  # well past two minutes, still waiting
    assert "expected wait" not in call.text
    assert "as soon as one is free" in call.text


def test_one_minute_is_said_as_one_minute(
    phone, switch: Switch, db: Session, live_clock: None
) -> None:
    caller = queued(phone, WANG)
    lina = agent_signs_in(phone, LINA).press("1").press("1")
    caller.conference_ends(seconds=20)
    lina.press("1").press("3")
    on_a_call(db, FANG)
    wang = queued(phone, WANG)
    assert "预计等待约1分钟。" in wang.text
    wang.hang_up()
    assert "The expected wait is about 1 minute." in queued(phone).text


def test_announcements_come_at_the_flows_cadence(phone, switch: Switch, app: Flask) -> None:
    every = app.extensions["flow"].waiting.announce_every_seconds
    call = queued(phone).hold()
    start = switch.clock.now
    call.hold()
    turn = switch.clock.now - start
    # One turn: the announcements' own speech, then music to the next announcement
    # (a generous bound for the speech, whose length the simulator estimates).
    assert every <= turn <= every + 15
    assert call.played == [HOLD_TONE] * (every // hold_tone.SECONDS)


def test_the_callback_key_is_heard_during_the_music(phone, db: Session) -> None:
    call = queued(phone).hold(seconds=90)
    assert "press 1 and we will call you back" in call.text
    call.press_during_music("1")
    assert "We will call you back" in call.text and call.hung_up
    assert db.scalars(select(CallbackRequest)).one().number == EMILY["phone"]


def test_hold_music_that_cannot_be_fetched_gives_way_to_hotlines_own(
    app: Flask, phone, switch: Switch, db: Session, live_clock: None
) -> None:
    flow = app.extensions["flow"]
    track = HoldMusic(url="https://music.example.com/hold.mp3", seconds=30)  # type: ignore[arg-type]
    waiting = flow.waiting.model_copy(update={"hold_music": track})
    app.extensions["flow"] = flow.model_copy(update={"waiting": waiting})
    switch.media[str(track.url)] = None  # Twilio cannot fetch it
    call = queued(phone)
    assert call.played == [] and call.live  # skipped; the caller still waits
    start = switch.clock.now
    call.hold()
    assert switch.clock.now - start >= 10  # not an empty loop: the rest of the turn is quiet
    assert call.played and set(call.played) == {HOLD_TONE}  # from then on, Hotline's own
    db.rollback()
    assert db.scalars(select(CallEvent).where(CallEvent.kind == "queue.hold_music_failed")).all()


def test_a_wait_document_asked_for_after_the_caller_hung_up_changes_nothing(
    app: Flask, phone, db: Session
) -> None:
    """Twilio may retry the wait document once the caller has gone: it is answered with
    music, and no row changes (``late`` compares every table), a minute on included."""
    call = queued(phone)
    wait_url = call.wait_url
    assert wait_url is not None
    call.hang_up()
    heard = late(app, db, call, wait_url, {"QueueSid": "QU" + "0" * 32, "QueueTime": "60"})
    assert heard.played == [HOLD_TONE] and not heard.hung_up


def test_a_callback_from_the_hold_menu_is_recorded_and_the_call_ends_politely(
    phone, db: Session
) -> None:
    call = queued(phone).hold(seconds=90)
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
    call = queued(phone).hold(seconds=90).press("5")
    assert not call.hung_up and call.queue_action is not None
    assert "You are next in line" in call.hold(seconds=120).text
    assert db.scalars(select(CallbackRequest)).all() == []


def test_after_the_maximum_wait_the_caller_may_leave_a_voicemail(phone, db: Session) -> None:
    call = queued(phone).hold(seconds=600)
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
    queued(phone).hold(seconds=601).press("2")
    assert db.scalars(select(CallbackRequest)).one().number == EMILY["phone"]


def test_an_empty_voicemail_ends_the_call_kindly(phone, db: Session) -> None:
    call = queued(phone).hold(seconds=700).press("1").silence()
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
    call = phone(WANG["phone"]).dial().press("1").press("#").press(WANG["pin"]).press("0")
    assert "现在不是人工客服服务时间" in call.text and "留言请按1" in call.text
    assert call.queue is None
    call.press("2")
    assert db.scalars(select(CallbackRequest)).one().topic == "general"


def test_self_service_still_works_outside_hours(app: Flask, phone) -> None:
    app.extensions["clock"] = lambda: datetime(2026, 11, 29, 15, 0, tzinfo=UTC)
    call = (
        phone(WANG["phone"]).dial().press("1").press("#").press(WANG["pin"]).press("2").press("3")
    )
    assert "500元" in call.text


def withheld_in_queue(phone, language: str) -> Leg:  # noqa: ANN001
    """A caller who withheld their number and keyed nothing: offered an agent, stays on."""
    call = phone("anonymous").dial().press("1" if language == "zh" else "2")
    call.silence().silence().silence()
    call.silence()  # offered an agent, stays on the line: the general queue
    assert call.queue == "hotline-general"
    return call


@pytest.mark.parametrize(
    ("language", "offer", "choice", "record"),
    [
        ("zh", "我们会尽快给您回电", "回电请按2", "请在提示音后留言"),
        (
            "en",
            "we will call you back",
            "call you back, press 2",
            "leave your message after the tone",
        ),
    ],
)
def test_a_withheld_caller_is_offered_no_callback_only_voicemail(
    phone, db: Session, language: str, offer: str, choice: str, record: str
) -> None:
    call = withheld_in_queue(phone, language).hold(position=1, seconds=120)
    assert offer not in call.text and call.gather is None  # no number to call back
    call.hold(position=1, seconds=601)  # the longest wait
    assert choice not in call.text and record in call.text  # straight to the message
    call.leave_message()
    assert db.scalars(select(Voicemail)).one().topic == "general"
    assert db.scalars(select(CallbackRequest)).all() == []


def test_a_withheld_caller_outside_hours_may_leave_a_voicemail(app: Flask, phone) -> None:
    app.extensions["clock"] = lambda: datetime(2026, 11, 29, 15, 0, tzinfo=UTC)
    call = phone("anonymous").dial().press("2").silence().silence().silence().silence()
    assert "Our agents are not available" in call.text
    assert "call you back" not in call.text and "leave your message" in call.text


def test_a_verified_caller_with_a_withheld_number_is_called_back_on_their_own(
    phone, db: Session
) -> None:
    call = phone("anonymous").dial().press("2").press(national(EMILY["phone"]) + "#")
    call.press(EMILY["pin"]).press("0").hold(position=1, seconds=120)
    assert "call you back" in call.text
    call.press("1")
    assert db.scalars(select(CallbackRequest)).one().number == EMILY["phone"]


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
