"""bench/load.py's second call mix: a caller put through to an agent, the agent's
wrap-up and the caller's rating (issue 12).

The caller is verified as in bench.calls' recipe and waits in the queue; Hotline rings
an available agent through Twilio's REST API; the agent picks up, presses 1 to hear who
is calling and 1 to take them; Hotline moves the caller out of Twilio's queue into the
agent's conference (the REST dequeue); they talk; the agent hangs up, which ends their
wrap-up; the caller rates the call and hangs up. Both legs, the conference and their
status callbacks: 25 signed webhooks.

Against Hotline it is played as Twilio plays it. ``Rings`` stands in for Twilio's REST
API: it answers Hotline at once and keeps each ring it is asked for. A client that has
queued its caller takes the next ring, whoever it is for, plays that agent's leg, and
then the bridged part of the caller the agent was given (the conference bears that
caller's CallSid). Against the references, which ring nobody, each call's requests are
replayed as recorded, each with an agent leg of its own.
"""

from __future__ import annotations

import http.client
import itertools
import json
import queue
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import Engine, insert

from app import create_server
from bench.calls import (
    ACCOUNT_MENU,
    ACCOUNT_SID,
    AGENT,
    CALLER_ID,
    DEMO,
    FREEZE_ANSWER,
    HOTLINE,
    TEMPLATE,
    ZH,
    Recorder,
    Request,
    ending,
    phone_of,
    prepared,
    settings_of,
    signed,
)
from models import Agent
from settings import Settings
from telephony.simulator import FlaskTransport, RestStandIn, Switch, hotline_numbers
from tests.conftest import SECRET_KEY, TOKEN
from verification.secrets import AGENT_PIN, keyed_hash

Step = tuple[str, dict[str, str]]
Ring = dict[str, str]  # CallSid, To, Url, StatusCallback of a call Hotline asked for
# What a client does with one request: its answer, or None if it failed (the client
# keeps the latency and the failure).
Send = Callable[[Request], bytes | None]

MODEL = next(a for a in DEMO["agents"] if a["id"] == "A01")  # skills for every queue
AGENT_PIN_ENTERED = "1357"
# Twilio names the room after the caller (queueing.conference): the caller given.
ROOM = re.compile(rb">hotline-(CA[0-9a-f]{32})</Conference>")
RING_WAIT_SECONDS = 30  # a client waits this long for a ring before it gives up
CALLS = re.compile(r"^/2010-04-01/Accounts/AC[0-9a-fA-F]{32}/Calls\.json$")
MEMBER = re.compile(
    r"^/2010-04-01/Accounts/AC[0-9a-fA-F]{32}/Queues/(QU[0-9a-fA-F]{32})/Members/(CA[0-9a-fA-F]{32})\.json$"
)


def agent_phone_of(number: int) -> str:
    return f"+86135{number:08d}"  # the demo's agents are +86139


def agent_leg_of(number: int) -> str:
    """A replayed agent leg's CallSid (the references' runs); Rings mints its own."""
    return f"CAc{number:031x}"


def conference_of(number: int) -> str:
    return f"CF{number:032x}"


@dataclass(frozen=True)
class BridgedRecipe:
    """One bridged call as the simulator sent it, in three parts, and how the caller's
    row ended; the template's identities are replaced in every call."""

    caller: list[Step]  # the caller's webhooks, up to the queue's wait document
    agent: list[Step]  # the rung agent's leg, up to taking the caller
    bridged: list[Step]  # the conference, the wrap-up, the rating and the hang-ups
    call_sid: str
    phone: str
    agent_sid: str
    agent_phone: str
    conference_sid: str
    ring: Ring  # the ring Hotline asked for, as the stand-in saw it
    ending: tuple[Any, ...]

    @property
    def steps(self) -> list[Step]:
        return [*self.caller, *self.agent, *self.bridged]

    def call(self, public: str, number: int) -> list[Request]:
        """Call ``number`` replayed as recorded, with an agent leg of its own."""
        return signed(public, self.steps, self._caller(number) | self._leg(agent_leg_of(number)))

    def caller_part(self, public: str, number: int) -> list[Request]:
        return signed(public, self.caller, self._caller(number))

    def agent_part(self, public: str, ring: Ring) -> list[Request]:
        return signed(public, self.agent, self._ring(public, ring))

    def bridged_part(self, public: str, call_sid: str, ring: Ring) -> list[Request]:
        number = int(call_sid.removeprefix("CA"), 16)
        return signed(public, self.bridged, self._caller(number) | self._ring(public, ring))

    def _caller(self, number: int) -> dict[str, str]:
        return {
            self.call_sid: f"CA{number:032x}",
            self.phone: phone_of(number),
            self.conference_sid: conference_of(number),
        }

    def _leg(self, sid: str) -> dict[str, str]:
        return {self.agent_sid: sid, self.agent_phone: agent_phone_of(0)}

    def _ring(self, public: str, ring: Ring) -> dict[str, str]:
        """The ring's leg, agent and URLs (which name the caller's row) for the template's."""
        return {
            self.agent_sid: ring["CallSid"],
            self.agent_phone: ring["To"],
            _path(self.ring["Url"]): _path(ring["Url"]),
            _path(self.ring["StatusCallback"]): _path(ring["StatusCallback"]),
        }


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def play_agent_side(
    recipe: BridgedRecipe, public: str, ring: Ring, send: Send
) -> tuple[str | None, bool]:
    """The agent leg of ``ring`` up to taking a caller, then the bridged part of the
    caller given: that caller's CallSid (None if the agent was given nobody), and
    whether every webhook of it answered."""
    whole = True
    answer = b""
    for request in recipe.agent_part(public, ring):
        got = send(request)
        whole, answer = whole and got is not None, got or b""
    given = ROOM.search(answer)
    if given is None:
        return None, False
    call_sid = given.group(1).decode()
    for request in recipe.bridged_part(public, call_sid, ring):
        whole = send(request) is not None and whole
    return call_sid, whole


def bridged_recipe(folder: Path) -> BridgedRecipe:
    """One bridged call driven through the simulator, and its REST stand-in, into
    Hotline in this process on a database of its own, one agent available."""
    public = "http://127.0.0.1"
    twilio = RestStandIn().start()
    try:
        settings = settings_of(
            f"sqlite:///{folder / 'bridged.db'}", folder, public, twilio.base_url
        )
        engine = prepared(settings["database_url"], folder, public)
        add_agents(engine, 1)
        app = create_server(Settings.model_validate(settings))
        recorder = Recorder(FlaskTransport(app, public))
        switch = Switch(
            recorder, account_sid=ACCOUNT_SID, auth_token=TOKEN, numbers=hotline_numbers(HOTLINE)
        )
        twilio.connect(switch)
        call = switch.caller(TEMPLATE["phone"]).dial().press(ZH).press(CALLER_ID)
        call.press(TEMPLATE["pin"]).press(ACCOUNT_MENU).press(FREEZE_ANSWER).press(AGENT)
        rings = twilio.calls()
        agent = switch.phone(agent_phone_of(0)).call
        if not call.queued or len(rings) != 1 or agent is None:
            raise SystemExit(f"the bridged recipe's agent was not rung: {call.text[-300:]}")
        agent.press("1").press("1")  # hear who it is; take them
        if agent.conference != f"hotline-{call.call_sid}":
            raise SystemExit(f"the bridged recipe's agent took nobody: {agent.text[-300:]}")
        switch.wait(60)  # they talk
        agent.hang_up()
        call.press("1")  # the rating
        if not call.hung_up:
            raise SystemExit(f"the bridged recipe's caller did not rate: {call.text[-300:]}")
        ended = ending(engine, [call.call_sid])[call.call_sid]
        engine.dispose()
    finally:
        twilio.stop()
    steps = recorder.sent
    first_agent = next(n for n, (path, _) in enumerate(steps) if path.startswith("/agents/"))
    taken = next(n for n, (path, _) in enumerate(steps) if path.startswith("/agents/answer"))
    ring = dict(rings[0]) | {"CallSid": agent.call_sid}
    # The caller's repeats of the wait document while the agent picked up are left out:
    # each call here fetches it once.
    waits = [step for step in steps[first_agent:taken] if not step[0].startswith("/agents/")]
    if any(not path.startswith("/voice/queue/wait") for path, _ in waits):
        raise SystemExit(f"the bridged recipe's caller did more while rung: {waits}")
    return BridgedRecipe(
        caller=steps[:first_agent],
        agent=[step for step in steps[first_agent : taken + 1] if step not in waits],
        bridged=steps[taken + 1 :],
        call_sid=call.call_sid,
        phone=TEMPLATE["phone"],
        agent_sid=agent.call_sid,
        agent_phone=agent_phone_of(0),
        conference_sid=_conference_sid(steps),
        ring=ring,
        ending=ended,
    )


def _conference_sid(steps: list[Step]) -> str:
    return next(form["ConferenceSid"] for _, form in steps if "ConferenceSid" in form)


def add_agents(engine: Engine, count: int) -> None:
    """``count`` agents, available since yesterday, who may take any caller the model
    agent may; their phones are agent_phone_of(0..count-1)."""
    key = Settings.model_validate({"hotline_secret_key": SECRET_KEY}).secret_key_bytes()
    since = datetime.now(UTC) - timedelta(days=1)
    agents = [
        {
            "id": f"BENCH-A{k:04d}",
            "name": f"Bench agent {k}",
            "phone": agent_phone_of(k),
            "pin_hash": keyed_hash(key, AGENT_PIN, f"BENCH-A{k:04d}", AGENT_PIN_ENTERED),
            "skills": MODEL["skills"],
            "languages": MODEL["languages"],
            "status": "available",
            "status_since": since,
        }
        for k in range(count)
    ]
    with engine.begin() as connection:
        connection.execute(insert(Agent), agents)


class Rings:
    """Twilio's REST API as Hotline uses it in this mix, on loopback, in a thread of
    the benchmark's process: a call created (an agent rung) is answered 201 with a new
    CallSid, and kept for a client; a queue member moved (the dequeue) is answered 200.
    Clients take the rings in turn from ``GET /rings/next`` (204 after a while without).
    Anything else Hotline asks is refused, and named in ``unexpected``."""

    def __init__(self) -> None:
        self.rings: queue.Queue[Ring] = queue.Queue()
        self.unexpected: list[str] = []
        self._sids = itertools.count()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _RingsHandler)
        self._server.daemon_threads = True
        self._server.rings = self  # type: ignore[attr-defined]
        self.port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def next(self, seconds: float = RING_WAIT_SECONDS) -> Ring | None:
        try:
            return self.rings.get(timeout=seconds)
        except queue.Empty:
            return None

    def created(self, form: dict[str, str]) -> dict[str, Any]:
        sid = f"CAb{next(self._sids):031x}"
        self.rings.put({"CallSid": sid, **{k: form[k] for k in ("To", "Url", "StatusCallback")}})
        return {
            "sid": sid,
            "account_sid": ACCOUNT_SID,
            "to": form["To"],
            "from": form.get("From"),
            "status": "queued",
            "direction": "outbound-api",
        }


class _RingsHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Twilio's client and the clients use
    # An answer goes out in two writes, the headers and then the body. With Nagle's
    # algorithm the body waited for the client's delayed ACK of the headers (up to 40 ms
    # on Linux), and the Hotline worker that asked with it: /agents/answer's dequeue took
    # 20-50 ms of the stand-in, which answers at once (TCP_NODELAY, socketserver's knob).
    disable_nagle_algorithm = True

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        rings: Rings = self.server.rings  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length", 0))
        form = dict(parse_qsl(self.rfile.read(length).decode()))
        if CALLS.match(self.path) and {"To", "Url", "StatusCallback"} <= form.keys():
            self._answer(201, rings.created(form))
        elif member := MEMBER.match(self.path):
            self._answer(200, {"queue_sid": member[1], "call_sid": member[2], "position": 0})
        else:
            rings.unexpected.append(f"POST {self.path} {sorted(form)}")
            self._answer(404, {"code": 20404, "message": "not in the bench's stand-in"})

    def do_GET(self) -> None:  # noqa: N802
        rings: Rings = self.server.rings  # type: ignore[attr-defined]
        if self.path != "/rings/next":
            rings.unexpected.append(f"GET {self.path}")
            self._answer(404, {})
            return
        ring = rings.next()
        if ring is None:
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._answer(200, ring)

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: Any) -> None:  # the clients' progress is the report
        pass


def ring_taker(port: int) -> Callable[[], Ring | None]:
    """The next ring from a Rings server in another process, over a keep-alive
    connection of this thread's own."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=RING_WAIT_SECONDS + 10)

    def take() -> Ring | None:
        connection.request("GET", "/rings/next")
        response = connection.getresponse()
        body = response.read()
        return json.loads(body) if response.status == 200 else None

    return take
