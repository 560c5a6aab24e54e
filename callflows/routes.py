"""The /voice webhooks: parse, load the call, let the steps decide, save, answer TwiML."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.exceptions import HTTPException

from callflows import steps
from callflows.calls import CallContext, find_or_open_call
from callflows.twiml import apology, as_http
from models.db import session
from telephony.params import VoiceParams, parse_voice

log = logging.getLogger(__name__)

Handler = Callable[[CallContext, VoiceParams], VoiceResponse]


def answer(handler: Handler, *, stage: str | None = None) -> Response:
    """Run one step of a call in one transaction and answer with its TwiML.

    With ``stage`` the step runs only while the call is at that stage and the
    request answers the call's latest prompt (its ``turn``); anything else (a
    retry, a late or out-of-order webhook) hears the prompt the call is
    actually waiting on, and changes nothing.
    """
    params = parse_voice(request.form)
    ctx = context(params)
    current = stage is None or (
        ctx.call.stage == stage and request.args.get("turn", type=int) in (None, ctx.call.turn)
    )
    if current and stage is not None:
        ctx.call.turn += 1
    g.turn = ctx.call.turn
    response = handler(ctx, params) if current else steps.resume(ctx)
    ctx.session.commit()
    return as_http(response)


def stamp_turn(endpoint: str, values: dict[str, Any]) -> None:
    """Every URL written into a prompt carries the prompt's turn."""
    if "turn" in g:
        values.setdefault("turn", g.turn)


def context(params: VoiceParams) -> CallContext:
    extensions = current_app.extensions
    settings = extensions["settings"]
    db = session()
    call = find_or_open_call(db, params, settings.default_region)
    return CallContext(
        db, call, extensions["flow"], settings, extensions["twilio"], extensions["clock"]()
    )


def check_signature() -> None:
    current_app.extensions["signature_check"](request)


def on_error(exc: Exception) -> Response | HTTPException:
    """Callers never hear Twilio's "application error": whatever fails inside, the
    caller hears an apology and waits for an agent. Refusals (403) stay refusals."""
    if isinstance(exc, HTTPException):
        return exc
    session().rollback()
    if isinstance(exc, StaleDataError | IntegrityError):
        # Two webhooks of one call raced and the other won: carry on from its result.
        try:
            return answer(lambda ctx, _: steps.resume(ctx))
        except Exception:  # noqa: BLE001 - the apology below is the answer then
            session().rollback()
    log.exception("webhook %s failed; the caller goes to the general queue", request.path)
    return as_http(apology(current_app.extensions["flow"].queue_name("general")))


def caller_webhooks(name: str, url_prefix: str) -> Blueprint:
    """A blueprint for the webhooks of a caller's call: every request signed, every
    URL it writes numbered with the call's turn, and no error ever heard."""
    blueprint = Blueprint(name, __name__, url_prefix=url_prefix)
    blueprint.before_request(check_signature)
    blueprint.url_defaults(stamp_turn)
    blueprint.register_error_handler(Exception, on_error)
    return blueprint


bp = caller_webhooks("voice", "/voice")


@bp.post("/incoming")
def incoming() -> Response:
    # Twilio may retry the first request; a call already under way just resumes.
    return answer(lambda ctx, _: steps.greet(ctx), stage="language")


@bp.post("/language")
def language() -> Response:
    return answer(lambda ctx, p: steps.choose_language(ctx, p.digits), stage="language")


@bp.post("/offer")
def offer() -> Response:
    return answer(lambda ctx, p: steps.take_offer(ctx, p.digits), stage="agent_offer")


@bp.post("/menu")
def menu() -> Response:
    return answer(steps.choose_from_menu, stage="menu")


@bp.post("/status")
def status() -> Response:
    def close(ctx: CallContext, params: VoiceParams) -> VoiceResponse:
        steps.close(ctx, params)
        return VoiceResponse()

    return answer(close)
