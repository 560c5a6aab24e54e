"""A tiny TwiML app of our own, so the simulator is tested without Hotline: each test says
which document each path answers, and reads back every request Twilio made."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from flask import Flask, Response, request
from twilio.request_validator import RequestValidator

from telephony.simulator import FlaskTransport, Number, RestStandIn, Switch

TOKEN = "fake-token"
ACCOUNT = "AC" + "f0" * 16
LINE = "+15550000001"
CALLER = "+15550000002"

Answer = str | Callable[[dict[str, str]], str] | tuple[int, str, str]


@dataclass
class FakeApp:
    """``documents[path]``: a TwiML body, a function of the form, or (status, type, body)."""

    documents: dict[str, Answer] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def forms(self, path: str) -> list[dict[str, str]]:
        return [form for seen, form in self.requests if seen == path]

    def flask(self) -> Flask:
        app = Flask("fake")
        validator = RequestValidator(TOKEN)

        @app.route("/<path:path>", methods=["GET", "POST"])
        def answer(path: str) -> Response:
            signature = request.headers.get("X-Twilio-Signature", "")
            assert validator.validate(request.url, request.values, signature), request.url
            form = request.values.to_dict()
            self.requests.append(("/" + path, form))
            document = self.documents.get("/" + path, "<Response/>")
            if isinstance(document, tuple):
                status, mimetype, body = document
                return Response(body, status=status, mimetype=mimetype)
            body = document(form) if callable(document) else document
            return Response(f"<?xml version='1.0'?>{body}", mimetype="text/xml")

        return app


@pytest.fixture
def fake() -> FakeApp:
    return FakeApp()


@pytest.fixture
def switch(fake: FakeApp) -> Switch:
    return Switch(
        FlaskTransport(fake.flask()),
        account_sid=ACCOUNT,
        auth_token=TOKEN,
        numbers=[Number(LINE, "/incoming", status_callback="/status")],
        run=0,
    )


@pytest.fixture(scope="session")
def stand_in_server() -> Iterator[RestStandIn]:
    stand_in = RestStandIn().start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def stand_in(stand_in_server: RestStandIn, switch: Switch) -> Iterator[RestStandIn]:
    stand_in_server.reset()
    stand_in_server.connect(switch)
    yield stand_in_server
    stand_in_server.reset()
