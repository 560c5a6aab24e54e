"""Ringing agents (SPEC §6): the longest idle matching agent's phone rings through
Twilio's REST API; a miss or a pass rings the next, and the caller keeps their place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Agent, Call
from telephony.simulator import Leg, Machine, NoAnswer, Switch
from tests.conftest import BASE_URL, HOTLINE, OPEN_HOURS
from tests.demo import DEMO, customer

pytestmark = pytest.mark.usefixtures("demo")

AGENTS = {agent["id"]: agent for agent in DEMO["agents"]}
LINA, GANG, SARAH, FANG = (AGENTS[i] for i in ("A01", "A02", "A03", "A04"))
EMILY = customer(language="en")


def available(db: Session, **since_hour: int) -> None:
    for agent_id, hour in since_hour.items():
        db.execute(
            update(Agent)
            .where(Agent.id == agent_id)
            .values(status="available", status_since=datetime(2026, 11, 24, hour, tzinfo=UTC))
        )
    db.commit()


def status(db: Session, agent: dict) -> str:
    db.rollback()
    row = db.get(Agent, agent["id"])
    assert row is not None
    return row.status


def emily_waits(phone) -> Leg:  # noqa: ANN001
    call = (
        phone(EMILY["phone"]).dial().press("2").press("#").press(EMILY["pin"]).press("2").press("0")
    )
    assert call.wait_url is not None
    return call


def answered(switch: Switch, ring: dict[str, str]) -> Leg:
    """The rung agent's phone picked up: Twilio fetched the call's Url, as an outbound-api call."""
    leg = switch.phone(ring["To"]).call
    assert leg is not None and leg.direction == "outbound-api" and leg.caller == HOTLINE
    return leg


def hears_it(switch: Switch, ring: dict[str, str]) -> Leg:
    """The rung agent picked up and pressed 1 to hear the whisper."""
    leg = answered(switch, ring)
    assert "Press 1 to hear it" in leg.text or "请按1收听" in leg.text
    return leg.press("1")


def caller_id_of(ring: dict[str, str]) -> str:
    return parse_qs(urlsplit(ring["Url"]).query)["caller"][0]


def test_a_waiting_caller_rings_the_longest_idle_matching_agent(
    phone, twilio_api, db: Session
) -> None:
    # Gang waits longest but speaks no English; Sarah has no funds skill.
    available(db, A02=1, A03=1, A04=2, A01=3)
    emily_waits(phone)
    [ring] = twilio_api.calls()
    assert ring["To"] == FANG["phone"] and ring["From"] == HOTLINE and ring["Timeout"] == "20"
    assert ring["Url"].startswith(f"{BASE_URL}/agents/ring?caller=")
    assert ring["StatusCallback"].startswith(f"{BASE_URL}/agents/ring/status?caller=")
    assert ring["Method"] == "POST" and ring["StatusCallbackMethod"] == "POST"
    assert ring["StatusCallbackEvent"] == "completed"  # how the ring ended
    assert status(db, FANG) == "busy"


def test_the_rung_agent_hears_the_whisper_and_takes_the_caller(
    phone, switch: Switch, twilio_api, db: Session
) -> None:
    available(db, A04=1)
    caller = emily_waits(phone).hold(position=1, seconds=10)
    agent = hears_it(switch, twilio_api.calls()[0])
    # Fang's first language is Mandarin, so the whisper is too.
    whisper = [(said.text, said.voice) for said in agent.heard][:3]
    assert whisper == [  # her name is said by the English voice
        ("已验证客户，", "Polly.Zhiyu"),
        ("Emily Chen", "Polly.Joanna"),
        ("，语言：英语，业务：充值与提现。", "Polly.Zhiyu"),
    ]
    agent.press("1")
    assert agent.conference == f"hotline-{caller.call_sid}"
    assert twilio_api.dequeues()[0].path.endswith(f"/Members/{caller.call_sid}.json")


def test_a_missed_ring_rings_the_next_agent_and_the_caller_keeps_waiting(
    phone, switch: Switch, twilio_api, db: Session
) -> None:
    available(db, A04=1, A01=2)
    switch.phone(FANG["phone"]).behaviour = NoAnswer()  # Twilio posts the status: no-answer
    caller = emily_waits(phone)
    first = twilio_api.calls()[0]
    assert status(db, FANG) == "offline"  # a missed call takes the agent offline
    second = twilio_api.calls()[1]
    assert second["To"] == LINA["phone"] and caller_id_of(second) == caller_id_of(first)
    db.rollback()
    row = db.scalars(select(Call).where(Call.call_sid == caller.call_sid)).one()
    assert row.stage == "queued" and row.offered_agent_id == LINA["id"]


def test_an_agent_who_passes_stays_available_and_the_next_is_rung(
    phone, switch: Switch, twilio_api, db: Session
) -> None:
    available(db, A04=1, A01=2)
    emily_waits(phone)
    agent = hears_it(switch, twilio_api.calls()[0])
    agent.press("2")
    assert agent.hung_up and status(db, FANG) == "available"
    assert [ring["To"] for ring in twilio_api.calls()] == [FANG["phone"], LINA["phone"]]


def test_with_nobody_available_nobody_is_rung(phone, twilio_api) -> None:
    emily_waits(phone).hold(position=1, seconds=30)
    assert twilio_api.calls() == []


def test_a_ring_twilio_refuses_leaves_agent_and_caller_as_they_were(
    phone, twilio_api, db: Session
) -> None:
    caller = emily_waits(phone)  # nobody available yet: nobody rung
    available(db, A04=1)
    twilio_api.fail_next(status=400, code=21215)
    caller.hold(position=1, seconds=20)  # this wait document rings Fang; Twilio refuses
    assert status(db, FANG) == "available"
    db.rollback()
    row = db.scalars(select(Call).where(Call.call_sid == caller.call_sid)).one()
    assert row.offered_agent_id is None
    caller.hold(position=1, seconds=40)  # the next wait document tries again
    assert len(twilio_api.calls()) == 2 and status(db, FANG) == "busy"


def test_an_agent_who_answers_then_hangs_up_frees_the_caller(
    phone, switch: Switch, twilio_api, db: Session
) -> None:
    available(db, A04=1, A01=2)
    emily_waits(phone)
    first = twilio_api.calls()[0]
    hears_it(switch, first).hang_up()  # hears the whisper, hangs up without a key
    assert status(db, FANG) == "available"  # they answered: no missed call
    assert [ring["To"] for ring in twilio_api.calls()] == [FANG["phone"], LINA["phone"]]


def test_a_voicemail_answering_a_ring_never_hears_the_caller_and_the_agent_goes_offline(
    phone, switch: Switch, twilio_api, db: Session
) -> None:
    available(db, A04=1)
    switch.phone(FANG["phone"]).behaviour = Machine()
    caller = emily_waits(phone)
    voicemail = switch.phone(FANG["phone"]).legs[0]
    assert "比太钱包热线来电，请按1收听。" in voicemail.text  # all it recorded
    assert "Emily" not in voicemail.text and voicemail.hung_up
    assert status(db, FANG) == "offline"
    caller.hold(position=1, seconds=40)  # the next turn of hold music rings nobody
    assert len(twilio_api.calls()) == 1


def test_an_agent_who_passed_is_not_rung_again_for_that_caller_and_the_next_is(
    phone, switch: Switch, twilio_api, db: Session
) -> None:
    available(db, A04=1)
    caller = emily_waits(phone)
    hears_it(switch, twilio_api.calls()[0]).press("2")
    assert status(db, FANG) == "available"
    caller.hold(position=1, seconds=40)
    assert len(twilio_api.calls()) == 1  # not Fang again
    # Lina goes available on the agent line: she is rung for Emily at once.
    phone(LINA["phone"]).dial("/agents/incoming").press(LINA["pin"]).press("2")
    ring = twilio_api.calls()[1]
    assert ring["To"] == LINA["phone"] and caller_id_of(ring) == caller_id_of(twilio_api.calls()[0])


def test_a_pass_holds_only_a_while_so_a_caller_nobody_else_takes_is_not_stranded(
    app, phone, switch: Switch, twilio_api, db: Session
) -> None:
    available(db, A04=1)
    caller = emily_waits(phone)
    hears_it(switch, twilio_api.calls()[0]).press("2")
    later = OPEN_HOURS + timedelta(minutes=3, seconds=1)
    app.extensions["clock"] = lambda: later
    caller.hold(position=1, seconds=220)
    assert [ring["To"] for ring in twilio_api.calls()] == [FANG["phone"], FANG["phone"]]


def test_an_agent_who_goes_available_is_rung_at_once_for_a_waiting_caller(
    phone, twilio_api, db: Session
) -> None:
    caller = emily_waits(phone)  # nobody available: nobody rung
    assert twilio_api.calls() == []
    phone(FANG["phone"]).dial("/agents/incoming").press(FANG["pin"]).press("2")
    [ring] = twilio_api.calls()  # before any turn of Emily's hold music
    assert ring["To"] == FANG["phone"]
    db.rollback()
    row = db.scalars(select(Call).where(Call.call_sid == caller.call_sid)).one()
    assert caller_id_of(ring) == str(row.id) and row.offered_agent_id == FANG["id"]
