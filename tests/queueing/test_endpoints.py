"""Agents reached where they are (issue 9 #1, #5): an agent is rung at their endpoint, a
phone number, a browser (``client:``) or a desk phone (``sip:``), with the same REST
request but its ``To``; a BYOC trunk carries the calls to phone numbers, as Twilio's
Calls API allows. Whole calls through the simulator; the REST stand-in checks every
request against Twilio's OpenAPI description (the ``twilio_api`` fixture fails the test
on any request Twilio would refuse)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from models import Agent
from settings import Settings
from telephony.simulator import Leg, RestStandIn, Switch
from tests.conftest import BASE_URL, HOTLINE
from tests.demo import DEMO
from tests.queueing.test_callbacks import asks_for_a_callback, calls_to, number, signed_in, unknown
from tests.queueing.test_ringing import EMILY, available, emily_waits, hears_it, status

pytestmark = pytest.mark.usefixtures("demo")

AGENTS = {agent["id"]: agent for agent in DEMO["agents"]}
LINA, FANG, ZHOU, DAVID = (AGENTS[id] for id in ("A01", "A04", "A05", "A06"))
TRUNK = "BY" + "c3" * 16


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The usual test settings, with calls to phone numbers through a BYOC trunk."""
    return settings.model_copy(update={"twilio_byoc_trunk_sid": TRUNK})


def emily_asks_about_a_payment(phone) -> Leg:  # noqa: ANN001
    """Emily, verified, asks for an agent about transactions and refunds."""
    call = (
        phone(EMILY["phone"]).dial().press("2").press("#").press(EMILY["pin"]).press("3").press("0")
    )
    assert call.wait_url is not None
    return call


def rings_as_any_agent(ring: dict[str, str], to: str) -> None:
    """The ring Twilio got: to ``to``, from the hotline, the agent's ring webhooks."""
    assert ring["To"] == to and ring["From"] == HOTLINE and ring["Timeout"] == "20"
    assert ring["Url"].startswith(f"{BASE_URL}/agents/ring?caller=")
    assert ring["StatusCallback"].startswith(f"{BASE_URL}/agents/ring/status?caller=")
    assert ring["StatusCallbackEvent"] == "completed"


def takes_the_caller(switch: Switch, ring: dict[str, str], caller: Leg) -> None:
    """Whoever answered at the ring's ``To`` is known as the agent rung: they hear the
    whisper, accept, and meet the caller."""
    agent = hears_it(switch, ring)
    assert "Emily Chen" in agent.text
    agent.press("1")
    assert agent.conference == caller.conference == f"hotline-{caller.call_sid}"


@pytest.mark.parametrize(
    ("agent", "waits", "endpoint"),
    [
        (ZHOU, emily_waits, "client:zhou_min"),  # in the browser
        (DAVID, emily_asks_about_a_payment, "sip:david@desk.pbx.example.com;transport=tls"),
    ],
    ids=["client", "sip"],
)
def test_an_agent_in_the_browser_or_at_a_sip_phone_is_rung_there_without_the_trunk(
    phone,
    switch: Switch,
    twilio_api: RestStandIn,
    db: Session,
    agent: dict,
    waits: Callable[..., Leg],
    endpoint: str,
) -> None:
    available(db, **{agent["id"]: 1})
    caller = waits(phone)
    [ring] = twilio_api.calls()
    rings_as_any_agent(ring, endpoint)
    assert "Byoc" not in ring  # "only meaningful when to is a phone number"
    takes_the_caller(switch, ring, caller)
    assert status(db, agent) == "busy"


def test_an_agent_on_a_phone_is_rung_through_the_byoc_trunk(
    phone, switch: Switch, twilio_api: RestStandIn, db: Session
) -> None:
    available(db, A04=1)
    caller = emily_waits(phone)
    [ring] = twilio_api.calls()
    rings_as_any_agent(ring, FANG["phone"])
    assert ring["Byoc"] == TRUNK
    takes_the_caller(switch, ring, caller)


def test_an_agent_whose_endpoint_is_another_number_is_rung_there_and_known_there(
    phone, switch: Switch, twilio_api: RestStandIn, db: Session
) -> None:
    desk = "+861065529988"  # a Beijing landline; the agent line still knows her mobile
    db.execute(update(Agent).where(Agent.id == "A04").values(endpoint=desk))
    db.commit()
    available(db, A04=1)
    caller = emily_waits(phone)
    [ring] = twilio_api.calls()
    rings_as_any_agent(ring, desk)
    assert ring["Byoc"] == TRUNK
    assert switch.phone(FANG["phone"]).legs == []
    takes_the_caller(switch, ring, caller)
    assert status(db, FANG) == "busy"


def test_a_customer_is_called_back_through_the_byoc_trunk(
    phone, switch: Switch, twilio_api: RestStandIn
) -> None:
    asking = unknown(phone, 3)
    asks_for_a_callback(asking, position=1)
    lina = signed_in(phone, LINA).press("1")  # the next work now: the callback
    assert "回电请求：尾号5 6 0 3的客户" in lina.text
    lina.press("1")  # accept: Hotline calls the customer back
    [placed] = calls_to(twilio_api, number(3))
    assert placed["Byoc"] == TRUNK and placed["From"] == HOTLINE
    back = switch.phone(number(3)).call
    assert back is not None and back.direction == "outbound-api"
    back.press("1")
    assert back.conference == lina.conference is not None
