"""How agents' calls end (issue 8): wrap-up ends on the agent's key, on their hang-up
(the agent line's status callback) or after AGENT_WRAP_UP_SECONDS even when no
callback comes; an agent who hangs up while hearing about a caller frees that caller
at once; calls that end at the PIN or in the menu change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Agent, AgentCall, Call
from telephony.simulator import Leg
from tests.conftest import OPEN_HOURS
from tests.demo import DEMO, customer

pytestmark = pytest.mark.usefixtures("demo")

AGENTS = {agent["id"]: agent for agent in DEMO["agents"]}
LINA, FANG = AGENTS["A01"], AGENTS["A04"]
WANG = customer(language="zh")
LI = DEMO["customers"][1]  # a second Mandarin-speaking customer with a PIN


def agent_status(db: Session, agent: dict) -> str:
    db.rollback()
    row = db.get(Agent, agent["id"])
    assert row is not None
    return row.status


def call_id(db: Session, leg: Leg) -> str:
    db.rollback()
    return str(db.scalars(select(Call.id).where(Call.call_sid == leg.call_sid)).one())


def rung_for(ring: dict[str, str]) -> tuple[str, str]:
    return ring["To"], ring["Url"].split("caller=")[1].split("&")[0]


def funds_queue(phone, who: dict) -> Leg:  # noqa: ANN001
    call = phone(who["phone"]).dial().press("1").press("#").press(who["pin"]).press("2").press("0")
    return call.hold(position=1, seconds=20)


def signed_in(phone, agent: dict) -> Leg:  # noqa: ANN001
    return phone(agent["phone"]).dial("/agents/incoming").press(agent["pin"])


def in_wrap_up(phone, twilio_api, db: Session) -> tuple[Leg, Leg]:  # noqa: ANN001
    """Lina talks to Wang while Li waits; Wang's call ends: Lina is in wrap-up."""
    assert LI["language"] == "zh" and LI["pin"]
    funds_queue(phone, WANG)
    agent = signed_in(phone, LINA).press("1").press("1")
    assert agent.conference is not None
    li = funds_queue(phone, LI)
    agent.conference_ends(seconds=60)
    assert "准备好接听下一位请按1，或直接挂机" in agent.text
    assert agent_status(db, LINA) == "wrap_up" and twilio_api.calls() == []
    return agent, li


def test_an_agent_who_hangs_up_in_wrap_up_is_rung_for_the_next_caller(
    phone, twilio_api, db: Session
) -> None:
    agent, li = in_wrap_up(phone, twilio_api, db)
    assert agent.gather is not None and agent.gather.attributes["timeout"] == "30"
    agent.hang_up()
    [ring] = twilio_api.calls()
    assert rung_for(ring) == (LINA["phone"], call_id(db, li))
    assert agent_status(db, LINA) == "busy"
    # Twilio delivering the agent line's status callback again changes nothing.
    agent.end("completed")
    assert len(twilio_api.calls()) == 1 and agent_status(db, LINA) == "busy"


def test_a_wrap_up_whose_end_is_never_reported_ends_after_the_limit(
    app, phone, switch, twilio_api, db: Session
) -> None:
    agent, li = in_wrap_up(phone, twilio_api, db)
    switch.phone(LINA["phone"]).callbacks_lost = True
    agent.hang_up()  # Hotline never hears of it
    li.hold(position=1, seconds=40)
    assert twilio_api.calls() == [] and agent_status(db, LINA) == "wrap_up"
    later = OPEN_HOURS + timedelta(seconds=31)  # AGENT_WRAP_UP_SECONDS is 30
    app.extensions["clock"] = lambda: later
    li.hold(position=1, seconds=71)
    [ring] = twilio_api.calls()
    assert rung_for(ring) == (LINA["phone"], call_id(db, li))


def test_a_ring_that_finds_the_agent_still_on_the_agent_line_is_no_miss(
    app, phone, switch, twilio_api, db: Session
) -> None:
    agent, li = in_wrap_up(phone, twilio_api, db)
    later = OPEN_HOURS + timedelta(seconds=31)  # past AGENT_WRAP_UP_SECONDS: ready
    app.extensions["clock"] = lambda: later
    li.hold(position=1, seconds=71)  # rings Lina, whose phone is still in wrap-up: busy
    assert [rung_for(ring)[0] for ring in twilio_api.calls()] == [LINA["phone"]]
    assert agent_status(db, LINA) == "available"  # not taken offline as a miss
    agent.hang_up()  # the agent line's status callback: rung for Li at once
    assert [rung_for(ring) for ring in twilio_api.calls()][-1] == (
        LINA["phone"],
        call_id(db, li),
    )
    assert agent_status(db, LINA) == "busy"


def test_silence_in_wrap_up_makes_the_agent_available_and_rings_them(
    phone, twilio_api, db: Session
) -> None:
    agent, li = in_wrap_up(phone, twilio_api, db)
    agent.silence()  # the Gather times out: available, goodbye, and the call ends
    assert "您已设为空闲" in agent.text and agent.hung_up
    [ring] = twilio_api.calls()
    assert rung_for(ring) == (LINA["phone"], call_id(db, li))


def test_an_agent_who_hangs_up_during_the_whisper_frees_the_caller_at_once(
    phone, twilio_api, db: Session
) -> None:
    wang = funds_queue(phone, WANG)
    agent = signed_in(phone, LINA).press("1")
    assert "王小明" in agent.text
    db.execute(update(Agent).where(Agent.id == FANG["id"]).values(status="available"))
    db.commit()
    agent.hang_up()
    [ring] = twilio_api.calls()  # not after the 90 s reservation: now
    assert rung_for(ring) == (FANG["phone"], call_id(db, wang))


@pytest.mark.parametrize("keys", [(), ("pin",)], ids=["at-the-pin", "in-the-menu"])
def test_hanging_up_at_the_pin_or_in_the_menu_ends_the_call_and_changes_nothing(
    phone, twilio_api, db: Session, keys: tuple[str, ...]
) -> None:
    funds_queue(phone, WANG)
    agent = phone(LINA["phone"]).dial("/agents/incoming")
    for _ in keys:
        agent.press(LINA["pin"])
    agent.hang_up()
    db.rollback()
    leg = db.scalars(select(AgentCall).where(AgentCall.call_sid == agent.call_sid)).one()
    assert leg.stage == "ended"
    assert agent_status(db, LINA) == "offline" and twilio_api.calls() == []
