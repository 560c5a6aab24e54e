"""No request to Twilio's REST API is made while the webhook holds a database lock:
while Twilio is slow to answer, other calls can still write the rows the request is
about (SPEC: the network never inside a transaction)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, create_engine, make_url, select, text, update
from sqlalchemy.orm import Session

from models import Agent, Call
from models.db import normalise_url
from telephony.rest import REST_TIMEOUT_SECONDS
from telephony.simulator import RestStandIn, Switch
from tests.demo import DEMO, customer

pytestmark = pytest.mark.usefixtures("demo")

FANG = next(agent for agent in DEMO["agents"] if agent["id"] == "A04")
EMILY = customer(language="en")
NO_PIN = customer(pin=False)
WAIT_FOR_LOCKS_MS = 300  # far longer than an unlocked write takes, far shorter than a ring


@pytest.fixture
def other_call(database_url: str) -> Iterator[Engine]:
    """A connection of another server's, which gives up on a lock after a short wait."""
    if make_url(database_url).get_backend_name() == "sqlite":
        engine = create_engine(database_url, connect_args={"timeout": WAIT_FOR_LOCKS_MS / 1000})
    else:
        engine = create_engine(normalise_url(database_url))
    yield engine
    engine.dispose()


def fang_is_available(db: Session) -> None:
    db.execute(
        update(Agent)
        .where(Agent.id == FANG["id"])
        .values(status="available", status_since=datetime(2026, 11, 24, 1, tzinfo=UTC))
    )
    db.commit()


def writes_meanwhile(engine: Engine, failures: list[Exception]) -> Callable[[], None]:
    """What other calls do while Twilio is slow: touch every call, agent and code."""

    def write() -> None:
        try:
            with engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(text(f"SET LOCAL lock_timeout = {WAIT_FOR_LOCKS_MS}"))
                connection.execute(text("UPDATE calls SET turn = turn"))
                connection.execute(text("UPDATE agents SET status_since = status_since"))
                connection.execute(text("UPDATE one_time_codes SET expires_at = expires_at"))
        except Exception as exc:  # noqa: BLE001 - the test reports what blocked
            failures.append(exc)

    return write


def test_ringing_an_agent_holds_no_lock(
    phone, twilio_api: RestStandIn, other_call: Engine, db: Session
) -> None:
    fang_is_available(db)
    failures: list[Exception] = []
    call = phone(EMILY["phone"]).dial().press("2").press("#").press(EMILY["pin"]).press("2")
    twilio_api.slow_next(writes_meanwhile(other_call, failures))
    call.press("0")
    assert [ring["To"] for ring in twilio_api.calls()] == [FANG["phone"]]
    assert failures == []


def test_texting_a_code_holds_no_lock(phone, twilio_api: RestStandIn, other_call: Engine) -> None:
    failures: list[Exception] = []
    twilio_api.slow_next(writes_meanwhile(other_call, failures))
    call = phone(NO_PIN["phone"]).dial().press("2").press("#").press("*")
    assert len(twilio_api.messages()) == 1 and "six-digit code" in call.text
    assert failures == []


def test_taking_a_caller_out_of_the_queue_holds_no_lock(
    phone, switch: Switch, twilio_api: RestStandIn, other_call: Engine, db: Session
) -> None:
    fang_is_available(db)
    caller = (
        phone(EMILY["phone"]).dial().press("2").press("#").press(EMILY["pin"]).press("2").press("0")
    )
    agent = switch.phone(twilio_api.calls()[0]["To"]).call
    assert agent is not None
    agent.press("1")  # to hear the whisper
    failures: list[Exception] = []
    twilio_api.slow_next(writes_meanwhile(other_call, failures))
    agent.press("1")
    assert twilio_api.dequeues()[0].path.endswith(f"/Members/{caller.call_sid}.json")
    assert failures == []


def test_an_api_too_slow_to_answer_leaves_the_caller_waiting_for_the_next_ring(
    phone, twilio_api: RestStandIn, db: Session
) -> None:
    fang_is_available(db)
    call = phone(EMILY["phone"]).dial().press("2").press("#").press(EMILY["pin"]).press("2")
    # Longer than Hotline waits for Twilio's answer: the webhook must not wait it out.
    twilio_api.slow_next(lambda: time.sleep(REST_TIMEOUT_SECONDS + 1))
    call.press("0")
    assert call.wait_url is not None  # in the queue, hearing the hold music
    db.rollback()
    waiting = db.scalars(select(Call).where(Call.call_sid == call.call_sid)).one()
    kinds = [event.kind for event in waiting.events]
    # The ring counted as failed, so Fang was free to be rung again for her.
    assert waiting.stage == "queued" and "agent.ring_failed" in kinds
