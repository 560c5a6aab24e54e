"""Two real Hotline server processes on one PostgreSQL: two agents asking for the next
caller at the same moment, one on each server, never both get the same caller; and one
callback is never placed twice, whichever server hears of it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Call, CallbackAttempt, CallbackRequest
from telephony.simulator import HttpTransport, Leg, RestStandIn, Switch, hotline_numbers, sign
from tests.concurrently import at_once, press_at_once
from tests.conftest import ACCOUNT_SID, HOTLINE, OPEN_HOURS, SECRET_KEY, TOKEN
from tests.demo import DEMO, customer
from tests.servers import free_port, wait_for_port

pytestmark = pytest.mark.usefixtures("demo")

ROOT = Path(__file__).resolve().parents[2]
AGENTS = {agent["id"]: agent for agent in DEMO["agents"]}
WANG = customer(language="zh")


# A Hotline server as `flask run` starts one, on the tests' clock: the hours of the
# flow file decide who queues, and the wall clock of a CI run may be outside them.
SERVE = """
import sys
from datetime import datetime

from app import create_server

server = create_server()
now = datetime.fromisoformat(sys.argv[2])
server.extensions["clock"] = lambda: now
server.run(port=int(sys.argv[1]), threaded=True)
"""


@pytest.fixture
def servers(database_url: str, twilio_api: RestStandIn) -> Iterator[list[str]]:
    environment = os.environ | {
        "DATABASE_URL": database_url,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "HOTLINE_SECRET_KEY": SECRET_KEY,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "HOTLINE_NUMBER": HOTLINE,
        "TWILIO_API_BASE_URL": twilio_api.base_url,
        "PUBLIC_BASE_URL": "",
        "TWILIO_VALIDATE_SIGNATURES": "true",
    }
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", SERVE, str(port), OPEN_HOURS.isoformat()],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port in ports:
            wait_for_port(port, "a Hotline server")
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture
def switch(servers: list[str], twilio_api: RestStandIn) -> Switch:
    """Twilio, sending callers to the first server; agents may call either."""
    switch = Switch(
        HttpTransport(servers[0]),
        account_sid=ACCOUNT_SID,
        auth_token=TOKEN,
        numbers=hotline_numbers(HOTLINE),
    )
    twilio_api.connect(switch)
    return switch


def agents_on_each_server(switch: Switch, servers: list[str]) -> list[Leg]:
    """Lina on the agent line of the first server, Fang on the second's, signed in."""
    agents = []
    for base, agent in zip(servers, (AGENTS["A01"], AGENTS["A04"]), strict=True):
        leg = switch.caller(agent["phone"], base_url=base)
        leg.dial("/agents/incoming").press(agent["pin"])
        agents.append(leg)
    return agents


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_agents_on_two_servers_never_share_a_caller(
    switch: Switch, servers: list[str], db: Session, twilio_api: RestStandIn
) -> None:
    caller = switch.caller(WANG["phone"]).dial().press("1").press("#").press(WANG["pin"])
    caller.press("2").press("0")  # waits for a funds agent, on the first server
    assert caller.queued
    room = f"hotline-{caller.call_sid}"
    agents = agents_on_each_server(switch, servers)
    press_at_once(agents, ["1", "1"])  # both take the next caller now
    [whispered] = [leg for leg in agents if "王小明" in " ".join(leg.documents)]
    whispered.press("1")  # accept
    assert len(twilio_api.dequeues()) == 1
    assert [leg for leg in agents if leg.conference == room] == [whispered]
    assert caller.conference == room  # the dequeue moved the caller into the agent's room
    db.rollback()
    row = db.scalars(select(Call).where(Call.call_sid == caller.call_sid)).one()
    assert row.stage == "connected"
    assert row.agent_id in ("A01", "A04")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_servers_never_place_one_callback_twice(
    switch: Switch, servers: list[str], db: Session, twilio_api: RestStandIn
) -> None:
    # A stolen account: the urgent queue, whose callbacks are due at any hour.
    caller = switch.caller(WANG["phone"]).dial().press("1").press("#").press(WANG["pin"])
    caller.press("8").press("1").press("1")  # key 8, freeze, confirm: the urgent queue
    assert caller.queued
    caller.hold(seconds=70).press_during_music("1")  # a callback instead of waiting
    assert caller.hung_up
    agents = agents_on_each_server(switch, servers)
    press_at_once(agents, ["1", "1"])  # the next caller or callback, now
    [offered] = [leg for leg in agents if "回电请求" in leg.text]  # one agent hears it
    # Its accept reaches both servers at once (Twilio retrying it behind a load balancer).
    assert offered.gather is not None
    path = offered.gather.action[len(offered.base_url) :]
    params = offered.params() | {"Digits": "1"}
    replies: list[int | None] = []

    def accept(base: str) -> None:
        url = base + path
        replies.append(
            HttpTransport(base).send("POST", url, params, sign(TOKEN, url, params)).status
        )

    at_once([lambda base=base: accept(base) for base in servers])
    assert replies == [200, 200]
    assert [call["To"] for call in twilio_api.calls()].count(WANG["phone"]) == 1
    db.rollback()
    [attempt] = db.scalars(select(CallbackAttempt)).all()
    assert attempt.agent_id in ("A01", "A04") and attempt.ended_at is None
    assert db.scalars(select(CallbackRequest.status)).one() == "calling"
