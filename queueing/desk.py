"""What an agent decides on the desk (the ``desk`` pages), beside what they decide on
the phone (``queueing.agent_line``) and through the same conditional updates, so that of
a phone key and a desk button whichever comes first wins, once.

The agent's phone still carries the voice: Accept on the desk claims the caller as key
1 does, takes them out of the queue, and moves the agent's phone into the caller's room
by a REST update (outside the transaction); a phone that has not answered yet goes
straight into the room when it does (``agent_line.joined_from_desk``). The phone's call
is left at a stage whose replay changes nothing, so a late key does nothing. Pass, and
Ready after the wrap-up, end the phone's call: its status callback then rings the agent
for what comes next, as hanging up does.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from calls.context import Context
from models import Agent, AgentCall, Call, CallbackRequest, CallEvent, Customer, Voicemail
from models.agents import AgentStage, AgentStatus
from models.calls import CallStage
from models.queueing import CallbackStatus
from queueing import agent_ends, callback_queue, callbacks, conference, ringing, routing
from queueing.voicemails import take_voicemail
from telephony.rest import TwilioUnavailable
from telephony.urls import webhook_url

# The statuses an agent may choose on the desk; busy and wrap-up follow the calls.
CHOSEN = (AgentStatus.AVAILABLE, AgentStatus.BREAK, AgentStatus.OFFLINE)

log = logging.getLogger(__name__)


# --- what the desk shows ----------------------------------------------------------------


def offered_caller(ctx: Context, agent: Agent) -> Call | None:
    """The waiting caller kept for ``agent`` to accept or pass (rung, or hearing the
    whisper), while the offer holds."""
    return ctx.session.scalars(
        select(Call)
        .where(
            Call.stage == CallStage.QUEUED,
            Call.offered_agent_id == agent.id,
            Call.offered_at > ctx.now - routing.OFFER_HOLDS,
        )
        .order_by(Call.offered_at.desc(), Call.id.desc())
        .limit(1)
    ).first()


def connected_caller(ctx: Context, agent: Agent) -> Call | None:
    """The caller ``agent`` is on the way to or talking with (a customer called back too)."""
    return ctx.session.scalars(
        select(Call)
        .where(Call.agent_id == agent.id, Call.stage.in_((CallStage.CONNECTED, CallStage.CALLBACK)))
        .order_by(Call.id.desc())
        .limit(1)
    ).first()


def last_leg(ctx: Context, agent: Agent) -> AgentCall | None:
    """The agent's latest call that was about a caller: where the notes and the wrap-up's
    disposition of that caller go."""
    return ctx.session.scalars(
        select(AgentCall)
        .where(AgentCall.agent_id == agent.id, AgentCall.caller_call_id.is_not(None))
        .order_by(AgentCall.id.desc())
        .limit(1)
    ).first()


def awaits_disposition(ctx: Context, agent: Agent, leg: AgentCall | None) -> bool:
    """Whether ``leg`` was a call the agent took, now over, with no disposition yet. Its
    wrap-up stays on the desk after the phone's wrap-up ended (a hang-up, key 1 or the
    limit make the agent ready): most agents hang up when a call ends."""
    if leg is None or leg.disposition is not None or leg.caller_call_id is None:
        return False
    if leg.stage not in (AgentStage.WRAP_UP, AgentStage.ENDED):
        return False
    caller = ctx.session.get(Call, leg.caller_call_id)
    return caller is not None and caller.agent_id == agent.id


def wrap_up_left(ctx: Context, agent: Agent) -> int:
    """Seconds of wrap-up left before the agent counts as ready (AGENT_WRAP_UP_SECONDS)."""
    limit = timedelta(seconds=ctx.settings.agent_wrap_up_seconds)
    return max(0, int((agent.status_since + limit - ctx.now).total_seconds()))


# --- what the agent decides --------------------------------------------------------------


def set_status(ctx: Context, agent: Agent, status: AgentStatus) -> bool:
    """Available, break or offline, as the agent chooses; False while a call decides it
    (busy: rung, hearing about a caller, or talking). Leaving the wrap-up this way is
    Ready without a disposition. An agent who becomes available is rung for what comes
    first for them, as on the phone."""
    if status not in CHOSEN:
        raise ValueError(f"an agent does not choose {status}")
    if agent.status == status:
        return True
    was = agent.status
    allowed = [other for other in AgentStatus if other not in (AgentStatus.BUSY, status)]
    if not routing.set_status_from(ctx.session, agent, status, ctx.now, allowed):
        return False
    if was == AgentStatus.WRAP_UP:
        leg = last_leg(ctx, agent)
        if leg is not None and _end_phone_call(ctx, leg):
            return True  # its status callback rings the agent
    if status == AgentStatus.AVAILABLE:
        ringing.ring_agent(ctx, agent)
    return True


def accept(ctx: Context, agent: Agent, caller_id: int) -> bool:
    """Accept the caller offered to ``agent``: theirs only if still waiting and still kept
    for them (``routing.claim``, as key 1). False when too late (another agent, the
    phone's key first, a caller who left) or Twilio could not move the caller."""
    session = ctx.session
    caller = routing.claim(session, caller_id, agent.id, ctx.now)
    if caller is None:
        return False
    leg = _phone_call(ctx, agent, caller)
    if leg is not None:
        # In the claim's transaction: a key the phone sends from now on finds the call
        # connected, and hears the room again (agent_line.talking), nothing more.
        leg.caller_call_id, leg.stage = caller.id, AgentStage.CONNECTED
    session.add(
        CallEvent(call_id=caller.id, kind="agent.connected", data={"agent": agent.id}, at=ctx.now)
    )
    if not conference.bring_caller(ctx, caller):
        # The caller is back in the queue for the next agent; this one is told on the
        # desk, and their phone, about nobody now, is hung up.
        if agent.status == AgentStatus.BUSY:
            routing.set_status(session, agent, AgentStatus.AVAILABLE, ctx.now)
        if leg is not None:
            _end_phone_call(ctx, leg)
        return False
    routing.set_status(session, agent, AgentStatus.BUSY, ctx.now)
    if leg is not None:
        call_sid = leg.call_sid
        url = webhook_url("agents.desk_join", absolute=True, turn=None)
        try:
            ctx.rest(lambda api: api.redirect(call_sid, url))
        except TwilioUnavailable as exc:
            # The caller, alone in the room, goes back to the queue after
            # AGENT_JOIN_SECONDS (queueing.conference): never stranded.
            log.warning("could not move agent %s's phone into the room: %s", agent.id, exc)
    return True


def pass_caller(ctx: Context, agent: Agent, caller_id: int) -> bool:
    """Pass on the caller offered to ``agent``, as key 2 does: the next agent is rung,
    and this one is not offered them again while the pass holds. False when the caller
    is no longer kept for them."""
    caller = ctx.session.get(Call, caller_id)
    if caller is None or caller.stage != CallStage.QUEUED or caller.offered_agent_id != agent.id:
        return False
    leg = _phone_call(ctx, agent, caller)
    agent_ends.passed(ctx, agent, caller)
    if leg is not None:
        if agent.status == AgentStatus.BUSY:  # rung agents are busy while they hear it
            routing.set_status(ctx.session, agent, AgentStatus.AVAILABLE, ctx.now)
        _end_phone_call(ctx, leg)
    return True


def save_notes(ctx: Context, agent: Agent, notes: str) -> bool:
    """The agent's notes on the caller they are with (or last were)."""
    leg = last_leg(ctx, agent)
    if leg is None:
        return False
    leg.notes = notes.strip() or None
    return True


def wrap_up(ctx: Context, agent: Agent, disposition: str, notes: str) -> bool:
    """The wrap-up's disposition and notes, kept on the agent's call; then Ready: the
    agent is available (if still in wrap-up: AGENT_WRAP_UP_SECONDS may have ended it)."""
    if disposition not in ctx.flow.agents.dispositions:
        raise ValueError(f"{disposition!r} is not a disposition of the flow file")
    leg = last_leg(ctx, agent)
    if leg is None:
        return False
    leg.disposition, leg.notes = disposition, notes.strip() or None
    if agent.status == AgentStatus.WRAP_UP:
        set_status(ctx, agent, AgentStatus.AVAILABLE)
    return True


def call_back_voicemail(ctx: Context, agent: Agent, voicemail_id: int) -> bool:
    """Call back the caller who left ``voicemail_id``: the agent takes the voicemail
    (unless they have it), a callback is made from it (one at a time) and accepted as
    any callback is (``callbacks.accept``: the agent's phone rings, then the customer's).
    False when the voicemail is not theirs to take, the number was withheld, or the
    callback cannot be placed now (it then waits its turn among callbacks)."""
    session = ctx.session
    voicemail = session.get(Voicemail, voicemail_id)
    if voicemail is None:
        return False
    if voicemail.taken_by != agent.id and not take_voicemail(session, agent, voicemail.id, ctx.now):
        return False
    call = session.get(Call, voicemail.call_id)
    number = _callback_number(ctx, voicemail, call)
    if call is None or number is None:
        return False
    callback = session.scalars(
        select(CallbackRequest).where(
            CallbackRequest.call_id == call.id,
            CallbackRequest.status.in_((CallbackStatus.OPEN, CallbackStatus.CALLING)),
        )
    ).first()
    if callback is None:
        callback = callback_queue.new_request(
            session, call, number, voicemail.language, voicemail.topic, ctx.now
        )
        session.flush()
    return callbacks.accept(ctx, agent, callback.id)


# --- the agent's phone -------------------------------------------------------------------


def _phone_call(ctx: Context, agent: Agent, caller: Call) -> AgentCall | None:
    """The agent's phone call that is about ``caller`` now (rung, or on the agent line)."""
    return ctx.session.scalars(
        select(AgentCall)
        .where(
            AgentCall.agent_id == agent.id,
            AgentCall.caller_call_id == caller.id,
            AgentCall.stage != AgentStage.ENDED,
        )
        .order_by(AgentCall.id.desc())
        .limit(1)
    ).first()


def _end_phone_call(ctx: Context, leg: AgentCall) -> bool:
    """Hang up the agent's phone call, ended for Hotline first (its status callback then
    changes nothing but ringing the agent if ready). False if it had ended already."""
    if leg.stage == AgentStage.ENDED:
        return False
    leg.stage, call_sid = AgentStage.ENDED, leg.call_sid
    try:
        ctx.rest(lambda api: api.hang_up(call_sid))
    except TwilioUnavailable as exc:
        log.warning("could not hang up agent call %s: %s", call_sid, exc)
    return True


def _callback_number(ctx: Context, voicemail: Voicemail, call: Call | None) -> str | None:
    """The number on file for a verified caller, else their caller ID (None: withheld)."""
    if voicemail.customer_id is not None:
        customer = ctx.session.get(Customer, voicemail.customer_id)
        if customer is not None:
            return customer.phone
    return call.caller if call is not None else None
