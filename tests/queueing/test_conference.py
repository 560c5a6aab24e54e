"""A caller and an agent in one room (issue 8 #1): a caller alone hears hold music; an
agent who never comes, or whose line drops before the caller is with them, sends the
caller back to the front of the queue with an apology; an agent alone whose caller is
gone goes to wrap-up; the talk time comes from the room's events, and the rating
follows a real conversation. Driven as Twilio drives every leg, with the app's clock
following Twilio's so that deadlines pass as the calls go on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Call, CallEvent
from queueing import hold_tone
from queueing.conference import AGENT_JOIN_SECONDS
from telephony.simulator import Leg, Switch
from tests.demo import DEMO
from tests.queueing.test_agent_line import EMILY, FANG, LINA, WANG, agent_status, signed_in
from tests.queueing.test_agent_line import waiting as queued

pytestmark = pytest.mark.usefixtures("demo")

LI_JING = next(c for c in DEMO["customers"] if c["id"] == "C1002")  # another Mandarin caller
HOLD_MUSIC = f"/media/hold-tone-{hold_tone.VERSION}.wav"  # the default flow plays Hotline's own
SORRY = {
    "zh": "抱歉，刚才的客服未能接通，您的排队位置保持不变。",
    "en": "We are sorry, the agent could not be connected. You keep your place in the queue.",
}
RATE = {"zh": "请为本次服务评价", "en": "Please rate this call"}
BEST_SCORE_KEY = {"zh": "1", "en": "5"}  # Mandarin callers hear the best score first
CALLERS = [pytest.param(WANG, "1", "zh", id="zh"), pytest.param(EMILY, "2", "en", id="en")]


@pytest.fixture(autouse=True)
def twilio_time(app: Flask, switch: Switch) -> None:
    """The app's clock follows the simulated network's (both start at the same moment)."""
    app.extensions["clock"] = lambda: switch.clock.start + timedelta(seconds=switch.clock.now)


def row(db: Session, call: Leg) -> Call:
    db.rollback()
    return db.scalars(select(Call).where(Call.call_sid == call.call_sid)).one()


def events(db: Session, call: Leg, kind: str) -> list[dict]:
    db.rollback()
    return [
        event.data
        for event in db.scalars(
            select(CallEvent)
            .join(Call)
            .where(Call.call_sid == call.call_sid, CallEvent.kind == kind)
            .order_by(CallEvent.id)
        )
    ]


def heard_music(call: Leg) -> bool:
    return any(url.endswith(HOLD_MUSIC) for url in call.played)


@pytest.mark.parametrize(("who", "language_key", "language"), CALLERS)
def test_an_agent_whose_line_drops_in_the_room_sends_the_caller_back_to_the_front(
    phone, db: Session, twilio_api, who: dict, language_key: str, language: str
) -> None:
    first = queued(phone, who, ("2",), language=language_key)
    queued_at = row(db, first).queued_at
    later = queued(phone, LI_JING, ("2",))  # queued after them, for the same agents
    agent = signed_in(phone, LINA).press("1")
    assert who["name"] in agent.text
    agent.drops_after("Dial").press("1")  # in the room alone, then the line drops
    assert SORRY[language] in first.text and first.queued  # not left alone in silence
    assert [u.form["Url"].split("?")[0] for u in twilio_api.call_updates()] == [
        "http://localhost/voice/queue/requeue"
    ]
    back = row(db, first)
    assert (back.stage, back.queued_at, back.offered_agent_id) == ("queued", queued_at, None)
    # Accepted and vanished: offline, like a missed ring, and not rung again.
    assert agent_status(db, LINA) == "offline" and twilio_api.calls() == []
    # The next agent takes them first: their place is the one they had.
    assert who["name"] in signed_in(phone, FANG).press("1").text
    assert later.queued


@pytest.mark.parametrize(("who", "language_key", "language"), CALLERS)
def test_an_agent_who_never_joins_in_time_sends_the_caller_back(
    phone, switch: Switch, db: Session, who: dict, language_key: str, language: str
) -> None:
    caller = queued(phone, who, ("2",), language=language_key)
    agent = signed_in(phone, LINA).press("1")
    agent.drops_at("Dial").press("1")  # the phone hangs up while "connecting"
    assert caller.conference is not None and heard_music(caller)
    assert SORRY[language] not in caller.text  # still within the limit: hold music
    switch.wait(AGENT_JOIN_SECONDS + 15)  # the next turn of the music checks the limit
    assert SORRY[language] in caller.text and caller.queued
    assert row(db, caller).stage == "queued"
    assert agent_status(db, LINA) == "offline"  # accepted and vanished: not rung again
    assert events(db, caller, "agent.not_connected") == [
        {"agent": LINA["id"], "reason": "never_joined"}
    ]
    assert who["name"] in signed_in(phone, FANG).press("1").text


def test_a_caller_alone_in_the_room_hears_hold_music(phone, switch: Switch, db: Session) -> None:
    caller = queued(phone, WANG, ("2",))
    signed_in(phone, LINA).drops_at("Dial").press("1").press("1")
    assert caller.conference is not None and row(db, caller).stage == "connected"
    assert heard_music(caller)  # not silence: Twilio's waitUrl="" would be
    room = caller.documents[-1]
    assert "<Play" in room and HOLD_MUSIC in room  # one turn of the hold track


@pytest.mark.parametrize(("who", "language_key", "language"), CALLERS)
def test_the_talk_time_comes_from_the_room_and_the_rating_follows(
    phone, switch: Switch, db: Session, who: dict, language_key: str, language: str
) -> None:
    caller = queued(phone, who, ("2",), language=language_key)
    agent = signed_in(phone, FANG).press("1").press("1")
    assert caller.conference == agent.conference
    switch.wait(95)
    agent.hang_up()  # a normal end: the room ends for the caller too
    assert RATE[language] in caller.text
    caller.press(BEST_SCORE_KEY[language])
    [ended] = events(db, caller, "agent.call_ended")
    # Twilio's Timestamps of the second join and the first leave, 95 s apart.
    assert ended["agent"] == FANG["id"] and 95 <= ended["seconds"] < 100
    done = row(db, caller)
    assert (done.outcome, done.rating, done.talk_seconds) == ("agent", 5, ended["seconds"])


def test_an_agent_alone_whose_caller_hung_up_goes_to_wrap_up(
    phone, switch: Switch, db: Session
) -> None:
    caller = queued(phone, WANG, ("2",))
    agent = signed_in(phone, LINA).press("1")
    caller.drops_at("Dial")  # hangs up on the way to the agent's room
    agent.press("1")
    assert caller.hung_up and agent.conference is not None
    switch.wait(10)  # the agent's wait document notices, and Hotline moves them out
    assert "通话已结束" in agent.text and agent_status(db, LINA) == "wrap_up"
