"""A caller and the agent queues (SPEC §6): joining, waiting, leaving, and what follows.

Each function takes the call's context and returns the TwiML to play; the
routes in queueing.routes only load the call and save it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from callflows.calls import CallContext
from callflows.twiml import Line, Voice
from models import CallbackRequest, CallEvent, Voicemail
from queueing import ringing, routing
from queueing.agent_line import conference
from queueing.estimate import expected_minutes, typical_wait
from queueing.hours import is_open
from telephony.params import VoiceParams
from telephony.urls import webhook_url

RECENT_WAITS = 20  # answered callers the typical wait is taken from
VOICEMAIL_SECONDS = 120
FAILED_RESULTS = ("queue-full", "error", "system-error")


def enqueue(ctx: CallContext, queue: str, preface: Sequence[Line] = ()) -> VoiceResponse:
    """Put the caller in ``queue``, or offer voicemail or a callback outside hours."""
    ctx.call.queue = queue
    texts = ctx.flow.waiting.texts
    if not is_open(ctx.flow.hours, ctx.flow.timezone, ctx.now):
        ctx.record("queue.closed", queue=queue)
        return offer_voicemail_or_callback(ctx, [*preface, texts.closed])
    ctx.call.stage = "queued"
    ctx.call.queued_at = ctx.now
    ctx.call.leave_reason = None
    ctx.call.agent_id = None
    routing.reserve(ctx.call, None, ctx.now)
    ctx.record("queue.entered", queue=queue, menu=ctx.call.menu)
    ringing.ring_for(ctx.session, ctx.call, ctx.twilio, ctx.now)
    voice = Voice(ctx.flow, ctx.language)
    response = VoiceResponse()
    for line in [*preface, ctx.flow.prompts.hold]:
        voice.say(response, line)
    response.enqueue(
        ctx.flow.queue_name(queue),
        action=webhook_url("queueing.left"),
        method="POST",
        wait_url=webhook_url("queueing.wait"),
        wait_url_method="POST",
    )
    return response


def wait_document(ctx: CallContext, params: VoiceParams) -> VoiceResponse:
    """Played while the caller waits, and asked for again each time it ends: position,
    expected wait, after a while an offer of a callback, and a turn of hold music."""
    response = VoiceResponse()
    if params.queue_sid:
        ctx.call.queue_sid = params.queue_sid  # an agent needs it to take this caller
    if ctx.call.stage == "queued":
        ringing.ring_for(ctx.session, ctx.call, ctx.twilio, ctx.now)  # agents may be free now
    waited = params.queue_time or 0
    if ctx.call.stage == "queued" and waited >= ctx.settings.queue_max_wait_seconds:
        ctx.call.leave_reason = "max_wait"
        response.leave()
        return response
    texts = ctx.flow.waiting.texts
    voice = Voice(ctx.flow, ctx.language)
    if params.queue_position:
        voice.say(response, (texts.position, {"position": str(params.queue_position)}))
    typical = typical_wait(recent_waits(ctx, ctx.call.queue), params.average_queue_time)
    minutes = expected_minutes(typical, waited)
    if minutes is not None:
        voice.say(response, (texts.estimate, {"minutes": str(minutes)}))
    if waited >= ctx.flow.waiting.callback_offer_after_seconds:
        # A wait document's Gather takes one input kind only: keys.
        gather = Gather(
            action=webhook_url("queueing.callback"),
            method="POST",
            input="dtmf",
            num_digits=1,
            timeout=3,
        )
        voice.say(gather, texts.callback_offer)
        response.append(gather)
    response.play(str(ctx.flow.waiting.hold_music))
    return response


def take_callback_key(ctx: CallContext, digits: str) -> VoiceResponse:
    response = VoiceResponse()
    if digits == "1" and ctx.call.stage == "queued":
        ctx.call.leave_reason = "callback"
        response.leave()  # the Enqueue action then records the request
    # Otherwise an empty document: when it ends, Twilio asks for the wait document again.
    return response


def left_queue(ctx: CallContext, params: VoiceParams) -> VoiceResponse:
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


def connect_document(ctx: CallContext) -> VoiceResponse:
    """Where an accepting agent's REST dequeue sends the caller: into the agent's room."""
    response = VoiceResponse()
    dial = Dial(action=webhook_url("queueing.after_agent"), method="POST")
    dial.append(conference(ctx.call.call_sid))
    response.append(dial)
    return response


def after_agent(ctx: CallContext, params: VoiceParams) -> VoiceResponse:
    ctx.record("agent.call_ended", seconds=params.dial_call_duration)
    ctx.call.outcome = "agent"
    return ask_rating(ctx)


def offer_voicemail_or_callback(ctx: CallContext, preface: Sequence[Line]) -> VoiceResponse:
    ctx.call.stage = "after_queue"
    voice = Voice(ctx.flow, ctx.language)
    return voice.ask(
        [*preface, ctx.flow.waiting.texts.voicemail_or_callback],
        webhook_url("queueing.after"),
        single_key=True,
        timeout=6,
    )


def choose_voicemail_or_callback(ctx: CallContext, digits: str) -> VoiceResponse:
    if digits == "2":
        return record_callback(ctx)
    # 1, or silence: a caller who says nothing may still leave a message.
    ctx.call.stage = "voicemail"
    voice = Voice(ctx.flow, ctx.language)
    response = VoiceResponse()
    voice.say(response, ctx.flow.waiting.texts.voicemail)
    response.record(
        action=webhook_url("queueing.voicemail"),
        method="POST",
        max_length=VOICEMAIL_SECONDS,
        finish_on_key="#",
        play_beep=True,
    )
    # An empty recording does not request the action: Twilio goes on here.
    voice.say(response, ctx.flow.waiting.texts.no_message)
    response.hangup()
    return response


def save_voicemail(ctx: CallContext, params: VoiceParams) -> VoiceResponse:
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
            status="open",
        )
    )
    ctx.call.outcome = "voicemail"
    ctx.record("voicemail.left", seconds=params.recording_duration)
    return _goodbye(ctx, [texts.voicemail_saved])


def record_callback(ctx: CallContext) -> VoiceResponse:
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
            status="open",
        )
    )
    ctx.call.outcome = "callback"
    ctx.record("callback.requested", topic=ctx.call.queue)
    texts = ctx.flow.waiting.texts
    return _goodbye(ctx, [(texts.callback_recorded, {"number": " ".join(number[-4:])})])


def ask_rating(ctx: CallContext) -> VoiceResponse:
    ctx.call.stage = "rating"
    voice = Voice(ctx.flow, ctx.language)
    response = VoiceResponse()
    gather = Gather(
        action=webhook_url("queueing.rating"),
        method="POST",
        input="dtmf",
        num_digits=1,
        timeout=6,
        finish_on_key="",
    )
    voice.say(gather, ctx.flow.waiting.texts.rate_call)
    response.append(gather)
    voice.say(response, ctx.flow.waiting.texts.thanks)
    response.hangup()
    return response


def save_rating(ctx: CallContext, digits: str) -> VoiceResponse:
    if digits in ("1", "2", "3", "4", "5"):
        ctx.call.rating = int(digits)
        ctx.record("call.rated", rating=ctx.call.rating)
    return _goodbye(ctx, [ctx.flow.waiting.texts.thanks])


def resume(ctx: CallContext) -> VoiceResponse:
    """The prompt a call in one of the after-queue stages is waiting on."""
    if ctx.call.stage == "rating":
        return ask_rating(ctx)
    if ctx.call.stage == "voicemail":
        return choose_voicemail_or_callback(ctx, "1")
    return offer_voicemail_or_callback(ctx, [])


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


def _goodbye(ctx: CallContext, lines: Sequence[Line]) -> VoiceResponse:
    ctx.call.stage = "ended"
    voice = Voice(ctx.flow, ctx.language)
    response = VoiceResponse()
    for line in lines:
        voice.say(response, line)
    response.hangup()
    return response
