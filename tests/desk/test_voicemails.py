"""Voicemails on the desk: listed for the agents who could have taken the caller, played
through Hotline (which fetches them with the account's credentials), called back through
the callback machinery, and marked done."""

from __future__ import annotations

import io
import wave

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import CallbackRequest, Voicemail
from telephony.simulator import Leg, RestStandIn, Switch
from tests.conftest import ACCOUNT_SID, BASE_URL
from tests.demo import DEMO, customer
from tests.desk.desks import Desk

pytestmark = pytest.mark.usefixtures("demo")

AGENTS = {agent["id"]: agent for agent in DEMO["agents"]}
LINA, GANG = AGENTS["A01"], AGENTS["A02"]
EMILY = customer(language="en")


def signed_in(client: FlaskClient, agent: dict) -> Desk:
    desk = Desk(client)
    assert desk.sign_in(agent["id"], agent["desk_password"]).status_code == 302
    return desk


def emily_leaves_a_message(phone) -> Leg:  # noqa: ANN001
    call = (
        phone(EMILY["phone"]).dial().press("2").press("#").press(EMILY["pin"]).press("2").press("0")
    )
    call.hold(seconds=600).press("1").leave_message(duration=6)
    assert "We have your message" in call.text
    return call


def test_a_voicemail_is_listed_played_through_hotline_and_marked_done(
    client: FlaskClient, phone, twilio_api: RestStandIn, db: Session
) -> None:
    emily_leaves_a_message(phone)
    desk = signed_in(client, LINA)
    [item] = desk.state()["voicemails"]
    assert "Emily Chen (verified)" in item["html"] and "top-ups and withdrawals" not in item["html"]
    assert "充值与提现" in item["html"]  # Lina reads Mandarin first
    src = f'src="/desk/voicemails/{item["id"]}/recording"'
    assert src in item["html"] and src in desk.page()
    assert "api.twilio.com" not in desk.page() and "Recordings" not in desk.page()
    audio = desk.client.get(f"/desk/voicemails/{item['id']}/recording")
    assert audio.status_code == 200 and audio.mimetype == "audio/x-wav"
    assert audio.headers["Cache-Control"] == "private, no-store"
    with wave.open(io.BytesIO(audio.data)) as wav:
        assert wav.getnframes() == 6 * wav.getframerate()
    fetches = [r for r in twilio_api.requests if "/Recordings/" in r.path]
    assert [(r.method, r.username) for r in fetches] == [("GET", ACCOUNT_SID)]
    desk.post(f"/desk/voicemails/{item['id']}/done")
    assert desk.state()["voicemails"] == []
    db.rollback()
    assert db.scalars(select(Voicemail.done_by)).one() == LINA["id"]


def test_a_voicemail_is_only_for_the_agents_who_could_have_taken_the_caller(
    client: FlaskClient, phone, twilio_api: RestStandIn
) -> None:
    emily_leaves_a_message(phone)
    gang = signed_in(client, GANG)  # Mandarin only
    assert gang.state()["voicemails"] == []
    assert gang.client.get("/desk/voicemails/1/recording").status_code == 404
    assert [r for r in twilio_api.requests if "/Recordings/" in r.path] == []
    gang.post("/desk/voicemails/1/done")
    assert "done already, or another agent's" in gang.messages()


def test_calling_back_from_a_voicemail_rings_the_agent_then_the_customer(
    client: FlaskClient, phone, switch: Switch, twilio_api: RestStandIn, db: Session
) -> None:
    emily_leaves_a_message(phone)
    desk = signed_in(client, LINA)
    desk.post("/desk/status", status="available")
    [item] = desk.state()["voicemails"]
    desk.post(f"/desk/voicemails/{item['id']}/call-back")
    assert desk.messages().strip() == ""
    db.rollback()
    callback = db.scalars(select(CallbackRequest)).one()
    assert callback.number == EMILY["phone"] and callback.topic == "funds"
    [ring] = twilio_api.calls()
    assert ring["To"] == LINA["phone"]
    assert ring["Url"] == f"{BASE_URL}/agents/callback?callback={callback.id}"
    switch.wait(0)
    agent = switch.phone(LINA["phone"]).call
    assert agent is not None and "正在呼叫客户" in agent.text  # calling the customer now
    assert [call["To"] for call in twilio_api.calls()] == [LINA["phone"], EMILY["phone"]]
    assert desk.state()["voicemails"][0]["id"] == item["id"]  # still open until done


def test_a_voicemail_call_back_needs_an_available_agent(
    client: FlaskClient, phone, twilio_api: RestStandIn
) -> None:
    emily_leaves_a_message(phone)
    desk = signed_in(client, LINA)  # offline
    [item] = desk.state()["voicemails"]
    desk.post(f"/desk/voicemails/{item['id']}/call-back")
    assert "Not called back now" in desk.messages()
    assert twilio_api.calls() == []
