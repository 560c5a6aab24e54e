"""The /voice/queue webhooks: the wait document, leaving the queue, voicemail, rating."""

from __future__ import annotations

from flask import Response

from callflows.routes import answer, caller_webhooks
from queueing import waiting

bp = caller_webhooks("queueing", "/voice/queue")


# The wait document and its callback key take no turn: Twilio asks for the
# document again and again, and the Enqueue action that follows must stay valid.
@bp.post("/wait")
def wait() -> Response:
    return answer(waiting.wait_document)


@bp.post("/callback")
def callback() -> Response:
    return answer(lambda ctx, p: waiting.take_callback_key(ctx, p.digits))


@bp.post("/connect")
def connect() -> Response:
    # Requested by Twilio when an agent's REST dequeue moves the caller here.
    return answer(lambda ctx, _: waiting.connect_document(ctx), stage="connected")


@bp.post("/after-agent")
def after_agent() -> Response:
    return answer(waiting.after_agent, stage="connected")


@bp.post("/left")
def left() -> Response:
    return answer(waiting.left_queue, stage="queued")


@bp.post("/after")
def after() -> Response:
    return answer(
        lambda ctx, p: waiting.choose_voicemail_or_callback(ctx, p.digits), stage="after_queue"
    )


@bp.post("/voicemail")
def voicemail() -> Response:
    return answer(waiting.save_voicemail, stage="voicemail")


@bp.post("/rating")
def rating() -> Response:
    return answer(lambda ctx, p: waiting.save_rating(ctx, p.digits), stage="rating")
