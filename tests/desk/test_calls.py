"""Callers on the desk: the screen pop, Accept and Pass racing the phone's keys (whichever
comes first wins, once), notes, the wrap-up with a disposition, and the agent's status,
driven as Twilio drives the calls while the agent's simulated phone carries the voice."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AgentCall, Call, RefundTicket
from telephony.simulator import Leg, Person, RestStandIn, Switch
from tests.conftest import OPEN_HOURS
from tests.desk.desks import Desk
from tests.queueing.test_agent_line import EMILY, FANG, LINA, SARAH, WANG, agent_status, waiting

pytestmark = pytest.mark.usefixtures("demo")


def at_desk(client: FlaskClient, agent: dict, status: str = "available") -> Desk:
    desk = Desk(client)
    assert desk.sign_in(agent["id"], agent["desk_password"]).status_code == 302
    assert desk.post("/desk/status", status=status).status_code == 303
    return desk


def emily_waits(phone, *keys: str) -> Leg:  # noqa: ANN001
    """Emily, in English, verified, through ``keys`` of the menus, then asks for an agent."""
    return waiting(phone, EMILY, keys or ("2",), language="2")


def call_id(db: Session, leg: Leg) -> int:
    db.rollback()
    return db.scalars(select(Call.id).where(Call.call_sid == leg.call_sid)).one()


def accepted_on_desk(
    client: FlaskClient,
    phone,
    switch: Switch,
    db: Session,  # noqa: ANN001
) -> tuple[Leg, Desk, Leg]:
    """Emily waits; Fang, available at the desk, is rung, hears the whisper on the phone
    and accepts on the desk: Emily, Fang's desk and Fang's phone."""
    caller = emily_waits(phone)
    desk = at_desk(client, FANG)
    agent = phone_of(switch, FANG).press("1")
    assert "Emily Chen" in agent.text
    answer = desk.post("/desk/accept", call=call_id(db, caller))
    assert answer.status_code == 303 and desk.messages().strip() == ""
    switch.wait(0)
    return caller, desk, agent


def phone_of(switch: Switch, agent: dict) -> Leg:
    switch.wait(0)  # what the desk asked of Twilio happens
    leg = switch.phone(agent["phone"]).call
    assert leg is not None, "the agent's phone is not ringing or on a call"
    return leg


def test_going_available_on_the_desk_rings_the_agent_for_a_waiting_caller(
    client: FlaskClient, phone, switch: Switch, twilio_api: RestStandIn, db: Session
) -> None:
    caller = emily_waits(phone)
    assert twilio_api.calls() == []  # nobody is available
    desk = at_desk(client, FANG)
    [ring] = twilio_api.calls()
    assert ring["To"] == FANG["phone"]
    pop = desk.state()["pop"]
    assert pop["call"] == call_id(db, caller) and pop["offered"] is True
    page = desk.page()
    assert f'<section id="pop" data-call="{pop["call"]}">' in page
    assert 'id="accept">' in page and 'id="pass">' in page


def test_the_pop_says_who_is_calling_and_why(
    client: FlaskClient, phone, db: Session, app: Flask
) -> None:
    earlier = Call(
        call_sid="CA" + "e" * 32,
        caller=EMILY["phone"],
        started_at=OPEN_HOURS - timedelta(days=2),
        customer_id=EMILY["id"],
        verified=True,
        queue="funds",
        outcome="agent",
        rating=4,
    )
    db.add(earlier)
    db.flush()
    db.add(
        AgentCall(
            call_sid="CA" + "f" * 32,
            agent_id="A01",
            caller_call_id=earlier.id,
            started_at=earlier.started_at,
            disposition="refund_opened",
        )
    )
    db.commit()
    caller = emily_waits(phone, "3", "1")  # hears her latest transaction
    sarah = at_desk(client, SARAH)  # English only: the pop in English
    state = sarah.state()
    pop = state["pop"]
    assert pop["call"] == call_id(db, caller)
    assert "Emily Chen" in pop["who"] and "(verified)" in pop["who"]
    assert "English" in pop["who"] and "*******7000" in pop["who"]
    why = pop["why"]
    assert "transactions and refunds" in why
    assert "main → 3; transactions → 1" in why
    assert "their latest transaction" in why
    assert "payment 59.90 failed (merchant): the bank that issued the card declined it" in why
    assert "agent, Refund opened, rated 4/5" in why  # the earlier call and its outcome
    everything = json.dumps(state, ensure_ascii=False)
    assert EMILY["pin"] not in everything and EMILY["phone"] not in everything


def test_the_pop_shows_open_refund_tickets_in_the_agents_language(
    client: FlaskClient, phone, db: Session
) -> None:
    wang = phone(WANG["phone"]).dial().press("1").press("#").press(WANG["pin"])
    wang.press("3").press("2").press("1").press("0")  # a refund, confirmed; then an agent
    assert wang.wait_url is not None
    why = at_desk(client, LINA).state()["pop"]["why"]  # Mandarin first
    assert "交易与退款" in why and "退款申请" in why
    db.rollback()
    ticket = db.scalars(select(RefundTicket)).one()
    assert f"<li>{ticket.reference}: {ticket.amount}" in why


def test_an_unverified_caller_shows_no_account_data(
    client: FlaskClient, phone, db: Session
) -> None:
    # A stranger asks for an agent at the number prompt.
    stranger = phone("+8613012345678").dial().press("2").press("0")
    assert stranger.wait_url is not None
    pop = at_desk(client, SARAH).state()["pop"]
    assert pop is not None and "Unverified caller" in pop["who"]
    assert "Account data is shown only for verified callers" in pop["why"]


def test_accept_on_the_desk_connects_and_a_late_phone_key_does_nothing(
    client: FlaskClient, phone, switch: Switch, twilio_api: RestStandIn, db: Session
) -> None:
    caller, desk, agent = accepted_on_desk(client, phone, switch, db)
    room = f"hotline-{caller.call_sid}"
    assert caller.conference == room and agent.conference == room
    assert len(twilio_api.dequeues()) == 1
    assert agent_status(db, FANG) == "busy"
    # The phone's key 1, arriving late: the room again, no second dequeue.
    late = agent.post("/agents/answer", {"Digits": "1"})
    assert f">{room}<" in late
    assert len(twilio_api.dequeues()) == 1
    state = desk.state()
    assert state["pop"]["offered"] is False and state["on_call"] is True
    assert 'id="accept" hidden' in desk.page()


def test_a_phone_key_first_and_the_desk_accept_is_refused(
    client: FlaskClient, phone, switch: Switch, twilio_api: RestStandIn, db: Session
) -> None:
    caller = emily_waits(phone)
    desk = at_desk(client, FANG)
    agent = phone_of(switch, FANG).press("1").press("1")  # the whisper, then accept
    assert agent.conference == f"hotline-{caller.call_sid}"
    desk.post("/desk/accept", call=call_id(db, caller))
    assert "Too late" in desk.messages()
    switch.wait(0)
    assert len(twilio_api.dequeues()) == 1 and agent.conference == f"hotline-{caller.call_sid}"


def test_accepted_on_the_desk_before_the_phone_answers_it_goes_straight_into_the_room(
    client: FlaskClient, phone, switch: Switch, twilio_api: RestStandIn, db: Session
) -> None:
    switch.phone(FANG["phone"]).behaviour = Person()
    caller = emily_waits(phone)
    desk = at_desk(client, FANG)
    ringing = phone_of(switch, FANG)
    desk.post("/desk/accept", call=call_id(db, caller))
    switch.wait(0)
    assert caller.conference == f"hotline-{caller.call_sid}"
    ringing.answer()
    assert "Press 1" not in ringing.text  # no key, no whisper: read on the desk
    assert ringing.conference == f"hotline-{caller.call_sid}"


def test_pass_on_the_desk_rings_the_next_agent_and_ends_the_ring(
    client: FlaskClient, phone, switch: Switch, twilio_api: RestStandIn, db: Session
) -> None:
    caller = emily_waits(phone)
    fang = at_desk(client, FANG)
    agent = phone_of(switch, FANG)
    lina = at_desk(FlaskClient(client.application, use_cookies=True), LINA, "break")
    lina.post("/desk/status", status="available")  # rung for nothing: Emily is Fang's
    assert [ring["To"] for ring in twilio_api.calls()] == [FANG["phone"]]
    fang.post("/desk/pass", call=call_id(db, caller))
    switch.wait(0)
    assert not agent.live  # Fang's phone hung up
    assert [ring["To"] for ring in twilio_api.calls()] == [FANG["phone"], LINA["phone"]]
    assert fang.state()["pop"] is None and lina.state()["pop"]["call"] == call_id(db, caller)
    assert agent_status(db, FANG) == "available"
    # Fang is not offered Emily again while the pass holds.
    fang.post("/desk/accept", call=call_id(db, caller))
    assert "Too late" in fang.messages()


def test_a_pass_on_the_desk_while_the_phone_still_rings_is_no_missed_ring(
    client: FlaskClient, phone, switch: Switch, twilio_api: RestStandIn, db: Session
) -> None:
    switch.phone(FANG["phone"]).behaviour = Person()  # it rings; Fang reads the desk
    caller = emily_waits(phone)
    fang = at_desk(client, FANG)
    switch.wait(0)
    assert fang.state()["pop"]["call"] == call_id(db, caller)
    fang.post("/desk/pass", call=call_id(db, caller))
    switch.wait(30)  # the ring runs out unanswered: Fang had already said no
    assert agent_status(db, FANG) == "available"  # not taken offline as for a missed ring


def test_notes_then_wrap_up_with_a_disposition_then_ready(
    client: FlaskClient, phone, switch: Switch, twilio_api: RestStandIn, db: Session
) -> None:
    caller, desk, agent = accepted_on_desk(client, phone, switch, db)
    desk.post("/desk/notes", notes="Top-up T9201 overdue; asked the bank.")
    assert desk.state()["notes"] == "Top-up T9201 overdue; asked the bank."
    caller.conference_ends(seconds=60)  # Emily hangs up
    assert agent_status(db, FANG) == "wrap_up"
    state = desk.state()
    assert state["wrap_up"] is True and state["on_call"] is False and state["pop"] is None
    assert state["wrap_up_left"] == 30  # AGENT_WRAP_UP_SECONDS
    page = desk.page()
    assert '<section id="wrap-up">' in page and '<option value="resolved">' in page
    desk.post("/desk/wrap-up", disposition="escalated", notes="Bank to confirm by Friday.")
    switch.wait(0)
    db.rollback()
    leg = db.scalars(select(AgentCall).where(AgentCall.call_sid == agent.call_sid)).one()
    assert (leg.disposition, leg.notes) == ("escalated", "Bank to confirm by Friday.")
    assert leg.stage == "ended" and not agent.live  # the phone's wrap-up ended with it
    assert agent_status(db, FANG) == "available"


def test_an_agent_who_hangs_up_the_phone_still_gives_the_call_its_disposition(
    client: FlaskClient, phone, switch: Switch, twilio_api: RestStandIn, db: Session
) -> None:
    caller, desk, agent = accepted_on_desk(client, phone, switch, db)
    caller.conference_ends(seconds=60)
    agent.hang_up()  # ready again, as the phone's wrap-up says
    assert agent_status(db, FANG) == "available"
    state = desk.state()
    assert (state["wrap_up"], state["wrap_up_left"]) == (True, None)  # no limit runs now
    assert '<small id="wrap-up-limit" hidden>' in desk.page()
    desk.post("/desk/wrap-up", disposition="resolved", notes="")
    db.rollback()
    leg = db.scalars(select(AgentCall).where(AgentCall.call_sid == agent.call_sid)).one()
    assert leg.disposition == "resolved" and agent_status(db, FANG) == "available"
    assert desk.state()["wrap_up"] is False


def test_a_disposition_not_in_the_flow_file_is_refused(client: FlaskClient) -> None:
    desk = at_desk(client, FANG)
    assert desk.post("/desk/wrap-up", disposition="made_up").status_code == 400


def test_status_and_time_in_status(client: FlaskClient, app: Flask, db: Session) -> None:
    desk = at_desk(client, SARAH, "break")
    later = OPEN_HOURS + timedelta(seconds=42)
    app.extensions["clock"] = lambda: later
    state = desk.state()
    assert (state["status"], state["status_seconds"]) == ("break", 42)
    assert 'data-status="break">On a break</span>' in desk.page()
    assert '<span id="status-since" data-seconds="42">0:42</span>' in desk.page()
    desk.post("/desk/status", status="offline")
    assert desk.state()["status_seconds"] == 0 and agent_status(db, SARAH) == "offline"


def test_a_busy_agent_cannot_choose_a_status(
    client: FlaskClient, phone, switch: Switch, db: Session
) -> None:
    emily_waits(phone)
    desk = at_desk(client, FANG)  # rung: busy
    desk.post("/desk/status", status="break")
    assert "follows your call" in desk.messages()
    assert agent_status(db, FANG) == "busy"
