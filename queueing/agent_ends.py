"""How an agent's call ends, for the server as for the agent: the status callback of a
ring (``/agents/ring/status``) and of the agent line (``/agents/status``), a ring
nobody took up, a pass.

Whatever the stage the call ended at, nothing is left hanging: a caller the agent
was hearing about is free for the next agent at once (not after the reservation
runs out), an agent who hangs up in wrap-up is ready again, and an agent who is
ready is rung for the next caller they may take. A replayed callback finds the leg
ended and changes nothing but that last step, which finds the agent busy once rung.
"""

from __future__ import annotations

from sqlalchemy import select

from calls import twiml
from calls.context import AgentContext, Context
from calls.twiml import Document
from models import Agent, AgentCall, Call, CallbackRequest, CallEvent
from models.agents import AgentStage, AgentStatus
from models.calls import CallStage
from queueing import callback_queue, callbacks, conference, ringing, routing
from queueing.passes import passers, record_pass
from telephony.params import VoiceParams

# Twilio's final CallStatus values (twilio.com/docs/voice/api/call-resource#call-status-values).
FINAL = ("completed", "busy", "failed", "no-answer", "canceled")


def ring_ended(
    ctx: AgentContext, caller_id: int | None, params: VoiceParams, callback_id: int | None = None
) -> Document:
    """A ring's call is over. Never answered, or answered without the key that asks
    for the whisper (a voicemail or answering machine, or a person who declined):
    missed, and the agent goes offline until they call in. Otherwise it ended at the
    stage it reached, as an agent line call does."""
    if params.call_status not in FINAL:
        return twiml.empty()
    stage, ctx.leg.stage = ctx.leg.stage, AgentStage.ENDED
    agent = ctx.agent
    if agent is None:
        return twiml.empty()
    caller = ctx.session.get(Call, caller_id) if caller_id is not None else None
    callback = ctx.session.get(CallbackRequest, callback_id) if callback_id is not None else None
    if params.call_status == "busy" and _on_the_agent_line(ctx, agent):
        _busy_with_us(ctx, agent, caller, callback)
    elif stage != AgentStage.ENDED and (
        params.call_status != "completed" or stage in (AgentStage.PIN, AgentStage.RING)
    ):
        if caller is not None and agent.id in passers(ctx.session, caller.id, ctx.now):
            _passed_while_ringing(ctx, agent)
        else:
            missed(ctx, agent, caller, params.call_status, callback)
    else:
        _hung_up(ctx, agent, stage, caller, rung=True)
    return twiml.empty()


def line_ended(ctx: AgentContext, params: VoiceParams) -> Document:
    """The agent line's status callback: the agent's call is over."""
    if params.call_status not in FINAL:
        return twiml.empty()
    stage, ctx.leg.stage = ctx.leg.stage, AgentStage.ENDED
    agent = ctx.agent
    if agent is None or not ctx.leg.confirmed:
        return twiml.empty()  # a stranger, or an agent who never keyed their PIN
    caller = ctx.session.get(Call, ctx.leg.caller_call_id) if ctx.leg.caller_call_id else None
    _hung_up(ctx, agent, stage, caller, rung=False)
    return twiml.empty()


def missed(
    ctx: AgentContext,
    agent: Agent,
    caller: Call | None,
    how: str,
    callback: CallbackRequest | None = None,
) -> None:
    """Nobody took up the ring: the agent goes offline (not rung again each turn of
    the caller's hold music) and the caller, or the callback, is rung for the next agent."""
    _set_status(ctx, agent, AgentStatus.OFFLINE)
    if caller is not None and _kept_for(caller, agent):
        routing.reserve(caller, None, ctx.now)
        _event(ctx, caller, "agent.missed", agent, status=how)
        ringing.ring_for(ctx, caller, exclude=agent.id)
    _free_callback(ctx, agent, callback)


def _free_callback(ctx: AgentContext, agent: Agent, callback: CallbackRequest | None) -> None:
    """A callback kept for an agent who never heard it: free, and the next agent rung."""
    if callback is not None and callback_queue.is_reserved_for(callback, agent.id, ctx.now):
        callback_queue.release(ctx.session, callback, agent.id)
        ringing.ring_for_callback(ctx, callback, exclude=agent.id)


def _passed_while_ringing(ctx: AgentContext, agent: Agent) -> None:
    """The agent passed on the desk while their phone still rang (Hotline cannot end a
    ring whose call it has not heard of yet): no miss, and they are ready again."""
    if agent.status == AgentStatus.BUSY:
        _set_status(ctx, agent, AgentStatus.AVAILABLE)
        ringing.ring_agent(ctx, agent)


def _on_the_agent_line(ctx: AgentContext, agent: Agent) -> bool:
    """Whether the agent is still in a call of theirs to the agent line (saying goodbye
    after going available, say), which is what made their phone busy."""
    live = select(AgentCall.id).where(
        AgentCall.agent_id == agent.id,
        AgentCall.call_sid != ctx.leg.call_sid,  # this leg may not be written yet
        AgentCall.rung.is_(False),
        AgentCall.stage != AgentStage.ENDED,
    )
    return ctx.session.scalar(live.limit(1)) is not None


def _busy_with_us(
    ctx: AgentContext, agent: Agent, caller: Call | None, callback: CallbackRequest | None
) -> None:
    """Rung while still on the agent line: not a miss. The agent is ready again (rung
    when that call ends, agent_ends.line_ended) and the caller free for anyone."""
    if agent.status == AgentStatus.BUSY:
        _set_status(ctx, agent, AgentStatus.AVAILABLE)
    if caller is not None and _kept_for(caller, agent):
        routing.reserve(caller, None, ctx.now)
        _event(ctx, caller, "agent.busy_on_line", agent)
        ringing.ring_for(ctx, caller, exclude=agent.id)
    _free_callback(ctx, agent, callback)


def passed(ctx: Context, agent: Agent, caller: Call) -> None:
    """The agent passed on ``caller`` (a key, the desk, or hanging up while hearing about them):
    never offered them again while the pass holds; the next agent is rung."""
    routing.release(ctx.session, caller.id, agent.id)
    record_pass(ctx.session, caller.id, agent.id, ctx.now)
    _event(ctx, caller, "agent.passed", agent)
    ctx.session.refresh(caller)
    ringing.ring_for(ctx, caller, exclude=agent.id)


def _hung_up(
    ctx: AgentContext, agent: Agent, stage: AgentStage, caller: Call | None, *, rung: bool
) -> None:
    callback_id = ctx.leg.callback_id
    callback = ctx.session.get(CallbackRequest, callback_id) if callback_id is not None else None
    if stage == AgentStage.WHISPER and callback is not None:
        # Hung up while hearing about a callback: a pass, as for a caller.
        if callback_queue.is_reserved_for(callback, agent.id, ctx.now):
            callbacks.pass_on(ctx, agent, callback.id)
        if rung:
            _set_status(ctx, agent, AgentStatus.AVAILABLE)
    elif (
        stage == AgentStage.CONNECTED and caller is not None and caller.stage == CallStage.CALLBACK
    ):
        # Hung up while the customer's phone rang: that attempt ends, uncounted.
        callbacks.agent_left(ctx)
        if agent.status == AgentStatus.BUSY:
            _set_status(ctx, agent, AgentStatus.AVAILABLE)
    elif stage == AgentStage.WHISPER and caller is not None and _kept_for(caller, agent):
        passed(ctx, agent, caller)
        if rung:  # rung agents are busy while they hear about a caller
            _set_status(ctx, agent, AgentStatus.AVAILABLE)
    elif stage == AgentStage.CONNECTED and caller is not None and _vanished(agent, caller):
        # Accepted, then gone before the caller was with them: like a missed ring, not
        # rung again; the caller goes back to the queue (queueing.conference).
        _set_status(ctx, agent, AgentStatus.OFFLINE)
        return
    elif stage == AgentStage.CONNECTED and agent.status == AgentStatus.BUSY:
        _set_status(ctx, agent, AgentStatus.AVAILABLE)  # talk and wrap-up end with the call
    elif stage == AgentStage.WRAP_UP and agent.status == AgentStatus.WRAP_UP:
        _set_status(ctx, agent, AgentStatus.AVAILABLE)
    ringing.ring_agent(ctx, agent)


def end_wrap_up(ctx: AgentContext, agent: Agent) -> None:
    """Wrap-up is over (a key, or silence): available, unless a ring found the agent
    meanwhile (a wrap-up that outlasts the setting counts as ready)."""
    if agent.status == AgentStatus.WRAP_UP:
        _set_status(ctx, agent, AgentStatus.AVAILABLE)


def _vanished(agent: Agent, caller: Call) -> bool:
    return (
        agent.status == AgentStatus.BUSY
        and caller.stage == CallStage.CONNECTED
        and caller.agent_id == agent.id
        and not conference.talked(caller)
    )


def _kept_for(caller: Call, agent: Agent) -> bool:
    return caller.stage == CallStage.QUEUED and caller.offered_agent_id == agent.id


def _set_status(ctx: AgentContext, agent: Agent, status: AgentStatus) -> None:
    routing.set_status(ctx.session, agent, status, ctx.now)


def _event(ctx: Context, caller: Call, kind: str, agent: Agent, **data: str) -> None:
    ctx.session.add(
        CallEvent(call_id=caller.id, kind=kind, data={"agent": agent.id, **data}, at=ctx.now)
    )
