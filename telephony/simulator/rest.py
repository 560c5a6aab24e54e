"""A stand-in for Twilio's REST API, served on loopback, that Hotline reaches through
``TWILIO_API_BASE_URL``. Every request is recorded and, when Twilio's OpenAPI
description is available, checked against it; accepted requests take effect on
the switch: an SMS reaches the phone it was sent to, a call rings, a call or a
queue member moves. A recording's media (its RecordingUrl) is served as WAV to the
account's credentials, as Twilio serves it with "Enforce HTTP Auth on Media URLs" on.

Requests arrive on the server's threads while a webhook is in flight: the answer
is given at once, and the effect is handed to the switch, which applies it on its
own thread once the webhook has returned, so a run is deterministic.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest
from openapi_core.exceptions import OpenAPIError
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from telephony.simulator.leg import Leg
from telephony.simulator.openapi import validator
from telephony.simulator.phones import Message
from telephony.simulator.queues import Member, TwilioQueue
from telephony.simulator.recordings import recording_wav
from telephony.simulator.switch import Switch

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

ACCOUNT_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-fA-F]{32})/(?P<rest>.+)$")
CALL = re.compile(r"Calls/(?P<sid>CA[0-9a-fA-F]{32})\.json")
QUEUE = re.compile(r"Queues/(?P<queue>QU[0-9a-fA-F]{32})\.json")
MEMBERS = re.compile(r"Queues/(?P<queue>QU[0-9a-fA-F]{32})/Members\.json")
MEMBER = re.compile(
    r"Queues/(?P<queue>QU[0-9a-fA-F]{32})/Members/(?P<call>CA[0-9a-fA-F]{32}|Front)\.json"
)
# A recording's media: without an extension or with .wav, WAV; with .mp3, MP3
# (twilio.com/docs/api/rest/recording). Twilio's OpenAPI describes only the metadata
# (Recordings/{Sid}.json), so media requests are checked here instead.
RECORDING_MEDIA = re.compile(r"Recordings/(?P<sid>RE[0-9a-fA-F]{32})(?P<ext>\.wav|\.mp3)?")
DATE = "Tue, 24 Nov 2026 10:00:00 +0000"


@dataclass
class RecordedRequest:
    method: str
    path: str
    form: dict[str, str]
    username: str | None


@dataclass
class RestStandIn:
    """``validate`` False skips the OpenAPI check (the ``simulate`` command, when the
    description is not there); tests always validate."""

    switch: Switch = field(default_factory=Switch)
    validate: bool = True
    requests: list[RecordedRequest] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    base_url: str = ""
    _failures: list[tuple[int, int]] = field(default_factory=list)
    _meanwhile: list[Callable[[], None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _openapi: OpenAPI | None = None
    _server: BaseWSGIServer | None = None
    _thread: threading.Thread | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> RestStandIn:
        self._server = make_server(
            host, port, self._app, threaded=True, request_handler=_QuietHandler
        )
        self.base_url = f"http://{host}:{self._server.server_port}"
        if self.validate:
            # Built here and kept: a missing description fails before any request, and no
            # request waits a second or more (more on a loaded machine, past Hotline's REST
            # timeout) for validator()'s small cache to rebuild what other stand-ins evicted.
            self._openapi = validator(self.base_url)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._server.server_close()  # the port is free again at once

    def connect(self, switch: Switch) -> None:
        """Let Hotline's REST requests act on ``switch`` from now on."""
        with self._lock:
            self.switch = switch

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.errors.clear()
            self._failures.clear()
            self._meanwhile.clear()
            self.switch = Switch()

    def take_errors(self) -> list[str]:
        """The refusals so far, which the test thereby expected."""
        with self._lock:
            errors, self.errors = self.errors, []
        return errors

    def fail_next(self, status: int = 500, code: int = 20500, times: int = 1) -> None:
        """Answer the next ``times`` valid requests with a Twilio error (and no effect)."""
        with self._lock:
            self._failures.extend([(status, code)] * times)

    def slow_next(self, meanwhile: Callable[[], None]) -> None:
        """Twilio's API is slow to answer the next valid request: ``meanwhile`` runs
        (on the stand-in's thread) before the answer goes back, as other calls would
        go on while Hotline waits."""
        with self._lock:
            self._meanwhile.append(meanwhile)

    def messages(self) -> list[dict[str, str]]:
        return self._forms("Messages.json")

    def calls(self) -> list[dict[str, str]]:
        return self._forms("Calls.json")

    def call_updates(self) -> list[RecordedRequest]:
        """Requests to update a call (move it to new TwiML, or end it)."""
        with self._lock:
            return [r for r in self.requests if CALL.search(r.path) and r.method == "POST"]

    def dequeues(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if "/Members/" in r.path and r.method == "POST"]

    def _forms(self, suffix: str) -> list[dict[str, str]]:
        with self._lock:
            return [r.form for r in self.requests if r.method == "POST" and r.path.endswith(suffix)]

    def _app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return self._answer(Request(environ))(environ, start_response)

    def _answer(self, request: Request) -> Response:
        username = request.authorization.username if request.authorization else None
        refusal = self._refusal(request, username)
        with self._lock:
            self.requests.append(
                RecordedRequest(request.method, request.path, request.form.to_dict(), username)
            )
            if refusal:
                self.errors.append(refusal)
                return _error(400, 20001, refusal)
            if self._failures:
                status, code = self._failures.pop(0)
                return _error(status, code, "failure requested by the test")
            switch = self.switch
            meanwhile = self._meanwhile.pop(0) if self._meanwhile else None
        if meanwhile is not None:
            meanwhile()
        match = ACCOUNT_PATH.match(request.path)
        assert match is not None
        return _Resources(switch, match["account"]).answer(request, match["rest"])

    def _refusal(self, request: Request, username: str | None) -> str | None:
        match = ACCOUNT_PATH.match(request.path)
        if not match:
            return f"{request.method} {request.path}: not a 2010-04-01 account path"
        if username != match["account"]:
            return f"{request.method} {request.path}: basic auth must name the account SID"
        if media := RECORDING_MEDIA.fullmatch(match["rest"]):
            return self._media_refusal(request, media["ext"])
        if self._openapi is None:
            return None
        try:
            self._openapi.validate_request(WerkzeugOpenAPIRequest(request))
        except OpenAPIError as exc:
            return f"{request.method} {request.path}: {exc} {exc.__cause__ or ''}".strip()
        if request.method == "POST" and match["rest"] == "Calls.json":
            return _caller_id_refusal(request.form.get("To", ""), request.form.get("From", ""))
        return None

    def _media_refusal(self, request: Request, extension: str | None) -> str | None:
        password = request.authorization.password if request.authorization else None
        if self.switch.auth_token and password != self.switch.auth_token:
            return f"{request.method} {request.path}: media needs the account's auth token"
        if request.method != "GET":
            return f"{request.method} {request.path}: a recording's media is only fetched"
        if extension == ".mp3":
            return f"GET {request.path}: the stand-in keeps recordings as WAV only"
        return None


class _Resources:
    """The few resources Hotline uses, answered from the switch's state."""

    def __init__(self, switch: Switch, account: str) -> None:
        self.switch = switch
        self.account = account
        self.prefix = f"/2010-04-01/Accounts/{account}"

    def answer(self, request: Request, rest: str) -> Response:
        form, method = request.form, request.method
        if method == "POST" and rest == "Messages.json":
            return self._message(form.to_dict())
        if method == "POST" and rest == "Calls.json":
            return self._call(form.to_dict(), form.getlist("StatusCallbackEvent"))
        if found := CALL.fullmatch(rest):
            leg = self.switch.legs.get(found["sid"])
            if leg is None:
                return _not_found(request.path)
            if method == "POST":
                return self._update_call(leg, form.to_dict())
            return _json(200, self._call_json(leg))
        if found := RECORDING_MEDIA.fullmatch(rest):
            seconds = self.switch.recordings.get(found["sid"])
            if seconds is None or self.account != self.switch.account_sid:
                return _not_found(request.path)
            return Response(recording_wav(seconds), status=200, mimetype="audio/x-wav")
        if found := QUEUE.fullmatch(rest):
            queue = self.switch.queue_by_sid(found["queue"])
            return _json(200, self._queue_json(queue)) if queue else _not_found(request.path)
        if (found := MEMBERS.fullmatch(rest)) and method == "GET":
            queue = self.switch.queue_by_sid(found["queue"])
            if queue is None:
                return _not_found(request.path)
            members = [self._member_json(queue, m) for m in list(queue.members)]
            return _json(200, {"queue_members": members, "uri": request.path})
        if found := MEMBER.fullmatch(rest):
            queue = self.switch.queue_by_sid(found["queue"])
            member = queue.member(found["call"]) if queue else None
            if queue is None or member is None:
                return _not_found(request.path)
            if method == "POST":
                leg, url, verb = member.leg, form["Url"], form.get("Method", "POST")
                self.switch.apply_later(lambda: leg.move_to(url, verb) if leg.queued else None)
            return _json(200, self._member_json(queue, member))
        return _not_found(request.path)

    def _message(self, form: dict[str, str]) -> Response:
        sid = self.switch.sids.mint("SM")
        message = Message(sid, form.get("From", ""), form["To"], form.get("Body", ""))
        self.switch.apply_later(lambda: self.switch.deliver_sms(message))
        return _json(
            201,
            self._common()
            | {
                "sid": message.sid,
                "to": message.to,
                "from": message.sender,
                "body": message.body,
                "status": "queued",
                "direction": "outbound-api",
                "num_segments": "1",
                "uri": f"{self.prefix}/Messages/{message.sid}.json",
            },
        )

    def _call(self, form: dict[str, str], events: list[str]) -> Response:
        sid = self.switch.sids.mint("CA")
        self.switch.apply_later(lambda: self.switch.place_call(sid, form, events))
        return _json(
            201,
            self._common()
            | {
                "sid": sid,
                "to": form["To"],
                "from": form.get("From"),
                "status": "queued",
                "direction": "outbound-api",
                "uri": f"{self.prefix}/Calls/{sid}.json",
            },
        )

    def _update_call(self, leg: Leg, form: dict[str, str]) -> Response:
        if (form.get("Url") or form.get("Twiml")) and not leg.live:
            # twilio.com/docs/api/errors/21220
            return _error(400, 21220, "Call is not in-progress. Cannot redirect.")
        self.switch.apply_later(lambda: self.switch.update_call(leg, form))
        return _json(200, self._call_json(leg))

    def _call_json(self, leg: Leg) -> dict[str, Any]:
        return self._common() | {
            "sid": leg.call_sid,
            "to": leg.to,
            "from": leg.caller,
            "status": leg.status,
            "direction": leg.direction,
            "parent_call_sid": leg.parent_call_sid,
            "uri": f"{self.prefix}/Calls/{leg.call_sid}.json",
        }

    def _queue_json(self, queue: TwilioQueue) -> dict[str, Any]:
        now = self.switch.clock.now
        return self._common() | {
            "sid": queue.sid,
            "friendly_name": queue.name,
            "current_size": len(queue.members),
            "average_wait_time": queue.average_wait(now),
            "max_size": queue.max_size,
            "uri": f"{self.prefix}/Queues/{queue.sid}.json",
        }

    def _member_json(self, queue: TwilioQueue, member: Member) -> dict[str, Any]:
        sid = member.leg.call_sid
        return {
            "call_sid": sid,
            "queue_sid": queue.sid,
            "position": queue.position(member) if member in queue.members else 0,
            "wait_time": member.waited(self.switch.clock.now),
            "date_enqueued": DATE,
            "uri": f"{self.prefix}/Queues/{queue.sid}/Members/{sid}.json",
        }

    def _common(self) -> dict[str, Any]:
        return {"account_sid": self.account, "api_version": "2010-04-01", "date_created": DATE}


def _caller_id_refusal(to: str, caller: str) -> str | None:
    """What the description says in words, not in its schema: "If the ``to`` parameter is
    a phone number, ``From`` must also be a phone number" (Calls, From)."""
    if to.startswith("+") and not caller.startswith("+"):
        return f"POST Calls.json: From {caller!r} must be a phone number to call a phone number"
    return None


class _QuietHandler(WSGIRequestHandler):
    """Hotline's REST requests are shown as what they do (an SMS, a ring), not as
    access-log lines in the middle of a transcript."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _not_found(path: str) -> Response:
    return _error(404, 20404, f"The requested resource {path} was not found")


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
