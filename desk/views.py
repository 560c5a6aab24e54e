"""The desk's page, its state as JSON (polled by the page), and the agent's actions.

Every route needs a signed-in agent (``desk.auth.signed_in``) and every POST the CSRF
token. Actions are forms that post and come back to the page (303), saying what was
refused; posted by the page's script (``Accept: application/json``, while the browser
carries a call that a reload would end) they answer JSON instead. The decisions are
``queueing.desk``'s, ``queueing.callbacks``' and ``queueing.voicemails``'.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    get_template_attribute,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import BadRequest

from calls.context import Context
from desk.auth import signed_in
from desk.pop import Pop, screen_pop
from flowfile.vocabulary import Language
from models import Agent, CallbackRequest, Customer
from models.agents import AgentStatus
from queueing import callbacks, voicemails
from queueing import desk as decide
from queueing.voicemails import SHOWN_DIGITS
from telephony.numbers import mask
from telephony.rest import RecordingRefused, TwilioUnavailable
from telephony.tokens import voice_token
from verification.sessions import context, protect

bp = Blueprint("desk", __name__, url_prefix="/desk", template_folder="templates")
bp.before_request(protect)
log = logging.getLogger(__name__)

Notes = Annotated[str, Field(max_length=4000)]
# Row ids in forms and URLs: what the database's integer keys can hold, nothing larger.
RowId = Annotated[int, Field(ge=1, le=2**31 - 1)]
ID = f"int(min=1, max={2**31 - 1})"
# Twilio's Voice JavaScript SDK as its npm package ships it (desk/vendor/README.md).
VOICE_SDK = Path(__file__).resolve().parent / "vendor" / "twilio-voice-sdk-2.18.5"


class StatusForm(BaseModel):
    status: Literal["available", "break", "offline"]


class CallForm(BaseModel):
    call: RowId


class NotesForm(BaseModel):
    notes: Notes = ""


class WrapUpForm(BaseModel):
    disposition: Annotated[str, Field(max_length=64)]
    notes: Notes = ""


@dataclass(frozen=True)
class CallbackView:
    id: int
    who: str  # the name of a verified caller, else the number masked
    topic: str
    language: str
    asked_at: datetime
    attempts: int


# --- the page and its state ----------------------------------------------------------------


@bp.get("")
@signed_in(page=True)
def page() -> ResponseReturnValue:
    ctx = context()
    return render_template("desk/desk.html", **_state(ctx, g.agent))


@bp.get("/state")
@signed_in(page=False)
def state() -> ResponseReturnValue:
    """The page's parts as they are now; the page shows and hides them in place."""
    ctx = context()
    now = _state(ctx, g.agent)
    part: Callable[..., str] = lambda name, *args: get_template_attribute(  # noqa: E731
        "desk/parts.html", name
    )(*args)
    pop: Pop | None = now["pop"]
    return {
        "agent": {"id": g.agent.id, "name": g.agent.name},
        "status": g.agent.status,
        "status_label": STATUS_LABELS[g.agent.status],
        "status_seconds": now["status_seconds"],
        "pop": None
        if pop is None
        else {
            "call": pop.call_id,
            "offered": pop.offered,
            "who": part("pop_who", pop),
            "why": part("pop_why", pop),
        },
        "on_call": now["on_call"],
        "leg": now["leg_id"],
        "notes": now["notes"],
        "wrap_up": now["wrap_up"],
        "wrap_up_left": now["wrap_up_left"],
        "callbacks": [{"id": c.id, "html": part("callback_item", c)} for c in now["callbacks"]],
        "voicemails": [
            {"id": v.id, "html": part("voicemail_item", v, ctx.flow.agents, now["words"])}
            for v in now["voicemails"]
        ],
    }


STATUS_LABELS = {
    AgentStatus.AVAILABLE: "Available",
    AgentStatus.BUSY: "On a call",
    AgentStatus.WRAP_UP: "Wrap-up",
    AgentStatus.BREAK: "On a break",
    AgentStatus.OFFLINE: "Offline",
}


def _state(ctx: Context, agent: Agent) -> dict[str, Any]:
    words = _words(ctx, agent)
    offered = decide.offered_caller(ctx, agent)
    connected = None if offered else decide.connected_caller(ctx, agent)
    caller = offered or connected
    leg = decide.last_leg(ctx, agent)
    in_wrap_up = agent.status == AgentStatus.WRAP_UP
    wrap_up = in_wrap_up or (caller is None and decide.awaits_disposition(ctx, agent, leg))
    state = {
        "agent": agent,
        "words": words,
        "flow_agents": ctx.flow.agents,
        "status_labels": STATUS_LABELS,
        "status_seconds": max(0, int((ctx.now - agent.status_since).total_seconds())),
        "pop": None
        if caller is None
        else screen_pop(ctx.session, ctx.flow, caller, offered is not None, words),
        "on_call": connected is not None,
        "leg_id": leg.id if leg else None,
        "notes": leg.notes if leg else None,
        "wrap_up": wrap_up,
        "wrap_up_left": decide.wrap_up_left(ctx, agent) if in_wrap_up else None,
        "dispositions": {
            code: names[words] for code, names in ctx.flow.agents.dispositions.items()
        },
        "callbacks": [_callback_view(ctx, c, words) for c in callbacks.due_for(ctx, agent)],
        "voicemails": voicemails.open_voicemails(ctx.session, agent),
    }
    ctx.session.commit()
    return state


def _words(ctx: Context, agent: Agent) -> Language:
    """The agent's first language that the flow file has words in."""
    for wanted in agent.languages:
        for language in ctx.flow.languages:
            if language == wanted:
                return language
    return ctx.flow.default_language


def _callback_view(ctx: Context, callback: CallbackRequest, words: Language) -> CallbackView:
    customer = ctx.session.get(Customer, callback.customer_id) if callback.customer_id else None
    topic = ctx.flow.agents.queue_names.get(callback.topic, {})
    language = ctx.flow.agents.language_names.get(callback.language, {})
    return CallbackView(
        id=callback.id,
        who=customer.name if customer else mask(callback.number, last=SHOWN_DIGITS),
        topic=topic.get(words, callback.topic),
        language=language.get(words, callback.language),
        asked_at=callback.created_at,
        attempts=callback.attempts,
    )


@bp.app_template_filter("local")
def local_time(moment: datetime) -> str:
    """A time as the hotline's agents read it: in the flow file's time zone."""
    zone = ZoneInfo(current_app.extensions["flow"].timezone)
    return moment.astimezone(zone).strftime("%m-%d %H:%M")


@bp.app_template_filter("clock")
def clock(seconds: int | None) -> str:
    """0:42, 12:05, 1:02:03."""
    minutes, second = divmod(max(0, seconds or 0), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02d}:{second:02d}" if hours else f"{minute}:{second:02d}"


# --- the agent's actions --------------------------------------------------------------------


@bp.post("/status")
@signed_in(page=True)
def status() -> ResponseReturnValue:
    chosen = _form(StatusForm)
    return _act(
        lambda ctx: decide.set_status(ctx, g.agent, AgentStatus(chosen.status)),
        "Your status follows your call now; change it after the call.",
    )


@bp.post("/accept")
@signed_in(page=True)
def accept() -> ResponseReturnValue:
    return _on_offer(decide.accept, "Too late: that caller was taken, passed on or has hung up.")


@bp.post("/pass")
@signed_in(page=True)
def pass_caller() -> ResponseReturnValue:
    return _on_offer(decide.pass_caller, "That caller is no longer yours.")


def _on_offer(decision: Callable[[Context, Agent, int], bool], refused: str) -> ResponseReturnValue:
    """Accept or Pass: the form names the caller the desk showed."""
    call = _form(CallForm).call
    return _act(lambda ctx: decision(ctx, g.agent, call), refused)


@bp.post("/notes")
@signed_in(page=True)
def notes() -> ResponseReturnValue:
    written = _form(NotesForm).notes
    return _act(lambda ctx: decide.save_notes(ctx, g.agent, written), "No call to note.")


@bp.post("/wrap-up")
@signed_in(page=True)
def wrap_up() -> ResponseReturnValue:
    form = _form(WrapUpForm)
    if form.disposition not in current_app.extensions["flow"].agents.dispositions:
        raise BadRequest("not a disposition of the flow file")
    return _act(
        lambda ctx: decide.wrap_up(ctx, g.agent, form.disposition, form.notes),
        "No call to wrap up.",
    )


@bp.post(f"/callbacks/<{ID}:callback_id>/accept")
@signed_in(page=True)
def accept_callback(callback_id: int) -> ResponseReturnValue:
    return _act(
        lambda ctx: callbacks.accept(ctx, g.agent, callback_id),
        "That callback cannot be yours now: be available, and it must still be due.",
    )


@bp.post(f"/callbacks/<{ID}:callback_id>/pass")
@signed_in(page=True)
def pass_callback(callback_id: int) -> ResponseReturnValue:
    def passed(ctx: Context) -> bool:
        callbacks.pass_on(ctx, g.agent, callback_id)
        return True

    return _act(passed, "")


@bp.post(f"/voicemails/<{ID}:voicemail_id>/call-back")
@signed_in(page=True)
def call_back(voicemail_id: int) -> ResponseReturnValue:
    return _act(
        lambda ctx: decide.call_back_voicemail(ctx, g.agent, voicemail_id),
        "Not called back now: the voicemail is another agent's, the number was withheld,"
        " or you are not available (a callback made from it waits its turn).",
    )


@bp.post(f"/voicemails/<{ID}:voicemail_id>/done")
@signed_in(page=True)
def voicemail_done(voicemail_id: int) -> ResponseReturnValue:
    return _act(
        lambda ctx: voicemails.mark_voicemail_done(ctx.session, g.agent, voicemail_id, ctx.now),
        "That voicemail is done already, or another agent's.",
    )


FormT = TypeVar("FormT", bound=BaseModel)


def _form(model: type[FormT]) -> FormT:
    try:
        return model.model_validate(request.form.to_dict())
    except ValidationError:
        raise BadRequest("the form is not one the desk sends") from None


def _act(decision: Callable[[Context], bool], refused: str) -> ResponseReturnValue:
    """Run one decision in one transaction and go back to the page, saying if it was
    refused. Of two requests changing one record at once, the other won: refused too."""
    ctx = context()
    try:
        done = decision(ctx)
        ctx.session.commit()
    except (StaleDataError, IntegrityError):
        ctx.session.rollback()
        done = False
    message = "" if done else refused
    if request.headers.get("Accept") == "application/json":
        return {"done": done, "message": message}
    if message:
        flash(message)
    return redirect(url_for("desk.page"), code=303)


# --- voicemail audio and the browser's voice --------------------------------------------


@bp.get(f"/voicemails/<{ID}:voicemail_id>/recording")
@signed_in(page=False)
def recording(voicemail_id: int) -> ResponseReturnValue:
    return recording_response(g.agent, voicemail_id)


def recording_response(agent: Agent | None, voicemail_id: int) -> ResponseReturnValue:
    """The voicemail's audio for ``agent`` (None: an operator), fetched by Hotline with
    the account's credentials: the browser never sees Twilio's URL or the account."""
    ctx = context()
    try:
        audio = voicemails.recording_audio(ctx.session, agent, voicemail_id, ctx.gateway)
    except RecordingRefused:
        log.error("voicemail %s names a recording Hotline may not fetch", voicemail_id)
        audio = None
    except TwilioUnavailable as exc:
        log.warning("could not fetch voicemail %s: %s", voicemail_id, exc)
        return {"error": "Twilio could not give the recording now"}, 502
    if audio is None:
        return {"error": "no such voicemail for you"}, 404
    response = Response(audio.data, mimetype=audio.content_type)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/token")
@signed_in(page=False)
def token() -> ResponseReturnValue:
    """An access token for Twilio's Voice JavaScript SDK, for the agent's ``client:``
    identity (else their agent id), allowed to receive calls."""
    ctx = context()
    settings = ctx.settings
    if not (settings.twilio_account_sid and settings.twilio_api_key and settings.twilio_api_secret):
        return {
            "error": "the browser's voice needs TWILIO_ACCOUNT_SID, TWILIO_API_KEY and"
            " TWILIO_API_SECRET; without them the agent's phone carries the calls"
        }, 503
    identity = client_identity(g.agent)
    signed = voice_token(
        settings.twilio_account_sid,
        settings.twilio_api_key,
        settings.twilio_api_secret.get_secret_value(),
        identity,
    )
    return {"token": signed, "identity": identity}


@bp.get("/voice-sdk.js")
@signed_in(page=False)
def voice_sdk() -> ResponseReturnValue:
    """The vendored Voice JavaScript SDK, loaded by the page once a token is given."""
    return send_from_directory(VOICE_SDK, "twilio.min.js", mimetype="text/javascript")


def client_identity(agent: Agent) -> str:
    endpoint = agent.endpoint or ""
    return endpoint.removeprefix("client:") if endpoint.startswith("client:") else agent.id
