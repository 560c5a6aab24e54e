"""A caller and an agent in one conference room (TWILIO.md, "Conferences";
twilio.com/docs/voice/twiml/conference).

After an agent accepts, both legs ``<Dial>`` the caller's room. Nothing on Twilio's
side takes a lone participant out, so Hotline watches the room: its status callbacks
(start, end, joins and leaves) and the wait document each side hears while alone,
which Twilio requests again each time it ends. A caller whose agent has not joined
within ``AGENT_JOIN_SECONDS``, or left before the caller was with them, is moved back
to the queue by a REST update, with an apology and their first ``queued_at`` (agents
take the longest waiting first, so nobody who queued later goes ahead of them); the
agent is taken off the line. An agent alone whose caller is not coming goes to
wrap-up. The talk time runs from the second join to the first leave (or the room's
end): after a conference, the Dial action carries no ``DialCallDuration``.

A callback uses the same room the other way round (``queueing.callbacks``): the agent
waits in the room of the customer's call while it rings, and the customer joins on 1.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select

from calls import twiml
from calls.context import AgentContext, CallContext, Context
from calls.twiml import Document, Line
from models import AgentCall, Call, CallbackRequest
from models.agents import AgentStage, AgentStatus
from models.calls import CallStage
from queueing import callback_queue, ringing, routing, status_log, waiting
from telephony.params import VoiceParams
from telephony.rest import TwilioUnavailable
from telephony.urls import webhook_url

# How long a caller in the room waits for the agent before going back to the queue;
# checked at each turn of their hold music.
AGENT_JOIN_SECONDS = 20
# An agent alone in the room hears a pause this long, then the check again.
AGENT_WAIT_SECONDS = 5
# An agent calling a customer back waits for them this long at most (their phone rings,
# they hear who is calling and press 1), even if news of the call's end never comes.
CALLBACK_WAIT_SECONDS = 90
# Conference events Hotline acts on, as recorded in the caller's history.
EVENTS = {
    "conference-start": "conference.started",
    "conference-end": "conference.ended",
    "participant-join": "conference.joined",
    "participant-leave": "conference.left",
}

log = logging.getLogger(__name__)


# --- the caller's side --------------------------------------------------------------


def connect(ctx: CallContext) -> Document:
    """Where an accepting agent's REST dequeue sends the caller: the one hand-off line,
    then into the agent's room, from now on waiting for the agent at most
    ``AGENT_JOIN_SECONDS``."""
    ctx.call.connected_at = ctx.call.connected_at or ctx.now
    return in_room(ctx, [waiting.handoff(ctx)])


def bring_caller(ctx: Context, caller: Call) -> bool:
    """Take ``caller``, just claimed by an agent (a key or the desk), out of Twilio's queue
    into their room (``connect``). If Twilio cannot, the caller is put back exactly as
    they were, for the next agent, and False."""
    connect_url = webhook_url("queueing.connect", absolute=True)
    queue_sid = caller.queue_sid
    # The QueueSid comes with the caller's first wait document, and the API needs it:
    # before then there is no queue member to move (never a dequeue with an empty one).
    if queue_sid:
        try:
            ctx.rest(lambda api: api.dequeue(queue_sid, caller.call_sid, connect_url))
            return True
        except TwilioUnavailable:
            pass
    caller.stage, caller.agent_id = CallStage.QUEUED, None
    routing.reserve(caller, None, ctx.now)
    return False


def in_room(ctx: CallContext, said: Sequence[Line] = ()) -> Document:
    """The caller's Dial into their room, after ``said``; a late request hears only the
    Dial again, which changes nothing."""
    return twiml.join_conference(
        ctx.voice.speak(said),
        ctx.call.call_sid,
        action=webhook_url("queueing.after_agent"),
        wait_url=webhook_url("queueing.room"),
        events=_events_url(),
    )


def caller_alone(ctx: CallContext) -> Document:
    """The caller's wait document in the room: a turn of hold music, after which Twilio
    asks again; each time, the agent who has not come in time is given up on."""
    call = ctx.call
    if call.stage == CallStage.CONNECTED and call.agent_joined_at is None and _overdue(ctx, call):
        _give_up_on_agent(ctx, "never_joined")
    if call.stage == CallStage.RETURNING:
        _send_back(ctx)  # again, if Twilio could not move the caller last time
    return _hold_music(ctx)


def after_agent(ctx: CallContext, params: VoiceParams) -> Document:
    """The caller's Dial action: the room has ended. They talked: the rating (the talk
    time comes from the room's events). They never did and the caller is still on
    the line (the room ended some other way): back to the queue."""
    call = ctx.call
    if not talked(call) and params.call_status == "in-progress":
        _give_up_on_agent(ctx, "room_ended")
        return requeue(ctx)
    call.outcome = "agent" if talked(call) else "abandoned"
    return waiting.ask_rating(ctx)


def requeue(ctx: CallContext) -> Document:
    """Back in the queue after an agent who never came: an apology, and the caller's
    first place (``queued_at`` is kept). A customer called back never queued and has no
    place to keep: see ``_call_again``."""
    call = ctx.call
    callback = callback_queue.placed_for(ctx.session, call.call_sid)
    if callback is not None:
        return _call_again(ctx, callback)
    call.stage = CallStage.QUEUED
    ctx.record("queue.returned", queue=call.queue)
    ringing.ring_for(ctx, call)
    texts = ctx.flow.waiting.texts
    return waiting.hold(ctx, call.queue or "general", [texts.agent_not_connected])


def _call_again(ctx: CallContext, callback: CallbackRequest) -> Document:
    """A customer called back whose agent left after their 1, before they were together:
    as when the agent leaves while their phone rings (``queueing.callbacks``), they hear
    that we will call again and the call ends; the callback, due again at once
    (``_give_up_on_agent`` ended the attempt uncounted), is offered to the next agent."""
    ctx.call.stage = CallStage.ENDED
    ctx.record("callback.agent_gone", callback=callback.id)
    ringing.ring_for_callback(ctx, callback)
    return ctx.voice.goodbye([ctx.flow.waiting.texts.callback_agent_gone])


def returning(ctx: CallContext) -> Document:
    """What a request on the way back to the queue hears (the dequeue's own request
    for the room, arriving after the agent left): the way to the queue. Hotline's REST
    update may bring the caller there too; that second request hears the queue as it
    stands, and the caller keeps their place."""
    response = twiml.empty()
    response.redirect(webhook_url("queueing.requeue"), method="POST")
    return response


# --- the room's status callbacks ----------------------------------------------------------


def room_event(ctx: CallContext, params: VoiceParams) -> Document:
    """A join, a leave, the room's start or end: recorded, and the talk time or the
    agent's absence followed up. The answer is ignored by Twilio."""
    call, kind = ctx.call, EVENTS.get(params.status_callback_event)
    if kind is None:
        return twiml.empty()
    side = _side(ctx, params.call_sid)
    room = params.conference_sid[:64] or None
    at = params.timestamp or ctx.now
    ctx.record(kind, conference=room, side=side)
    # A customer called back is still hearing who calls when the agent, already in the
    # room, joins it: that join counts too.
    joining = call.stage in (CallStage.CONNECTED, CallStage.CALLBACK)
    if kind == "conference.joined" and side is not None and joining:
        if room != call.conference_sid:  # a new instance of the room: nobody else is in it
            call.conference_sid, call.caller_joined_at, call.agent_joined_at = room, None, None
        if side == "caller":
            call.caller_joined_at = at
        else:
            call.agent_joined_at = at
    elif kind in ("conference.left", "conference.ended") and room == call.conference_sid:
        if talked(call) and call.talk_seconds is None:
            _record_talk(ctx, at)
    if (
        kind == "conference.left"
        and side == "agent"
        and call.stage == CallStage.CONNECTED
        and not talked(call)
    ):
        _give_up_on_agent(ctx, "left")
        _send_back(ctx)
    return twiml.empty()


# --- the agent's side ----------------------------------------------------------------


def agent_joins(ctx: AgentContext, caller: Call, said: list[Line]) -> Document:
    """The agent's Dial into the caller's room, after ``said``."""
    return twiml.join_conference(
        ctx.voice.speak(said),
        caller.call_sid,
        action=webhook_url("agents.after"),
        wait_url=webhook_url("agents.room"),
        events=_events_url(),
    )


def agent_alone(ctx: AgentContext) -> Document:
    """The agent's wait document in the room: a short pause, then the check again. A
    caller who is no longer coming (gone, taken back to the queue, or not there in
    time) sends the agent on to wrap-up instead of leaving them in silence."""
    leg = ctx.leg
    caller = ctx.session.get(Call, leg.caller_call_id) if leg.caller_call_id else None
    coming = (
        caller is not None
        and caller.agent_id == leg.agent_id
        and (
            (
                caller.stage == CallStage.CONNECTED
                and not (caller.caller_joined_at is None and _overdue(ctx, caller))
            )
            or (caller.stage == CallStage.CALLBACK and not _callback_overdue(ctx, caller))
        )
    )
    if not coming and leg.stage == AgentStage.CONNECTED:
        url = webhook_url("agents.after", absolute=True)
        try:
            ctx.rest(lambda api: api.redirect(leg.call_sid, url))
        except TwilioUnavailable as exc:
            log.warning("could not move agent call %s to wrap-up: %s", leg.call_sid, exc)
    return twiml.pause(AGENT_WAIT_SECONDS)


# --- the decisions ------------------------------------------------------------------


def talked(call: Call) -> bool:
    """Both sides have been in the same instance of the room."""
    return call.caller_joined_at is not None and call.agent_joined_at is not None


def _overdue(ctx: CallContext | AgentContext, caller: Call) -> bool:
    since = caller.connected_at
    return since is not None and ctx.now - since >= timedelta(seconds=AGENT_JOIN_SECONDS)


def _callback_overdue(ctx: AgentContext, customer: Call) -> bool:
    """A customer being called back who has not come in time: their call's end was
    never reported (a lost status callback), or they never pressed 1."""
    return ctx.now - customer.started_at >= timedelta(seconds=CALLBACK_WAIT_SECONDS)


def _record_talk(ctx: CallContext, ended: datetime) -> None:
    call = ctx.call
    began = max(call.caller_joined_at or ended, call.agent_joined_at or ended)
    call.talk_seconds = max(0, round((ended - began).total_seconds()))
    ctx.record("agent.call_ended", agent=call.agent_id, seconds=call.talk_seconds)


def _give_up_on_agent(ctx: CallContext, reason: str) -> None:
    """The agent never came or left before talking: the caller is on the way back to
    the queue, reserved for nobody, and the agent, who accepted and vanished, goes
    offline like one who misses a ring (unless they have moved on meanwhile)."""
    call = ctx.call
    ctx.record("agent.not_connected", agent=call.agent_id, reason=reason)
    if call.agent_id is not None:
        offline = AgentStatus.OFFLINE
        status_log.change_if(ctx.session, status_log.WHILE_BUSY, call.agent_id, offline, ctx.now)
    call.stage, call.agent_id = CallStage.RETURNING, None
    call.connected_at = call.conference_sid = call.caller_joined_at = call.agent_joined_at = None
    routing.reserve(call, None, ctx.now)
    attempt = callback_queue.open_attempt(ctx.session, call.call_sid)
    if attempt is not None:  # a customer called back: that attempt did not reach them
        callback_queue.finish(ctx, attempt, "agent_left")


def _send_back(ctx: CallContext) -> None:
    """Ask Twilio to move the caller out of the room to the queue. If it cannot, the
    caller stays at ``RETURNING`` and the next turn of their hold music asks again."""
    call_sid, url = ctx.call.call_sid, webhook_url("queueing.requeue", absolute=True)
    try:
        ctx.rest(lambda api: api.redirect(call_sid, url))
    except TwilioUnavailable as exc:
        log.warning("could not move caller %s back to the queue: %s", call_sid, exc)


# Whose caller an agent's call is about: what ``_side`` reads of it.
_LEG_OF = select(AgentCall.caller_call_id, AgentCall.agent_id).where(
    AgentCall.call_sid == bindparam("call_sid")
)


def _side(ctx: CallContext, call_sid: str) -> str | None:
    """Whose join or leave: the caller's, their current agent's, or nobody's we follow
    (an agent given up on, or a room's own event)."""
    call = ctx.call
    if call_sid == call.call_sid:
        return "caller"
    leg = ctx.session.execute(_LEG_OF, {"call_sid": call_sid}).first()
    if leg is not None and leg.caller_call_id == call.id and leg.agent_id == call.agent_id:
        return "agent"
    return None


def _events_url() -> str:
    # The same URL from both sides, with no turn: status callbacks answer no prompt.
    return webhook_url("rooms.event", turn=None)


def _hold_music(ctx: CallContext) -> Document:
    # One play of the hold track, of known length: this document's cadence, and so how
    # often the deadline for the agent is checked.
    url, _ = waiting.hold_track(ctx)
    response = twiml.empty()
    twiml.hold_music(response, url, plays=1, pause=0)
    return response
