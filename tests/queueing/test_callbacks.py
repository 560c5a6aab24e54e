"""Callbacks that happen (issue 9 #3): a callback keeps its caller's place among live
callers, is offered to agents by phone, and the customer is called back, told who is
calling before joining the agent; no answer is tried again after the retry minutes,
within business hours, then closed as unreachable. Whole calls through the simulator,
with the app's clock following Twilio's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from calls.context import Context
from models import Agent, CallbackAttempt, CallbackRequest
from models.db import session as app_session
from queueing import callbacks
from telephony.simulator import Leg, Machine, NoAnswer, Person, RestStandIn, Switch
from tests.conftest import BASE_URL
from tests.demo import DEMO

pytestmark = pytest.mark.usefixtures("demo")

AGENTS = {agent["id"]: agent for agent in DEMO["agents"]}
LINA, FANG = AGENTS["A01"], AGENTS["A04"]
ANNOUNCEMENT = "比太钱包客服回电，接听请按1。"
# Tuesday 23:00 and Wednesday 08:30 in Shanghai: agents answer from 08:00 to 22:00.
NIGHT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
MORNING = datetime(2026, 11, 25, 0, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def twilio_time(app: Flask, switch: Switch) -> None:
    """The app's clock follows the simulated network's (both start at the same moment)."""
    app.extensions["clock"] = lambda: switch.clock.start + timedelta(seconds=switch.clock.now)


def number(n: int) -> str:
    """A caller nobody knows, whose number ends 560n."""
    return f"+86130123456{n:02d}"


def unknown(phone, n: int) -> Leg:  # noqa: ANN001
    """An unknown caller who asks for an agent at once (0 at the number): the general
    queue, in Mandarin, unverified."""
    call = phone(number(n)).dial().press("1").press("0")
    assert call.queued
    return call


def asks_for_a_callback(call: Leg, position: int) -> Leg:
    call.hold(position=position, seconds=70)  # from a minute on, the music offers it
    call.press_during_music("1")
    assert "我们会尽快回电至尾号" in call.text and call.hung_up
    return call


def signed_in(phone, agent: dict) -> Leg:  # noqa: ANN001
    return phone(agent["phone"]).dial("/agents/incoming").press(agent["pin"])


def available(db: Session, *agents: dict) -> None:
    for agent in agents:
        db.execute(
            update(Agent)
            .where(Agent.id == agent["id"])
            .values(status="available", status_since=datetime(2026, 11, 24, 1, tzinfo=UTC))
        )
    db.commit()


def the_callback(db: Session) -> CallbackRequest:
    db.rollback()
    return db.scalars(select(CallbackRequest)).one()


def attempts(db: Session) -> list[CallbackAttempt]:
    db.rollback()
    return list(db.scalars(select(CallbackAttempt).order_by(CallbackAttempt.id)))


def calls_to(twilio_api: RestStandIn, to: str) -> list[dict[str, str]]:
    return [call for call in twilio_api.calls() if call["To"] == to]


def test_a_callback_keeps_its_place_and_the_customer_hears_who_calls_before_the_agent(
    phone, switch: Switch, twilio_api: RestStandIn, db: Session
) -> None:
    first, second = unknown(phone, 1), unknown(phone, 2)
    third = asks_for_a_callback(unknown(phone, 3), position=3)
    fourth = unknown(phone, 4)  # queued after the callback's caller
    lina = signed_in(phone, LINA).press("1")  # the next caller now
    for caller in (first, second):
        assert "未验证客户" in lina.text and "回电" not in lina.text
        lina.press("1")
        assert lina.conference == caller.conference is not None
        lina.conference_ends(seconds=60)
        lina.press("1")  # wrap-up: ready for the next now
    # The callback comes before the caller who queued after it.
    assert "回电请求：尾号5 6 0 3的客户，业务：综合咨询。" in lina.text
    assert fourth.queued and calls_to(twilio_api, number(3)) == []
    lina.press("1")  # accept: Hotline calls the customer back
    assert "正在呼叫客户" in lina.text
    [placed] = calls_to(twilio_api, number(3))
    assert placed["From"] == "+8640012345678" and placed["Timeout"] == "30"
    back = switch.phone(number(3)).call
    assert back is not None and back.direction == "outbound-api"
    # Told who is calling, and not yet with the agent: an answering machine never is.
    assert back.text == ANNOUNCEMENT and back.conference is None
    assert lina.conference == f"hotline-{back.call_sid}"
    back.press("1")
    assert "正在为您接通客服" in back.text and back.conference == lina.conference
    assert fourth.queued  # still waiting: the callback went first
    lina.hang_up()
    assert "请为本次服务评价" in back.text  # rated like any agent call
    back.press("1")
    [attempt] = attempts(db)
    assert (attempt.result, attempt.agent_id, attempt.call_sid) == ("talked", "A01", back.call_sid)
    callback = the_callback(db)
    assert (callback.status, callback.attempts) == ("done", 0)
    assert third.hung_up


def test_a_caller_who_queued_later_counts_the_callback_ahead_and_does_not_get_its_agent(
    phone, twilio_api: RestStandIn, db: Session
) -> None:
    asks_for_a_callback(unknown(phone, 1), position=1)
    later = unknown(phone, 2).hold(position=1, seconds=20)
    assert "您前面还有1位客户" in later.text  # the callback keeps its caller's place
    available(db, LINA)
    later.hold(position=1, seconds=65)  # this wait document rings the free agent...
    [ring] = twilio_api.calls()
    assert ring["To"] == LINA["phone"] and "callback=" in ring["Url"]  # ...for the callback
    assert the_callback(db).offered_agent_id == LINA["id"]


def test_no_answer_is_tried_again_after_the_retry_minutes_then_closed_as_unreachable(
    app: Flask,
    phone,
    switch: Switch,
    twilio_api: RestStandIn,
    runner: FlaskCliRunner,
    db: Session,
) -> None:
    settings = app.extensions["settings"]
    app.extensions["settings"] = settings.model_copy(update={"public_base_url": BASE_URL})
    switch.phone(number(1)).behaviour = NoAnswer()
    asks_for_a_callback(unknown(phone, 1), position=1)
    assert twilio_api.calls() == []  # nobody is on
    # Lina goes available on the agent line: she is rung for the callback at once.
    signed_in(phone, LINA).press("2")

    def attempt_by_ring() -> Leg:
        ring = calls_to(twilio_api, LINA["phone"])[-1]
        assert "callback=" in ring["Url"], ring
        agent = switch.phone(LINA["phone"]).call
        assert agent is not None and "请按1收听" in agent.text, (ring, agent.url, agent.documents)
        agent.press("1")
        assert "回电请求：尾号5 6 0 1的客户" in agent.text
        return agent.press("1")

    agent = attempt_by_ring()
    # The customer's phone rang out: the agent is told, and goes to wrap-up.
    assert "未能联系到客户" in agent.text and "通话已结束" in agent.text
    assert [a.result for a in attempts(db)] == ["no-answer"]
    callback = the_callback(db)
    assert (callback.status, callback.attempts) == ("open", 1)
    agent.hang_up()  # ready again: the callback is not due yet, so nothing rings
    assert len(calls_to(twilio_api, number(1))) == 1
    assert runner.invoke(args=["callbacks", "run"]).output.strip() == "no callback is due"

    switch.wait(10 * 60 + 1)  # CALLBACK_RETRY_MINUTES after the attempt ended
    result = runner.invoke(args=["callbacks", "run"])  # cron's turn
    assert result.exit_code == 0 and "rang agent A01" in result.output
    switch.wait(1)  # Twilio places the ring
    agent = attempt_by_ring()
    assert "未能联系到客户" in agent.text
    agent.hang_up()
    assert [a.result for a in attempts(db)] == ["no-answer", "no-answer"]

    switch.wait(10 * 60 + 1)
    lina = signed_in(phone, LINA).press("1")  # on the agent line: the next, the callback
    assert "回电请求：尾号5 6 0 1的客户" in lina.text
    lina.press("1")
    assert "未能联系到客户" in lina.text
    made = attempts(db)
    assert [a.result for a in made] == ["no-answer"] * 3
    assert len({a.call_sid for a in made}) == 3 and all(a.agent_id == "A01" for a in made)
    assert all(a.ended_at is not None and a.started_at < a.ended_at for a in made)
    assert made[1].started_at - made[0].started_at >= timedelta(minutes=10)
    callback = the_callback(db)
    assert (callback.status, callback.attempts) == ("unreachable", 3)
    switch.wait(3600)
    assert runner.invoke(args=["callbacks", "run"]).output.strip() == "no callback is due"
    assert len(calls_to(twilio_api, number(1))) == 3


def test_outside_hours_no_attempt_is_made(
    app: Flask, phone, twilio_api: RestStandIn, runner: FlaskCliRunner, db: Session
) -> None:
    settings = app.extensions["settings"]
    app.extensions["settings"] = settings.model_copy(update={"public_base_url": BASE_URL})
    app.extensions["clock"] = lambda: NIGHT
    call = phone(number(1)).dial().press("1").press("0")  # closed: voicemail or a callback
    call.press("2")
    assert "我们会尽快回电" in call.text
    available(db, LINA)
    assert twilio_api.calls() == []
    result = runner.invoke(args=["callbacks", "run"])
    assert "outside business hours" in result.output and twilio_api.calls() == []
    assert "目前没有适合您的等待来电" in signed_in(phone, LINA).press("1").text
    assert attempts(db) == [] and the_callback(db).status == "open"
    app.extensions["clock"] = lambda: MORNING
    result = runner.invoke(args=["callbacks", "run"])
    assert "rang agent A01" in result.output


def test_an_agent_who_passes_on_a_callback_is_not_offered_it_again_and_the_next_is_rung(
    phone, switch: Switch, twilio_api: RestStandIn, db: Session
) -> None:
    asks_for_a_callback(unknown(phone, 1), position=1)
    available(db, FANG)
    signed_in(phone, LINA).press("2")  # ready: rung for the callback at once
    assert [ring["To"] for ring in twilio_api.calls()] == [LINA["phone"]]
    lina = switch.phone(LINA["phone"]).call
    assert lina is not None and lina.direction == "outbound-api"
    lina.press("1").press("2")  # hears it, passes: the next agent is rung
    assert lina.hung_up
    fang = switch.phone(FANG["phone"]).call
    assert fang is not None
    fang.press("1").press("2")  # passes too
    assert [ring["To"] for ring in twilio_api.calls()] == [LINA["phone"], FANG["phone"]]
    # Neither is offered it again while the passes hold.
    assert "目前没有适合您的等待来电" in signed_in(phone, LINA).press("1").text
    assert the_callback(db).status == "open" and attempts(db) == []


def desk(app: Flask) -> Context:
    services = app.extensions
    return Context(
        app_session(), services["flow"], services["settings"], services["twilio"],
        services["clock"](),
    )  # fmt: skip


def test_an_agent_who_accepts_on_the_desk_is_rung_and_the_customer_called_at_once(
    app: Flask, phone, switch: Switch, twilio_api: RestStandIn, db: Session
) -> None:
    asks_for_a_callback(unknown(phone, 1), position=1)
    available(db, LINA)
    db.rollback()
    with app.test_request_context(base_url=BASE_URL):
        ctx = desk(app)
        lina = ctx.session.get(Agent, LINA["id"])
        assert lina is not None
        [due] = callbacks.due_for(ctx, lina)
        assert callbacks.accept(ctx, lina, due.id)
        ctx.session.commit()
        assert not callbacks.accept(ctx, lina, due.id)  # once
    switch.wait(1)
    [ring] = calls_to(twilio_api, LINA["phone"])
    assert ring["Url"].startswith(f"{BASE_URL}/agents/callback?callback=")
    agent = switch.phone(LINA["phone"]).call
    assert agent is not None and "正在呼叫客户" in agent.text  # no key, no whisper
    back = switch.phone(number(1)).call
    assert back is not None and back.text == ANNOUNCEMENT
    back.press("1")
    assert back.conference == agent.conference is not None


def test_an_answering_machine_never_gets_the_agent(
    phone, switch: Switch, twilio_api: RestStandIn, db: Session
) -> None:
    asks_for_a_callback(unknown(phone, 1), position=1)
    switch.phone(number(1)).behaviour = Machine()  # when called back
    lina = signed_in(phone, LINA).press("1").press("1")
    machine = switch.phone(number(1)).legs[-1]
    assert machine.text == ANNOUNCEMENT and machine.conference is None and machine.hung_up
    assert "未能联系到客户" in lina.text
    assert [a.result for a in attempts(db)] == ["no_key"]
    assert the_callback(db).attempts == 1


def test_an_agent_who_hangs_up_while_the_customer_rings_ends_that_attempt_uncounted(
    phone, switch: Switch, twilio_api: RestStandIn, db: Session
) -> None:
    asks_for_a_callback(unknown(phone, 1), position=1)
    switch.phone(number(1)).behaviour = Person()  # called back, it rings until they decide
    lina = signed_in(phone, LINA).press("1").press("1")
    assert "正在呼叫客户" in lina.text
    lina.hang_up()
    back = switch.phone(number(1)).legs[-1]
    assert not back.live  # Hotline ended the customer's call
    assert [a.result for a in attempts(db)] == ["agent_left"]
    callback = the_callback(db)
    assert (callback.status, callback.attempts, callback.due_at) == ("open", 0, None)


def test_a_callback_twilio_refuses_to_place_is_due_again_uncounted(
    phone, twilio_api: RestStandIn, db: Session
) -> None:
    asks_for_a_callback(unknown(phone, 1), position=1)
    lina = signed_in(phone, LINA).press("1")
    twilio_api.fail_next(status=400, code=21215)  # the customer's call is refused
    lina.press("1")
    assert "该客户已被其他坐席接听或已挂断" in lina.text and not lina.hung_up  # the menu
    assert [a.result for a in attempts(db)] == ["not_placed"]
    callback = the_callback(db)
    assert (callback.status, callback.attempts, callback.due_at) == ("open", 0, None)
    db.rollback()
    agent = db.get(Agent, LINA["id"])
    assert agent is not None and agent.status == "offline"  # as she called in: on no call
    assert "回电请求" in lina.press("1").text  # offered again at once


def test_an_agent_who_leaves_after_the_customer_pressed_1_has_them_called_again(
    phone, switch: Switch, twilio_api: RestStandIn, runner: FlaskCliRunner, db: Session
) -> None:
    """The customer never queued, so there is no place to send them back to: they hear
    that we will call again, as when the agent leaves while their phone rings."""
    asks_for_a_callback(unknown(phone, 1), position=1)
    lina = signed_in(phone, LINA).press("1").press("1")
    back = switch.phone(number(1)).call
    assert back is not None and back.text == ANNOUNCEMENT and back.gather is not None
    # The customer's 1 reaches Hotline; the agent hangs up while the customer's phone
    # still plays the hand-off line, before the customer is in the room.
    back.post(back.gather.action, {"Digits": "1"})
    available(db, FANG)
    lina.hang_up()
    assert "我们会再给您回电" in back.text and back.hung_up and not back.queued
    [attempt] = attempts(db)
    assert attempt.result == "agent_left"  # uncounted: due again at once...
    callback = the_callback(db)
    assert (callback.status, callback.attempts, callback.due_at) == ("open", 0, None)
    # ...and offered to the next ready agent.
    assert [ring["To"] for ring in twilio_api.calls()][-1] == FANG["phone"]
    fang = switch.phone(FANG["phone"]).call
    assert fang is not None and "回电请求：尾号5 6 0 1的客户" in fang.press("1").text
    checked = runner.invoke(args=["check-data"])
    assert checked.exit_code == 0, checked.output
