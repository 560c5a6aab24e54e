"""Agents' status history: each change of an agent's status, wherever Hotline makes it
(the desk, a ring, a call's end, the wrap-up), leaves a row with the app clock's time,
in order; a change that lost its race leaves none."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AgentStatusChange
from telephony.simulator import RestStandIn, Switch
from tests.conftest import OPEN_HOURS
from tests.desk.test_calls import at_desk, call_id, emily_waits, phone_of
from tests.queueing.test_agent_line import FANG, agent_status

pytestmark = pytest.mark.usefixtures("demo")


def history(db: Session, agent: dict) -> list[tuple[str, datetime]]:
    db.rollback()
    rows = db.scalars(
        select(AgentStatusChange)
        .where(AgentStatusChange.agent_id == agent["id"])
        .order_by(AgentStatusChange.at, AgentStatusChange.id)
    )
    return [(row.status, row.at) for row in rows]


def clock(app: Flask) -> Callable[[int], datetime]:
    """``at(seconds)``: the app's clock moved to that many seconds after OPEN_HOURS."""

    def at(seconds: int) -> datetime:
        moment = OPEN_HOURS + timedelta(seconds=seconds)
        app.extensions["clock"] = lambda: moment
        return moment

    return at


def test_an_agents_day_leaves_their_history_in_order(
    app: Flask, client: FlaskClient, phone, switch: Switch, db: Session
) -> None:
    at = clock(app)
    assert history(db, FANG) == []  # the demo's agents start offline, unwritten
    caller = emily_waits(phone)
    signed_in = at(0)
    desk = at_desk(client, FANG)  # available, and rung at once for Emily: busy
    agent = phone_of(switch, FANG).press("1")
    at(10)
    desk.post("/desk/status", status="break")  # refused: a call decides a busy status
    assert "follows your call" in desk.messages()
    accepted = at(20)
    desk.post("/desk/accept", call=call_id(db, caller))  # busy again, on the call now
    switch.wait(0)
    assert agent.conference is not None
    wrap_up = at(200)
    caller.conference_ends(seconds=180)  # Emily hangs up: Fang is in wrap-up
    ready = at(215)
    desk.post("/desk/wrap-up", disposition="resolved", notes="")
    switch.wait(0)
    on_break = at(900)
    desk.post("/desk/status", status="break")
    signed_out = at(1500)
    desk.post("/desk/status", status="offline")

    assert agent_status(db, FANG) == "offline"
    assert history(db, FANG) == [
        ("available", signed_in),
        ("busy", signed_in),
        ("busy", accepted),
        ("wrap_up", wrap_up),
        ("available", ready),
        ("break", on_break),
        ("offline", signed_out),
    ]


def test_a_ring_twilio_refuses_is_written_as_taken_and_freed(
    app: Flask, client: FlaskClient, phone, twilio_api: RestStandIn, db: Session
) -> None:
    at = clock(app)
    signed_in = at(0)
    at_desk(client, FANG)  # nobody waits: available
    rung = at(30)
    twilio_api.fail_next(status=400, code=21215)
    # Fang is taken for the ring, which Twilio refuses: free again, and taken for the
    # next ring, which the wait document's next turn makes at once.
    emily_waits(phone)

    assert len(twilio_api.calls()) == 2 and agent_status(db, FANG) == "busy"
    assert history(db, FANG) == [
        ("available", signed_in),
        ("busy", rung),
        ("available", rung),
        ("busy", rung),
    ]
