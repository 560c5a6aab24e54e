"""The browser's voice: an access token for Twilio's Voice JavaScript SDK, carrying the
agent's Client identity and a Voice grant that allows incoming calls; the vendored SDK;
the desk's forms posted by script (a reload would end the browser's call)."""

from __future__ import annotations

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from pydantic import SecretStr
from sqlalchemy import update
from sqlalchemy.orm import Session

from app import create_app
from desk.views import VOICE_SDK
from models import Agent
from settings import Settings
from tests.conftest import ACCOUNT_SID
from tests.desk.desks import Desk

pytestmark = pytest.mark.usefixtures("demo")

API_KEY = "SK" + "b2" * 16
API_SECRET = "test-api-secret-of-32-bytes-or-more"


@pytest.fixture
def voice_app(settings: Settings, app: Flask) -> Flask:
    with_keys = settings.model_copy(
        update={"twilio_api_key": API_KEY, "twilio_api_secret": SecretStr(API_SECRET)}
    )
    voice = create_app(with_keys)
    voice.config["TESTING"] = True
    voice.extensions["clock"] = app.extensions["clock"]
    return voice


def token_of(client: FlaskClient, agent: str) -> dict:
    desk = Desk(client)
    desk.sign_in(agent, f"hotline-{agent}")
    answer = client.get("/desk/token")
    assert answer.status_code == 200, answer.get_json()
    data: dict = answer.get_json()
    return data


def test_the_token_carries_the_agents_identity_and_allows_incoming_calls(
    voice_app: Flask, db: Session
) -> None:
    db.execute(update(Agent).where(Agent.id == "A01").values(endpoint="client:lina"))
    db.commit()
    data = token_of(voice_app.test_client(), "A01")
    claims = jwt.decode(data["token"], API_SECRET, algorithms=["HS256"])
    assert claims["iss"] == API_KEY and claims["sub"] == ACCOUNT_SID
    assert claims["grants"]["identity"] == "lina" == data["identity"]
    assert claims["grants"]["voice"]["incoming"] == {"allow": True}
    assert claims["exp"] - claims["nbf"] <= 3600
    voice_app.extensions["db"].engine.dispose()


def test_without_a_client_endpoint_the_identity_is_the_agent_id(voice_app: Flask) -> None:
    data = token_of(voice_app.test_client(), "A03")
    claims = jwt.decode(data["token"], API_SECRET, algorithms=["HS256"])
    assert claims["grants"]["identity"] == "A03"
    voice_app.extensions["db"].engine.dispose()


def test_without_an_api_key_there_is_no_token_and_it_says_why(client: FlaskClient) -> None:
    Desk(client).sign_in("A01", "hotline-A01")
    answer = client.get("/desk/token")
    assert answer.status_code == 503
    assert "TWILIO_API_KEY" in answer.get_json()["error"]


def test_the_voice_sdk_is_served_to_signed_in_agents_as_vendored(client: FlaskClient) -> None:
    assert client.get("/desk/voice-sdk.js").status_code == 401
    Desk(client).sign_in("A01", "hotline-A01")
    answer = client.get("/desk/voice-sdk.js")
    assert answer.status_code == 200 and answer.mimetype == "text/javascript"
    vendored = VOICE_SDK / "twilio.min.js"
    assert answer.data == vendored.read_bytes() and VOICE_SDK.name == "twilio-voice-sdk-2.18.5"
    answer.close()


def test_a_script_posting_a_form_hears_json_and_the_page_is_not_reloaded(
    client: FlaskClient,
) -> None:
    desk = Desk(client)
    desk.sign_in("A01", "hotline-A01")
    headers = {"X-CSRFToken": desk.token("/desk"), "Accept": "application/json"}
    refused = client.post("/desk/accept", data={"call": "999"}, headers=headers)
    assert refused.status_code == 200
    assert refused.get_json() == {
        "done": False,
        "message": "Too late: that caller was taken, passed on or has hung up.",
    }
    done = client.post("/desk/status", data={"status": "break"}, headers=headers)
    assert done.get_json() == {"done": True, "message": ""}
