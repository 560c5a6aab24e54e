"""A caller and the agent queues (SPEC §6): joining, waiting, leaving, and what follows.

Each function takes the call's context and returns the TwiML to play; the
routes in queueing.routes only load the call and save it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from calls import twiml
from calls.context import CallContext
from calls.twiml import Container, Document, Line, Value, Verbatim
from models import Agent, Voicemail
from models.calls import CallStage
from models.queueing import FollowUpStatus
from queueing import callback_queue, hold_tone, ringing, routing
from queueing.estimate import announced_ahead, hold_loops, promise
from queueing.hours import is_open
from queueing.matching import URGENT
from queueing.pool import AgentPool, agent_pool, expected_wait
from telephony.params import VoiceParams
from telephony.urls import webhook_url

VOICEMAIL_SECONDS = 120
FAILED_RESULTS = ("queue-full", "error", "system-error")
KEY_TIMEOUT = 1  # seconds a wait document's Gather listens on after its music


def enqueue(ctx: CallContext, queue: str, preface: Sequence[Line] = ()) -> Document:
    """Put the caller in ``queue``, or offer voicemail or a callback outside hours. The
    urgent queue never closes: with no agent on who could take the caller, they go to
    ``OVERFLOW_NUMBER``, or wait for the first agent to come on, told so."""
    ctx.call.queue = queue
    texts = ctx.flow.waiting.texts
    urgent = queue == URGENT
    if not urgent and not is_open(ctx.flow.hours, ctx.flow.timezone, ctx.now):
        ctx.record("queue.closed", queue=queue)
        return offer_voicemail_or_callback(ctx, [*preface, texts.closed])
    nobody_on = urgent and not agent_pool(ctx.session, ctx.call).on
    if nobody_on and ctx.settings.overflow_number:
        return overflow(ctx, preface)
    ctx.call.stage = CallStage.QUEUED
    ctx.call.queued_at = ctx.now
    ctx.call.leave_reason = None
    ctx.call.agent_id = None
    ctx.call.ahead_announced = ctx.call.expected_by = ctx.call.hold_turn_ends = None
    routing.reserve(ctx.call, None, ctx.now)
    ctx.record("queue.entered", queue=queue, menu=ctx.call.menu)
    ringing.ring_for(ctx, ctx.call)
    return hold(ctx, queue, preface, texts.urgent_no_agents if nobody_on else None)


def hold(
    ctx: CallContext, queue: str, preface: Sequence[Line] = (), holding: Line | None = None
) -> Document:
    """The Enqueue of a caller in ``queue``, said with ``holding`` (by default, "please
    hold while we connect you"); said again to a waiting caller's late request, which
    changes nothing (Twilio keeps one place in its queue, and the caller keeps theirs,
    and any agent's reservation, here)."""
    return twiml.enqueue(
        ctx.voice.speak([*preface, holding or ctx.flow.prompts.hold]),
        ctx.flow.queue_name(queue),
        action=webhook_url("queueing.left"),
        wait_url=webhook_url("queueing.wait"),
    )


def overflow(ctx: CallContext, preface: Sequence[Line] = ()) -> Document:
    """An urgent caller nobody here can take: through to OVERFLOW_NUMBER's humans."""
    number = ctx.settings.overflow_number
    if number is None:  # callers only come here when it is set
        return offer_voicemail_or_callback(ctx, preface)
    ctx.call.stage = CallStage.AFTER_QUEUE
    ctx.record("queue.overflow", queue=ctx.call.queue)
    response = ctx.voice.speak([*preface, ctx.flow.waiting.texts.overflow])
    return twiml.dial_overflow(response, number, action=webhook_url("queueing.overflow_ended"))


def overflow_ended(ctx: CallContext, params: VoiceParams) -> Document:
    """The overflow call ended: after a talk, goodbye; unanswered, a voicemail or a
    callback instead."""
    if params.dial_call_status in ("completed", "answered"):
        ctx.call.outcome = "overflow"
        return _goodbye(ctx, [ctx.flow.waiting.texts.thanks])
    ctx.record("queue.overflow_unanswered", status=params.dial_call_status or None)
    return offer_voicemail_or_callback(ctx, [ctx.flow.waiting.texts.overflow_unanswered])


def wait_document(ctx: CallContext, params: VoiceParams) -> Document:
    """Played while the caller waits, and asked for again each time it ends: how many
    callers are ahead and the expected wait, then hold music until the next
    announcement (``announce_every_seconds``); after a while the music also carries
    the offer of a callback, listened for all the while."""
    if params.queue_sid:
        ctx.call.queue_sid = params.queue_sid  # an agent needs it to take this caller
    call, waiting = ctx.call, ctx.flow.waiting
    waited = params.queue_time or 0
    response = twiml.empty()
    if call.stage == CallStage.QUEUED:
        pool = agent_pool(ctx.session, call)
        ringing.ring_for(ctx, call, among=pool.all)  # agents may be free now
        urgent_unserved = call.queue == URGENT and not pool.on
        if urgent_unserved and ctx.settings.overflow_number:
            call.leave_reason = "overflow"  # the last agent who could take them left
            return twiml.leave()
        # An urgent caller waits as long as an agent who could take them is on.
        if waited >= ctx.settings.queue_max_wait_seconds and (
            urgent_unserved or call.queue != URGENT
        ):
            call.leave_reason = "max_wait"
            return twiml.leave()
        for line in _announcements(ctx, pool, waited):
            ctx.voice.say(response, line)
    music: Container = response
    if waited >= waiting.callback_offer_after_seconds and callback_number(ctx):
        music = ctx.voice.offer_key(
            response,
            waiting.texts.callback_offer,
            webhook_url("queueing.callback"),
            timeout=KEY_TIMEOUT,
        )
    _hold_music(ctx, music)
    return response


def _announcements(ctx: CallContext, pool: AgentPool, waited: int) -> list[Line]:
    """Callers ahead (never more than said before) and the wait (never longer than
    promised before; nothing more once the caller has waited past it)."""
    call, texts = ctx.call, ctx.flow.waiting.texts
    # Callbacks keep their callers' places: those ahead count as callers ahead.
    hours = callback_queue.hours_open(ctx)
    ahead = announced_ahead(
        callback_queue.work_ahead(ctx.session, call, pool.all, ctx.now, hours),
        call.ahead_announced,
    )
    call.ahead_announced = ahead
    lines: list[Line] = [
        texts.next_in_line
        if ahead == 0
        else texts.one_ahead
        if ahead == 1
        else (texts.callers_ahead, {"ahead": str(ahead)})
    ]
    told = promise(expected_wait(ctx.session, call, pool, ahead, waited), call.expected_by, ctx.now)
    call.expected_by = told.expected_by
    if told.overdue:
        lines.append(texts.past_estimate)
    elif told.minutes == 1:
        lines.append(texts.estimate_one)
    elif told.minutes is not None:
        lines.append((texts.estimate, {"minutes": str(told.minutes)}))
    return lines


def _hold_music(ctx: CallContext, parent: Container) -> None:
    """Whole plays of the hold track, and a pause, filling the time to the next
    announcement. A track that came back far too soon was skipped by Twilio (it could
    not fetch it): from then on this caller hears Hotline's own tone."""
    call, waiting = ctx.call, ctx.flow.waiting
    track = waiting.hold_music
    # Followed only while the caller waits: Twilio may still ask for this document
    # of a caller an agent has just taken, or retry it after they hung up. They hear
    # the music, and nothing of it is noted.
    queued, ends = call.stage == CallStage.QUEUED, call.hold_turn_ends
    if queued and track is not None and ends is not None and not call.hold_music_failed:
        if ctx.now < ends - timedelta(seconds=track.seconds / 2):
            call.hold_music_failed = True
            ctx.record("queue.hold_music_failed", url=str(track.url))
    url, seconds = hold_track(ctx)
    plays, pause = hold_loops(seconds, waiting.announce_every_seconds)
    twiml.hold_music(parent, url, plays=plays, pause=pause)
    if queued:
        call.hold_turn_ends = ctx.now + timedelta(seconds=plays * seconds + pause)


def hold_track(ctx: CallContext) -> tuple[str, int]:
    """The hold track this caller hears and its length: the flow's, or Hotline's own
    tone when the flow names none or the caller's track could not be fetched."""
    track = ctx.flow.waiting.hold_music
    if track is None or ctx.call.hold_music_failed:
        return webhook_url("media.hold_tone_file", absolute=True), hold_tone.SECONDS
    return str(track.url), track.seconds


def take_callback_key(ctx: CallContext, digits: str) -> Document:
    ctx.call.hold_turn_ends = None  # the music was cut short by the key, not skipped
    if digits == "1" and ctx.call.stage == CallStage.QUEUED:
        ctx.call.leave_reason = "callback"
        return twiml.leave()  # the Enqueue action then records the request
    # Otherwise an empty document: when it ends, Twilio asks for the wait document again.
    return twiml.empty()


def left_queue(ctx: CallContext, params: VoiceParams) -> Document:
    """The Enqueue action: the caller has left the queue, for whatever reason."""
    result = params.queue_result
    if result == "redirected":
        # Hotline moved the caller itself (a dequeue, or back from an agent's room), and
        # the move says what follows; Twilio runs nothing this answers (TWILIO.md).
        return twiml.empty()
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
    if result == "leave" and ctx.call.leave_reason == "overflow":
        return overflow(ctx)
    if result == "leave" or result in FAILED_RESULTS:
        ctx.call.outcome = "left_queue"
        return offer_voicemail_or_callback(ctx, [texts.long_wait])
    ctx.call.outcome = "abandoned" if result == "hangup" else "left_queue"
    return _goodbye(ctx, [])


def handoff(ctx: CallContext) -> Line:
    """The hand-off line ("Connecting you now"), naming the agent who took the call as
    the flow's ``announce_agent`` says: a name in the voice of its script."""
    waiting = ctx.flow.waiting
    agent = ctx.session.get(Agent, ctx.call.agent_id) if ctx.call.agent_id else None
    if agent is None or waiting.announce_agent == "none":
        return waiting.texts.connecting
    named: Value = Verbatim(agent.name) if waiting.announce_agent == "name" else agent.id
    return (waiting.texts.connecting_to, {"agent": named})


def offer_voicemail_or_callback(ctx: CallContext, preface: Sequence[Line] = ()) -> Document:
    """A choice of voicemail or a callback; only voicemail for a caller we cannot call back."""
    if callback_number(ctx) is None:
        ctx.call.stage = CallStage.VOICEMAIL
        return record_voicemail(ctx, preface)
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


def record_voicemail(ctx: CallContext, preface: Sequence[Line] = ()) -> Document:
    texts = ctx.flow.waiting.texts
    response = ctx.voice.speak([*preface, texts.voicemail])
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


def callback_number(ctx: CallContext) -> str | None:
    """Where a callback would go: the verified customer's number, else the caller ID;
    None for a caller who withheld their number and is not verified."""
    customer = ctx.customer(ctx.call.customer_id)
    return customer.phone if customer else ctx.call.caller


def record_callback(ctx: CallContext) -> Document:
    """A callback to ``callback_number``, keeping the caller's place (queueing.callbacks);
    a caller without one (a late key, since none is offered a callback) can leave a
    voicemail instead."""
    number = callback_number(ctx)
    if number is None:
        ctx.record("callback.impossible", reason="withheld")
        return choose_voicemail_or_callback(ctx, "1")
    callback = callback_queue.new_request(
        ctx.session, ctx.call, number, ctx.language, ctx.call.queue or "general", ctx.now
    )
    ctx.call.outcome = "callback"
    ctx.record("callback.requested", topic=ctx.call.queue)
    # Out of the queue before any agent is rung: the callback takes the caller's place.
    ctx.call.stage = CallStage.ENDED
    ctx.session.flush()
    ringing.ring_for_callback(ctx, callback)  # an agent may be free for it now
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
    """The key as a score (1-5, 5 best) in the convention of the caller's language."""
    score = ctx.flow.waiting.rating_keys[ctx.language].get(digits)
    if score is not None:
        ctx.call.rating = score
        ctx.record("call.rated", rating=score, key=digits)
    return _goodbye(ctx, [ctx.flow.waiting.texts.thanks])


def _goodbye(ctx: CallContext, lines: Sequence[Line]) -> Document:
    ctx.call.stage = CallStage.ENDED
    return ctx.voice.goodbye(lines)
