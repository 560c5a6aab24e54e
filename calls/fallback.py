"""The failure path: when Hotline cannot serve a caller, the caller still reaches a human.

Whatever fails inside a caller's webhook (the database down or slow, a fault), and
whenever Twilio gives up on one and requests the number's Fallback URL, the caller
hears an apology and then, in this order: a dial to ``OVERFLOW_NUMBER``; if nobody
answers there, or there is no such number, a message for agents, recorded. None of
these webhooks needs the database: a recording is spooled first (calls.spool) and
moved into the database at once when it answers, else later.

Twilio requests the Fallback URL, with ``ErrorCode`` and ``ErrorUrl``, when it cannot
retrieve or execute the TwiML of a call's webhook: no answer within 15 s, not 2xx,
not valid TwiML (twilio.com/docs/usage/security/availability-reliability; the 15 s,
twilio.com/docs/api/errors/11205).
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from calls import twiml
from calls.spool import SpooledRecording, current_spool, replay_pending
from calls.telemetry import watch
from calls.twiml import Document, as_http
from metrics import FALLBACK_ANSWERS
from models.db import start_deadline
from telephony.numbers import mask
from telephony.params import VoiceParams, parse_voice
from telephony.signatures import check_signature
from telephony.urls import webhook_url

log = logging.getLogger(__name__)

bp = Blueprint("fallback", __name__, url_prefix="/voice/fallback")
watch(bp)
bp.before_request(start_deadline)  # the spool's replay tries the database, within it
bp.before_request(check_signature)

# A Dial that ends with these reached the humans at OVERFLOW_NUMBER.
REACHED = ("completed", "answered")


def caller_failure(params: VoiceParams) -> Document:
    """What a caller hears when their webhook failed. A failed Record action still
    carries its recording: that is kept, and the caller told so."""
    if params.recording_url:
        return keep_message(params)
    settings = current_app.extensions["settings"]
    return twiml.caller_apology(
        settings.overflow_number,
        overflow_action=webhook_url("fallback.overflow"),
        message_action=webhook_url("fallback.message"),
    )


def keep_message(params: VoiceParams) -> Document:
    if not params.recording_url:
        return twiml.fixed_goodbye(twiml.NO_MESSAGE)
    try:
        recording = SpooledRecording.of(params, current_app.extensions["clock"]())
    except ValidationError:
        log.error("a recording without a call or a URL cannot be kept: %s", params.recording_sid)
        return twiml.fixed_goodbye(twiml.NO_MESSAGE)
    try:
        path = current_spool().keep(recording)
    except OSError:
        log.exception(
            "could not spool recording %s of call %s: Twilio still holds it, find it there",
            recording.recording_sid,
            recording.call_sid,
        )
        return twiml.fixed_goodbye(twiml.MESSAGE_KEPT)
    log.info(
        "spooled recording %s of call %s from %s",
        recording.recording_sid,
        recording.call_sid,
        mask(recording.caller),
    )
    replay_pending([path])  # into the database at once, when it answers
    return twiml.fixed_goodbye(twiml.MESSAGE_KEPT)


@bp.post("")
def fallback() -> Response:
    """The hotline number's Fallback URL."""
    params = parse_voice(request.form)
    log.error(
        "Twilio gave up on %s for call %s (error %s): the caller is on the failure path",
        params.error_url or "a webhook",
        params.call_sid,
        params.error_code or "unknown",
    )
    FALLBACK_ANSWERS.labels(cause="fallback_url").inc()
    return as_http(caller_failure(params))


@bp.post("/overflow")
def overflow() -> Response:
    """The overflow Dial's action: reached, the call is over; otherwise a message."""
    params = parse_voice(request.form)
    if params.dial_call_status in REACHED:
        return as_http(twiml.hang_up())
    log.warning("OVERFLOW_NUMBER did not answer (%s)", params.dial_call_status or "no status")
    response = twiml.take_message(
        twiml.empty(), action=webhook_url("fallback.message"), preface=twiml.OVERFLOW_UNANSWERED
    )
    return as_http(response)


@bp.post("/message")
def message() -> Response:
    return as_http(keep_message(parse_voice(request.form)))


@bp.errorhandler(Exception)
def _last_resort(exc: Exception) -> Response | HTTPException:
    """Even the failure path must answer with TwiML (the spool's disk full, say); refusals
    (403) stay refusals."""
    if isinstance(exc, HTTPException):
        return exc
    log.exception("the failure path itself failed at %s", request.path)
    FALLBACK_ANSWERS.labels(cause="failure_path").inc()
    return as_http(twiml.fixed_goodbye(twiml.CALLER_APOLOGY))
