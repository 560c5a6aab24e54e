"""A caller and the agent queues (SPEC §6): joining, waiting, leaving, and what follows.

Each function takes the call's context and returns the TwiML to play; the
routes in queueing.routes only load the call and save it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from calls import twiml
from calls.context import CallContext
from calls.twiml import Document, Line
from models import CallbackRequest, CallEvent, Voicemail
from models.calls import CallStage
from models.queueing import FollowUpStatus
from queueing import ringing, routing
from queueing.estimate import expected_minutes, typical_wait
from queueing.hours import is_open
from telephony.params import VoiceParams
from telephony.urls import webhook_url

RECENT_WAITS = 20  # answered callers the typical wait is taken from
VOICEMAIL_SECONDS = 120
FAILED_RESULTS = ("queue-full", "error", "system-error")


def enqueue(ctx: CallContext, queue: str, preface: Sequence[Line] = ()) -> Document:
    """Put the caller in ``queue``, or offer voicemail or a callback outside hours."""
    ctx.call.queue = queue
    texts = ctx.flow.waiting.texts
    if not is_open(ctx.flow.hours, ctx.flow.timezone, ctx.now):
        ctx.record("queue.closed", queue=queue)
        return offer_voicemail_or_callback(ctx, [*preface, texts.closed])
    ctx.call.stage = CallStage.QUEUED
    ctx.call.queued_at = ctx.now
    ctx.call.leave_reason = None
    ctx.call.agent_id = None
    routing.reserve(ctx.call, None, ctx.now)
    ctx.record("queue.entered", queue=queue, menu=ctx.call.menu)
    ringing.ring_for(ctx, ctx.call)
    return hold(ctx, queue, preface)


def hold(ctx: CallContext, queue: str, preface: Sequence[Line] = ()) -> Document:
    """The Enqueue of a caller in ``queue``; said again to a waiting caller's late
    request, which changes nothing (Twilio keeps one place in its queue, and the
    caller keeps theirs, and any agent's reservation, here)."""
    return twiml.enqueue(
        ctx.voice.speak([*preface, ctx.flow.prompts.hold]),
        ctx.flow.queue_name(queue),
        action=webhook_url("queueing.left"),
        wait_url=webhook_url("queueing.wait"),
    )


def wait_document(ctx: CallContext, params: VoiceParams) -> Document:
    """Played while the caller waits, and asked for again each time it ends: position,
    expected wait, after a while an offer of a callback, and a turn of hold music."""
    if params.queue_sid:
        ctx.call.queue_sid = params.queue_sid  # an agent needs it to take this caller
    if ctx.call.stage == CallStage.QUEUED:
        ringing.ring_for(ctx, ctx.call)  # agents may be free now
    waited = params.queue_time or 0
    if ctx.call.stage == CallStage.QUEUED and waited >= ctx.settings.queue_max_wait_seconds:
        ctx.call.leave_reason = "max_wait"
        return twiml.leave()
    texts = ctx.flow.waiting.texts
    voice = ctx.voice
    response = twiml.empty()
    if params.queue_position:
        voice.say(response, (texts.position, {"position": str(params.queue_position)}))
    typical = typical_wait(recent_waits(ctx, ctx.call.queue), params.average_queue_time)
    minutes = expected_minutes(typical, waited)
    if minutes is not None:
        voice.say(response, (texts.estimate, {"minutes": str(minutes)}))
    if waited >= ctx.flow.waiting.callback_offer_after_seconds:
        voice.offer_key(response, texts.callback_offer, webhook_url("queueing.callback"), timeout=3)
    return twiml.play(response, str(ctx.flow.waiting.hold_music))


def take_callback_key(ctx: CallContext, digits: str) -> Document:
    if digits == "1" and ctx.call.stage == CallStage.QUEUED:
        ctx.call.leave_reason = "callback"
        return twiml.leave()  # the Enqueue action then records the request
    # Otherwise an empty document: when it ends, Twilio asks for the wait document again.
    return twiml.empty()


def left_queue(ctx: CallContext, params: VoiceParams) -> Document:
    """The Enqueue action: the caller has left the queue, for whatever reason."""
    result = params.queue_result
    ctx.record(
        "queue.left",
        queue=ctx.call.queue,
        result=result or None,
        seconds=params.queue_time,
        reason=ctx.call.leave_reason,
    )
    texts = ctx.flow.waiting.texts
    if result == "bridged":
        ctx.call.outcome = "agent"
        return ask_rating(ctx)
    if result == "leave" and ctx.call.leave_reason == "callback":
        return record_callback(ctx)
    if result == "leave" or result in FAILED_RESULTS:
        ctx.call.outcome = "left_queue"
        return offer_voicemail_or_callback(ctx, [texts.long_wait])
    ctx.call.outcome = "abandoned" if result == "hangup" else "left_queue"
    return _goodbye(ctx, [])


def connect_document(ctx: CallContext) -> Document:
    """Where an accepting agent's REST dequeue sends the caller: into the agent's room."""
    return twiml.join_conference(
        twiml.empty(), ctx.call.call_sid, action=webhook_url("queueing.after_agent")
    )


def after_agent(ctx: CallContext, params: VoiceParams) -> Document:
    ctx.record("agent.call_ended", seconds=params.dial_call_duration)
    ctx.call.outcome = "agent"
    return ask_rating(ctx)


def offer_voicemail_or_callback(ctx: CallContext, preface: Sequence[Line] = ()) -> Document:
    ctx.call.stage = CallStage.AFTER_QUEUE
    return ctx.voice.ask(
        [*preface, ctx.flow.waiting.texts.voicemail_or_callback],
        webhook_url("queueing.after"),
        single_key=True,
        timeout=6,
    )


def choose_voicemail_or_callback(ctx: CallContext, digits: str) -> Document:
    if digits == "2":
        return record_callback(ctx)
    # 1, or silence: a caller who says nothing may still leave a message.
    ctx.call.stage = CallStage.VOICEMAIL
    return record_voicemail(ctx)


def record_voicemail(ctx: CallContext) -> Document:
    texts = ctx.flow.waiting.texts
    response = ctx.voice.speak([texts.voicemail])
    twiml.record(response, action=webhook_url("queueing.voicemail"), max_length=VOICEMAIL_SECONDS)
    # An empty recording does not request the action: Twilio goes on here.
    ctx.voice.say(response, texts.no_message)
    response.hangup()
    return response


def save_voicemail(ctx: CallContext, params: VoiceParams) -> Document:
    texts = ctx.flow.waiting.texts
    if not params.recording_url:
        return _goodbye(ctx, [texts.no_message])
    ctx.session.add(
        Voicemail(
            call_id=ctx.call.id,
            customer_id=ctx.call.customer_id,
            language=ctx.language,
            topic=ctx.call.queue or "general",
            recording_url=params.recording_url,
            recording_sid=params.recording_sid or None,
            duration_seconds=params.recording_duration,
            status=FollowUpStatus.OPEN,
            created_at=ctx.now,
        )
    )
    ctx.call.outcome = "voicemail"
    ctx.record("voicemail.left", seconds=params.recording_duration)
    return _goodbye(ctx, [texts.voicemail_saved])


def record_callback(ctx: CallContext) -> Document:
    """A callback to the verified customer's number, else to the caller ID; a caller
    with neither can leave a voicemail instead."""
    customer = ctx.customer(ctx.call.customer_id)
    number = customer.phone if customer else ctx.call.caller
    if number is None:
        ctx.record("callback.impossible", reason="withheld")
        return choose_voicemail_or_callback(ctx, "1")
    ctx.session.add(
        CallbackRequest(
            call_id=ctx.call.id,
            customer_id=ctx.call.customer_id,
            number=number,
            language=ctx.language,
            topic=ctx.call.queue or "general",
            status=FollowUpStatus.OPEN,
            created_at=ctx.now,
        )
    )
    ctx.call.outcome = "callback"
    ctx.record("callback.requested", topic=ctx.call.queue)
    texts = ctx.flow.waiting.texts
    return _goodbye(ctx, [(texts.callback_recorded, {"number": " ".join(number[-4:])})])


def ask_rating(ctx: CallContext) -> Document:
    ctx.call.stage = CallStage.RATING
    texts = ctx.flow.waiting.texts
    response = twiml.empty()
    ctx.voice.offer_key(response, texts.rate_call, webhook_url("queueing.rating"), timeout=6)
    ctx.voice.say(response, texts.thanks)
    response.hangup()
    return response


def save_rating(ctx: CallContext, digits: str) -> Document:
    if digits in ("1", "2", "3", "4", "5"):
        ctx.call.rating = int(digits)
        ctx.record("call.rated", rating=ctx.call.rating)
    return _goodbye(ctx, [ctx.flow.waiting.texts.thanks])


def recent_waits(ctx: CallContext, queue: str | None) -> list[int]:
    """How long the latest callers who reached an agent from ``queue`` waited."""
    events = ctx.session.scalars(
        select(CallEvent)
        .where(CallEvent.kind == "queue.left")
        .order_by(CallEvent.id.desc())
        .limit(RECENT_WAITS * 5)
    )
    waits = [
        event.data.get("seconds")
        for event in events
        if event.data.get("queue") == queue and event.data.get("result") == "bridged"
    ]
    return [wait for wait in waits if isinstance(wait, int)][:RECENT_WAITS]


def _goodbye(ctx: CallContext, lines: Sequence[Line]) -> Document:
    ctx.call.stage = CallStage.ENDED
    return ctx.voice.goodbye(lines)
