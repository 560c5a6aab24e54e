"""A phone in the browser (/simulator), for development and admins: a caller dials the
running Hotline through the phone simulator, as ``flask simulate`` does, and an agent
panel plays an agent who takes them (``admin.phones`` keeps the phones).

It refuses to start where it could not work or could do harm: when TWILIO_API_BASE_URL
is not a loopback address (Hotline's REST requests would go to Twilio and ring real
agents), or when the server runs several processes or a single thread (the simulated
calls live in this process, and their webhooks come back to this same server while it
answers the browser)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from flask import Blueprint, current_app, render_template, request, send_from_directory, session
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select

from admin.auth import operator_required
from admin.phones import AgentPhone, BrowserPhone, NotReady, Phones
from models import Agent
from models.db import session as db_session
from models.operators import OperatorRole
from telephony.numbers import mask
from telephony.simulator.line import CannotListen, rest_address
from telephony.simulator.steps import StepError
from validation import problems
from verification.sessions import context, protect

bp = Blueprint("phone", __name__, template_folder="templates")
bp.before_request(protect)
bp.record_once(lambda state: state.app.extensions.setdefault("browser_phones", Phones()))

SESSION_KEY = "browser_phone"
STATIC = Path(__file__).parent / "static"
M = TypeVar("M", bound=BaseModel)
AgentId = Annotated[str, Field(min_length=1, max_length=64)]


class Dial(BaseModel):
    caller: Annotated[str, Field(pattern=r"^(anonymous|\+[1-9][0-9]{4,14})$")]


class Step(BaseModel):
    who: Literal["caller", "agent"] = "caller"
    step: Annotated[str, Field(min_length=1, max_length=300)]


class AgentLogin(BaseModel):
    agent: AgentId
    pin: Annotated[str, Field(pattern=r"^[0-9]{0,16}$")] = ""


def refusal() -> str | None:
    """Why the browser phone cannot start on this server, if it cannot."""
    settings = current_app.extensions["settings"]
    if rest_address(settings) is None:
        return (
            f"TWILIO_API_BASE_URL is {settings.twilio_api_base_url}, not a loopback address:"
            " Hotline's SMS codes, agent rings and dequeues would go to Twilio and reach real"
            " phones, so the browser phone does not start. Set it to a loopback address such"
            " as http://127.0.0.1:5001, as ./dev demo writes."
        )
    if request.environ.get("wsgi.multiprocess"):
        return (
            "This server runs several processes: the browser phone's calls live in one, so it"
            " needs one server process (the development server, ./dev demo)."
        )
    if not request.environ.get("wsgi.multithread"):
        return (
            "This server answers one request at a time: the browser phone's calls come back to"
            " it while it answers you, so it needs a threaded server (the development server,"
            " ./dev demo)."
        )
    return None


@bp.get("/simulator")
@operator_required(page=True, role=OperatorRole.ADMIN)
def page() -> ResponseReturnValue:
    agents = context().session.scalars(select(Agent).order_by(Agent.id)).all()
    choices = [(agent.id, f"{agent.id} {agent.name} ({mask(agent.phone, 4)})") for agent in agents]
    return render_template("admin/phone.html", agents=choices, refusal=refusal())


@bp.get("/simulator/phone.js")
@operator_required(page=True, role=OperatorRole.ADMIN)
def script() -> ResponseReturnValue:
    return send_from_directory(STATIC, "phone.js", mimetype="text/javascript")


@bp.post("/simulator/call")
@operator_required(page=False, role=OperatorRole.ADMIN)
def call() -> ResponseReturnValue:
    """A new call from the caller ID given (``anonymous`` withholds it)."""
    form = _form(Dial)
    why = refusal()
    if why is not None:
        return {"error": why}, 409
    phones = _phones()
    phone = phones.get(session.get(SESSION_KEY))
    if phone is None:
        try:
            key, phone = phones.open(current_app.extensions["settings"], request.host_url)
        except (CannotListen, NotReady) as exc:
            return {"error": f"{exc} (is ./dev call or another simulator running?)"}, 409
        session[SESSION_KEY] = key
    return _act(phone, lambda: phone.dial(form.caller))


@bp.post("/simulator/step")
@operator_required(page=False, role=OperatorRole.ADMIN)
def step() -> ResponseReturnValue:
    """Digits, ``say: words``, ``silence``, ``wait`` or ``hangup``, by the caller or the agent."""
    form = _form(Step)
    phone = _phone()
    return _act(phone, lambda: phone.step(form.who, form.step))


@bp.post("/simulator/agent")
@operator_required(page=False, role=OperatorRole.ADMIN)
def pick_up() -> ResponseReturnValue:
    """The agent answers their ringing phone, or calls the agent line and keys the PIN."""
    form = _form(AgentLogin)
    phone, agent = _phone(), _agent(form.agent)
    return _act(phone, lambda: phone.pick_up(agent, form.pin or None))


@bp.post("/simulator/agent/take")
@operator_required(page=False, role=OperatorRole.ADMIN)
def take() -> ResponseReturnValue:
    """The agent takes the waiting caller, accepts, talks a while and hangs up."""
    form = _form(AgentLogin)
    phone, agent = _phone(), _agent(form.agent)
    return _act(phone, lambda: phone.take_the_caller(agent, form.pin))


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@bp.errorhandler(_Refused)
def _refused(exc: _Refused) -> ResponseReturnValue:
    return {"error": str(exc)}, exc.status


def _form(model: type[M]) -> M:
    data = request.form.to_dict()
    data.pop("csrf_token", None)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _Refused(400, problems(exc)[0]) from None


def _phones() -> Phones:
    phones: Phones = current_app.extensions["browser_phones"]
    return phones


def _phone() -> BrowserPhone:
    phone = _phones().get(session.get(SESSION_KEY))
    if phone is None:
        raise _Refused(409, "no browser phone: dial first")
    return phone


def _agent(agent_id: str) -> AgentPhone:
    found = context().session.get(Agent, agent_id)
    if found is None:
        raise _Refused(400, f"no agent {agent_id}")
    return AgentPhone(found.phone, found.endpoint)


def _act(phone: BrowserPhone, action: Callable[[], None]) -> ResponseReturnValue:
    """``action`` on ``phone``, one at a time; the new lines of its transcript, and its
    state, or what went wrong."""
    # No database transaction stays open while the simulated calls reach Hotline.
    db_session().close()
    with phone.lock:
        try:
            action()
            problem = None
        except (StepError, NotReady) as exc:
            problem = str(exc)
        answer = {"lines": phone.news(), "state": phone.state()}
    return (answer | {"error": problem}, 409) if problem else answer
