"""The browser phone's routes (/simulator) through the test client: an admin plays a
caller and an agent on the running Hotline, through the simulated Twilio account the
server process keeps (here reaching the app in-process, its REST requests reaching the
tests' stand-in)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin.phones import IDLE_SECONDS, Phones
from models import Call
from telephony.simulator import FlaskTransport, RestStandIn
from tests.admin.consoles import Console
from tests.conftest import BASE_URL
from tests.demo import DEMO

EMILY = next(c for c in DEMO["customers"] if c["name"] == "Emily Chen")
LI_NA = next(a for a in DEMO["agents"] if a["id"] == "A01")


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite only: the phone is Twilio's model, whatever Hotline's database (Hotline's
    webhooks are tested on both elsewhere)."""
    path = tmp_path / "hotline.db"
    path.write_bytes(sqlite_template.read_bytes())
    return f"sqlite:///{path}"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def phones(app: Flask, twilio_api: RestStandIn, clock: Clock) -> Iterator[Phones]:
    """The process's browser phones, reaching the app in-process, on the tests' stand-in."""
    phones = Phones(lambda settings, server: FlaskTransport(app, BASE_URL), twilio_api, clock)
    app.extensions["browser_phones"] = phones
    yield phones
    phones.close()


@pytest.fixture
def operator(admin: Console, phones: Phones) -> Console:
    return admin


# The development server, as a WSGI server tells the app (the test client says otherwise).
THREADED = {"wsgi.multithread": True, "wsgi.multiprocess": False}


def act(
    console: Console, path: str, status: int = 200, server: dict[str, bool] = THREADED, **form: str
) -> Any:
    form["csrf_token"] = console.token("/simulator")
    answer = console.client.post(path, data=form, environ_overrides=server)
    assert answer.status_code == status, answer.get_data(as_text=True)
    return answer.get_json()


def said(answer: Any, who: str = "caller") -> str:
    return " ".join(line["text"] for line in answer["lines"] if line["who"] == who)


def test_a_verified_caller_hears_their_answer_and_an_agent_takes_them(
    operator: Console, db: Session
) -> None:
    first = act(operator, "/simulator/call", caller=EMILY["phone"])
    assert "For English, press 2." in said(first)
    act(operator, "/simulator/step", step="2")
    act(operator, "/simulator/step", step="#")
    pin = act(operator, "/simulator/step", step=f"{EMILY['pin']}#")
    assert "you are verified" in said(pin)
    keys = [line["text"] for line in pin["lines"] if line["kind"] == "keys"]
    assert keys == ["••••#"]  # the PIN is never shown
    act(operator, "/simulator/step", step="2")
    answer = act(operator, "/simulator/step", step="3")
    top_up = next(line for line in answer["lines"] if "Your latest top-up" in line["text"])
    assert "300 yuan" in top_up["text"]
    assert (top_up["language"], top_up["speak"]) == ("en-US", "en-US")

    assert act(operator, "/simulator/step", step="0")["state"]["caller_queued"]
    taken = act(operator, "/simulator/agent/take", agent=LI_NA["id"], pin=LI_NA["pin"])
    agent = [line for line in taken["lines"] if line["who"] == "agent"]
    assert [line["text"] for line in agent if line["kind"] == "keys"] == ["••••#", "1", "1"]
    whisper = next(line for line in agent if line["text"].startswith("已验证客户"))
    assert whisper["speak"] == "zh-CN"
    assert "Please rate this call" in said(taken)
    rated = act(operator, "/simulator/step", step="5")
    assert not rated["state"]["caller_live"]
    call = db.scalars(select(Call).where(Call.caller == EMILY["phone"])).one()
    assert call.verified and call.ended_at is not None


def test_the_agent_played_step_by_step_talks_to_the_caller(operator: Console) -> None:
    act(operator, "/simulator/call", caller=EMILY["phone"])
    for step in ("2", "#", f"{EMILY['pin']}#", "0"):
        act(operator, "/simulator/step", step=step)
    called_in = act(operator, "/simulator/agent", agent=LI_NA["id"], pin=LI_NA["pin"])
    assert "Emily Chen" in said(called_in, "agent")  # the whisper names the caller
    accepted = act(operator, "/simulator/step", who="agent", step="1")
    assert "Connecting you now" in said(accepted)
    hung_up = act(operator, "/simulator/step", who="agent", step="hangup")
    assert "Please rate this call" in said(hung_up)
    assert hung_up["state"] == {"caller_live": True, "caller_queued": False, "agent_live": False}


def test_a_step_nobody_listens_for_is_refused_and_said(operator: Console) -> None:
    without_token = {"caller": "anonymous"}
    refused = operator.client.post(
        "/simulator/call", data=without_token, environ_overrides=THREADED
    )
    assert refused.status_code == 400  # CSRF
    assert "dial first" in act(operator, "/simulator/step", 409, step="1")["error"]
    act(operator, "/simulator/call", caller="anonymous")
    refused = act(operator, "/simulator/step", 409, step="hello")
    assert "is not a step" in refused["error"]
    agentless = act(operator, "/simulator/step", 409, who="agent", step="1")
    assert "pick up or call in first" in agentless["error"]
    assert act(operator, "/simulator/call", 400, caller="13700137000")["error"].startswith(
        "caller:"
    )


def test_an_idle_phone_hangs_up_and_is_dropped(
    operator: Console, clock: Clock, db: Session, phones: Phones
) -> None:
    act(operator, "/simulator/call", caller=EMILY["phone"])
    clock.now += IDLE_SECONDS + 1
    phones.sweep()
    assert "dial first" in act(operator, "/simulator/step", 409, step="2")["error"]
    call = db.scalars(select(Call).where(Call.caller == EMILY["phone"])).one()
    assert call.ended_at is not None  # Hotline heard the call end


REFUSALS = [
    (THREADED, "https://api.twilio.com", "not a loopback address"),
    ({"wsgi.multithread": True, "wsgi.multiprocess": True}, None, "one server process"),
    ({"wsgi.multithread": False, "wsgi.multiprocess": False}, None, "threaded server"),
]


def test_it_refuses_to_start_where_it_cannot_work(
    admin: Console, phones: Phones, app: Flask, db: Session
) -> None:
    settings = app.extensions["settings"]
    for server, api, reason in REFUSALS:
        api_base_url = api or settings.twilio_api_base_url
        app.extensions["settings"] = settings.model_copy(
            update={"twilio_api_base_url": api_base_url}
        )
        page = admin.client.get("/simulator", environ_overrides=server).get_data(as_text=True)
        assert reason in page
        refused = act(admin, "/simulator/call", 409, server, caller=EMILY["phone"])
        assert reason in refused["error"]
    assert db.scalars(select(Call)).all() == []  # nothing reached Hotline


def test_a_taken_port_is_named(admin: Console, app: Flask) -> None:
    """Without a stand-in given, the phone listens on TWILIO_API_BASE_URL's port itself."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = app.extensions["settings"]
        app.extensions["settings"] = settings.model_copy(
            update={"twilio_api_base_url": f"http://127.0.0.1:{port}"}
        )
        error = act(admin, "/simulator/call", 409, caller=EMILY["phone"])["error"]
    assert f"cannot listen on http://127.0.0.1:{port}" in error and "./dev call" in error


def test_the_phone_is_for_admins(supervisor: Console, phones: Phones) -> None:
    assert supervisor.client.get("/simulator").status_code == 403
    answer = supervisor.post("/simulator/call", caller="anonymous")
    assert answer.status_code == 403
