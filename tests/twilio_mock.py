"""A mock of Twilio's REST API on 127.0.0.1 that holds every request to Twilio's own
OpenAPI description (../shared/twilio-oai), so tests prove Hotline speaks the real API."""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest
from openapi_core.exceptions import OpenAPIError
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

SPEC_ENV = "TWILIO_OAI_SPEC"
DEFAULT_SPEC = (
    Path(__file__).resolve().parents[1].parent / "shared" / "twilio-oai" / "twilio_api_v2010.json"
)
ACCOUNT_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-fA-F]{32})/(?P<rest>.+)$")


@lru_cache(maxsize=1)
def _spec() -> dict[str, Any]:
    path = Path(os.environ.get(SPEC_ENV) or DEFAULT_SPEC)
    if not path.is_file():
        raise FileNotFoundError(f"Twilio's OpenAPI description is missing: {path} ({SPEC_ENV})")
    with path.open(encoding="utf-8") as handle:
        spec: dict[str, Any] = json.load(handle)
    # Every path names https://api.twilio.com as its server; the mock serves them all.
    for item in spec["paths"].values():
        item.pop("servers", None)
    return spec


@lru_cache(maxsize=4)
def _openapi(base_url: str) -> OpenAPI:
    return OpenAPI.from_dict(_spec() | {"servers": [{"url": base_url}]})


def sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


@dataclass
class RecordedRequest:
    method: str
    path: str
    form: dict[str, str]
    username: str | None


@dataclass
class TwilioApiMock:
    requests: list[RecordedRequest] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _failures: list[tuple[int, int]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> TwilioApiMock:
        _spec()  # a missing description fails here, before a socket is opened
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        _openapi(self.base_url)  # build the validator before the first request
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.errors.clear()
            self._failures.clear()

    def take_errors(self) -> list[str]:
        """The validation failures so far, which the test thereby expected."""
        with self._lock:
            errors, self.errors = self.errors, []
        return errors

    def fail_next(self, status: int = 500, code: int = 20500, times: int = 1) -> None:
        """Answer the next ``times`` valid requests with a Twilio error."""
        with self._lock:
            self._failures.extend([(status, code)] * times)

    def messages(self) -> list[dict[str, str]]:
        return self._forms("POST", "Messages.json")

    def calls(self) -> list[dict[str, str]]:
        return self._forms("POST", "Calls.json")

    def dequeues(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if "/Members/" in r.path and r.method == "POST"]

    def _forms(self, method: str, suffix: str) -> list[dict[str, str]]:
        with self._lock:
            return [
                r.form
                for r in self.requests
                if r.method == method and r.path.endswith("/" + suffix)
            ]

    @Request.application  # type: ignore[arg-type]
    def _app(self, request: Request) -> Response:
        username = request.authorization.username if request.authorization else None
        problem = self._check(request, username)
        with self._lock:
            self.requests.append(
                RecordedRequest(request.method, request.path, request.form.to_dict(), username)
            )
            if problem:
                self.errors.append(problem)
                return _error(400, 20001, problem)
            if self._failures:
                status, code = self._failures.pop(0)
                return _error(status, code, "failure requested by the test")
        return self._answer(request)

    def _check(self, request: Request, username: str | None) -> str | None:
        match = ACCOUNT_PATH.match(request.path)
        if not match:
            return f"{request.method} {request.path}: not a 2010-04-01 account path"
        if username != match["account"]:
            return f"{request.method} {request.path}: basic auth must name the account SID"
        try:
            _openapi(self.base_url).validate_request(WerkzeugOpenAPIRequest(request))
        except OpenAPIError as exc:
            causes = getattr(exc, "__cause__", None)
            return f"{request.method} {request.path}: {exc} {causes or ''}".strip()
        return None

    def _answer(self, request: Request) -> Response:
        match = ACCOUNT_PATH.match(request.path)
        assert match is not None
        account, rest, form = match["account"], match["rest"], request.form
        common = {
            "account_sid": account,
            "api_version": "2010-04-01",
            "date_created": "Tue, 24 Nov 2026 10:00:00 +0000",
        }
        if request.method == "POST" and rest == "Messages.json":
            return _json(
                201,
                common
                | {
                    "sid": sid("SM"),
                    "to": form["To"],
                    "from": form.get("From"),
                    "body": form.get("Body"),
                    "status": "queued",
                    "direction": "outbound-api",
                    "num_segments": "1",
                    "uri": f"/2010-04-01/Accounts/{account}/Messages.json",
                },
            )
        if request.method == "POST" and rest == "Calls.json":
            return _json(
                201,
                common
                | {
                    "sid": sid("CA"),
                    "to": form["To"],
                    "from": form.get("From"),
                    "status": "queued",
                    "direction": "outbound-api",
                    "uri": f"/2010-04-01/Accounts/{account}/Calls.json",
                },
            )
        if request.method == "POST" and rest.startswith("Calls/"):
            call_sid = rest.removeprefix("Calls/").removesuffix(".json")
            return _json(200, common | {"sid": call_sid, "status": "in-progress"})
        member = re.fullmatch(r"Queues/(QU[0-9a-fA-F]{32})/Members/(CA[0-9a-fA-F]{32})\.json", rest)
        if request.method == "POST" and member:
            return _json(
                200,
                {
                    "call_sid": member[2],
                    "queue_sid": member[1],
                    "position": 1,
                    "wait_time": 30,
                    "date_enqueued": common["date_created"],
                    "uri": request.path,
                },
            )
        return _error(404, 20404, f"The requested resource {request.path} was not found")


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _error(status: int, code: int, message: str) -> Response:
    return _json(
        status,
        {
            "code": code,
            "message": message,
            "status": status,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
        },
    )


@pytest.fixture(scope="session")
def twilio_api_server() -> Iterator[TwilioApiMock]:
    mock = TwilioApiMock().start()
    yield mock
    mock.stop()


@pytest.fixture
def twilio_api(twilio_api_server: TwilioApiMock) -> Iterator[TwilioApiMock]:
    """The mock, emptied; a test fails if Hotline sent it anything Twilio would refuse."""
    twilio_api_server.reset()
    yield twilio_api_server
    assert twilio_api_server.take_errors() == [], "requests that Twilio's API would refuse"
