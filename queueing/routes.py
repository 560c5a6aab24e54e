"""The /voice/queue webhooks: the wait document, leaving the queue, the agent's room
and its status callbacks, voicemail, rating; and Hotline's own hold tone, a plain
file (Twilio signs no media fetch)."""

from __future__ import annotations

from flask import Blueprint, Response

from calls import twiml
from calls.context import CallContext
from calls.twiml import Document
from calls.webhooks import CALLER, ROOM, Webhooks
from queueing import callbacks, conference, hold_tone, waiting
from telephony.params import VoiceParams

bp = Webhooks("queueing", __name__, "/voice/queue", CALLER)
# The room's status callbacks name the room, not whose call they carry (calls.webhooks).
rooms = Webhooks("rooms", __name__, "/voice/queue", ROOM)
media = Blueprint("media", __name__, url_prefix="/media")


# The wait document and its callback key run at any stage (see callflows.stages):
# Twilio asks for the document again and again, and the Enqueue action that
# follows must stay valid.
@bp.webhook("/wait", apology=lambda _: twiml.wait_apology())
def wait(ctx: CallContext, params: VoiceParams) -> Document:
    return waiting.wait_document(ctx, params)


@bp.webhook("/callback", apology=lambda _: twiml.wait_apology())
def callback(ctx: CallContext, params: VoiceParams) -> Document:
    return waiting.take_callback_key(ctx, params.digits)


@bp.webhook("/connect")
def connect(ctx: CallContext, _: VoiceParams) -> Document:
    # Requested by Twilio when an agent's REST dequeue moves the caller here.
    return conference.connect(ctx)


# The room's wait document and status callbacks run at any stage (see callflows.stages).
@bp.webhook("/room", apology=lambda _: twiml.room_wait_apology())
def room(ctx: CallContext, _: VoiceParams) -> Document:
    return conference.caller_alone(ctx)


@rooms.webhook("/conference")
def event(ctx: CallContext, params: VoiceParams) -> Document:
    return conference.room_event(ctx, params)


@bp.webhook("/after-agent")
def after_agent(ctx: CallContext, params: VoiceParams) -> Document:
    return conference.after_agent(ctx, params)


@bp.webhook("/requeue")
def requeue(ctx: CallContext, _: VoiceParams) -> Document:
    # Where Hotline's REST update moves a caller whose agent never came.
    return conference.requeue(ctx)


@media.get(f"/hold-tone-{hold_tone.VERSION}.wav")
def hold_tone_file() -> Response:
    # Twilio fetches <Play> media with a GET and caches it by these headers
    # (help.twilio.com: "How can I change the cache behavior of audio files?").
    response = Response(hold_tone.wav(), mimetype="audio/wav")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.webhook("/called-back")
def called_back(ctx: CallContext, _: VoiceParams) -> Document:
    # A customer Hotline calls back picked up (queueing.callbacks).
    return callbacks.announce(ctx)


@bp.webhook("/called-back/key")
def called_back_key(ctx: CallContext, params: VoiceParams) -> Document:
    return callbacks.take_key(ctx, params.digits)


@bp.webhook("/overflow-ended")
def overflow_ended(ctx: CallContext, params: VoiceParams) -> Document:
    return waiting.overflow_ended(ctx, params)


@bp.webhook("/left")
def left(ctx: CallContext, params: VoiceParams) -> Document:
    return waiting.left_queue(ctx, params)


@bp.webhook("/after")
def after(ctx: CallContext, params: VoiceParams) -> Document:
    return waiting.choose_voicemail_or_callback(ctx, params.digits)


@bp.webhook("/voicemail")
def voicemail(ctx: CallContext, params: VoiceParams) -> Document:
    return waiting.save_voicemail(ctx, params)


@bp.webhook("/rating")
def rating(ctx: CallContext, params: VoiceParams) -> Document:
    return waiting.save_rating(ctx, params.digits)
