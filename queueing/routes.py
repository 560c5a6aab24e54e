"""The /voice/queue webhooks: the wait document, leaving the queue, voicemail, rating."""

from __future__ import annotations

from calls.context import CallContext
from calls.twiml import Document
from calls.webhooks import CALLER, Webhooks
from queueing import waiting
from telephony.params import VoiceParams

bp = Webhooks("queueing", __name__, "/voice/queue", CALLER)


# The wait document and its callback key run at any stage (see callflows.stages):
# Twilio asks for the document again and again, and the Enqueue action that
# follows must stay valid.
@bp.webhook("/wait")
def wait(ctx: CallContext, params: VoiceParams) -> Document:
    return waiting.wait_document(ctx, params)


@bp.webhook("/callback")
def callback(ctx: CallContext, params: VoiceParams) -> Document:
    return waiting.take_callback_key(ctx, params.digits)


@bp.webhook("/connect")
def connect(ctx: CallContext, _: VoiceParams) -> Document:
    # Requested by Twilio when an agent's REST dequeue moves the caller here.
    return waiting.connect_document(ctx)


@bp.webhook("/after-agent")
def after_agent(ctx: CallContext, params: VoiceParams) -> Document:
    return waiting.after_agent(ctx, params)


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
