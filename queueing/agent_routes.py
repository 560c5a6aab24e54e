"""The /agents webhooks: the agent line, from PIN to wrap-up."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.exceptions import HTTPException

from callflows.routes import check_signature
from callflows.twiml import as_http
from models import Agent
from models.db import session
from queueing import agent_line
from queueing.agent_line import AgentContext
from telephony.params import VoiceParams, parse_voice

log = logging.getLogger(__name__)

bp = Blueprint("agents", __name__, url_prefix="/agents")
bp.before_request(check_signature)

Handler = Callable[[AgentContext, VoiceParams], VoiceResponse]


def answer(handler: Handler, *, stage: str | None = None) -> Response:
    """As callflows.routes.answer, for an agent's call: a step runs only at its stage and
    turn, and only for an agent who has entered their PIN (but for the PIN itself)."""
    params = parse_voice(request.form)
    extensions = current_app.extensions
    db = session()
    leg = agent_line.find_or_open_leg(db, params, extensions["settings"].default_region)
    agent = db.get(Agent, leg.agent_id) if leg.agent_id else None
    ctx = AgentContext(
        db,
        leg,
        agent,
        extensions["flow"],
        extensions["settings"],
        extensions["twilio"],
        extensions["clock"](),
    )
    current = stage is None or (
        leg.stage == stage
        and (leg.confirmed or stage == "pin")
        and request.args.get("turn", type=int) in (None, leg.turn)
    )
    if current and stage is not None:
        leg.turn += 1
    # Not g.turn: that numbers the caller's prompts, and this request may write a
    # URL for the caller too (the REST dequeue).
    g.agent_turn = leg.turn
    response = handler(ctx, params) if current else agent_line.resume(ctx)
    db.commit()
    return as_http(response)


@bp.url_defaults
def stamp_agent_turn(endpoint: str, values: dict[str, Any]) -> None:
    if "agent_turn" in g:
        values.setdefault("turn", g.agent_turn)


@bp.errorhandler(Exception)
def on_error(exc: Exception) -> Response | HTTPException:
    if isinstance(exc, HTTPException):
        return exc
    session().rollback()
    if isinstance(exc, StaleDataError | IntegrityError):
        return answer(lambda ctx, _: agent_line.resume(ctx))
    log.exception("agent webhook %s failed", request.path)
    response = VoiceResponse()
    response.say(
        "Sorry, something went wrong. Please call the agent line again.",
        language="en-US",
        voice="Polly.Joanna",
    )
    response.hangup()
    return as_http(response)


@bp.post("/incoming")
def incoming() -> Response:
    return answer(lambda ctx, _: agent_line.greet(ctx), stage="pin")


@bp.post("/ring")
def ring() -> Response:
    # A rung agent answered: their call fetches this (see queueing.ringing).
    caller = request.args.get("caller", type=int)
    return answer(lambda ctx, _: agent_line.ring_answered(ctx, caller), stage="pin")


@bp.post("/ring/status")
def ring_status() -> Response:
    caller = request.args.get("caller", type=int)
    return answer(lambda ctx, p: agent_line.ring_ended(ctx, caller, p.call_status))


@bp.post("/pin")
def pin() -> Response:
    return answer(lambda ctx, p: agent_line.check_pin(ctx, p.digits.rstrip("#")), stage="pin")


@bp.post("/menu")
def menu() -> Response:
    return answer(lambda ctx, p: agent_line.choose(ctx, p.digits), stage="menu")


@bp.post("/answer")
def answer_offer() -> Response:
    return answer(lambda ctx, p: agent_line.answer_offer(ctx, p.digits), stage="whisper")


@bp.post("/after")
def after() -> Response:
    return answer(lambda ctx, _: agent_line.after_call(ctx), stage="connected")


@bp.post("/ready")
def ready() -> Response:
    return answer(lambda ctx, p: agent_line.ready(ctx, p.digits), stage="wrap_up")
