"""Ringing agents (SPEC §6): when a caller waits and a matching agent is available,
Hotline calls the agent's phone through Twilio's REST API. The longest idle agent
is rung first; one who does not answer goes offline (a missed call), one who
passes stays available; either way the next agent is rung and the caller keeps
their place in the queue.

Calls created by REST are paced by Twilio, so an agent is rung only on an event
(a caller joins, a wait document, a missed or passed ring, an agent's call ending
with the agent ready, a callback asked for or due: ``flask callbacks run``), one ring
per event, never in a loop. Callbacks keep their callers' places: an agent is rung for
whatever comes first for them (``queueing.callback_queue``). The agent is taken and
the caller reserved before the request, which runs outside the transaction; if
Twilio cannot place the call, both are freed again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TypeAlias

from sqlalchemy import Integer, bindparam, select

from calls.context import Context
from calls.reach import agent_endpoint
from models import Agent, Call, CallbackRequest, CallEvent
from models.agents import AgentStatus
from models.base import UTCDateTime
from models.calls import CallStage
from queueing import callback_queue, status_log
from queueing.matching import is_ready, may_call_back, may_take, ready_agents, wrap_up_over
from queueing.passes import holding_since, not_passed_by, passers
from queueing.routing import PASSES_SINCE, is_offered, reserve
from telephony.numbers import mask
from telephony.rest import TwilioUnavailable
from telephony.urls import webhook_url

# What an agent is offered: a waiting caller, or a callback.
Work: TypeAlias = Call | CallbackRequest
RING_SECONDS = 20
# The ring's status callback: only the end, which carries how it ended (no-answer,
# busy, failed, canceled, or completed once answered); Twilio's request of the
# call's Url already says it was answered. Twilio's Calls API: "If no event is
# specified, we send the completed status" (twilio.com/docs/voice/api/call-resource).
RING_EVENTS = ["completed"]
log = logging.getLogger(__name__)


def ring_for(
    ctx: Context,
    caller: Call,
    exclude: str | None = None,
    among: Sequence[Agent] | None = None,
) -> Agent | None:
    """Ring the longest idle ready agent who can take ``caller``, if any; an agent who
    could take a due callback that came before ``caller`` is rung for that instead.
    ``among``: every agent who could take ``caller``, where the step has loaded them
    already (the wait document's pool), so that they are not read twice."""
    if not ctx.gateway.configured:
        return None
    if caller.stage != CallStage.QUEUED or is_offered(caller, ctx.now):
        return None
    hours = callback_queue.hours_open(ctx)
    able = lambda agent: may_take(agent, caller)  # noqa: E731
    for agent in _candidates(ctx, caller.id, able, exclude, among):
        ahead = callback_queue.ahead_of(ctx.session, caller, agent, ctx.now, hours)
        rung = _ring_one(ctx, ahead or caller, agent)
        if rung is not None:
            return agent if rung and ahead is None else None
    return None


def ring_for_callback(
    ctx: Context, callback: CallbackRequest, exclude: str | None = None
) -> Agent | None:
    """Ring the longest idle ready agent who could take ``callback``, for what comes first
    for them: this callback, or a caller or callback ahead of it."""
    if not ctx.gateway.configured:
        return None
    hours = callback_queue.hours_open(ctx)
    able = lambda agent: may_call_back(agent, callback)  # noqa: E731
    for agent in _candidates(ctx, callback.call_id, able, exclude):
        work = callback_queue.next_work(ctx.session, agent, ctx.now, hours)
        rung = _ring_one(ctx, work, agent) if work is not None else None
        if rung is not None:
            return agent if rung else None
    return None


def ring_agent(ctx: Context, agent: Agent) -> Work | None:
    """``agent`` has just become ready: ring them now for what comes first for them (a
    waiting caller or a due callback, urgent first), rather than at a caller's next
    turn of hold music."""
    if not ctx.gateway.configured or not is_ready(agent, ctx.now, _wrap_up(ctx)):
        return None
    hours = callback_queue.hours_open(ctx)
    work = callback_queue.next_work(ctx.session, agent, ctx.now, hours)
    if work is None:
        return None
    return work if _ring_one(ctx, work, agent) else None


# A wrap-up begun then or before is over (matching.wrap_up_over), bound when the
# statements below run; they are built once.
WRAP_UP_OVER = bindparam("wrap_up_over", type_=UTCDateTime)
_TAKE = status_log.moving(ready_agents(WRAP_UP_OVER))


def take_agent(ctx: Context, agent: Agent) -> bool:
    """Make a ready ``agent`` busy for one offer. The conditional UPDATE is the lock: of
    two servers, one rings this agent."""
    over = wrap_up_over(ctx.now, _wrap_up(ctx))
    return status_log.change_if(
        ctx.session, _TAKE, agent.id, AgentStatus.BUSY, ctx.now, wrap_up_over=over
    )


def free_agent(ctx: Context, agent: Agent) -> None:
    """An offer that never reached the agent: available again (unless something else has
    changed their status meanwhile)."""
    status_log.change_if(
        ctx.session, status_log.WHILE_BUSY, agent.id, AgentStatus.AVAILABLE, ctx.now
    )


def _ring_one(ctx: Context, work: Work, agent: Agent) -> bool | None:
    """Take ``agent`` for ``work`` and ring them: None when another server took the
    agent (or the callback) first, else whether the ring went out."""
    session, now = ctx.session, ctx.now
    if not take_agent(ctx, agent):
        return None
    if isinstance(work, CallbackRequest):
        if not callback_queue.reserve(session, work, agent.id, now):
            free_agent(ctx, agent)
            return None
        about = {"callback": work.id}
    else:
        reserve(work, agent.id, now)
        session.add(CallEvent(call_id=work.id, kind="agent.rung", data={"agent": agent.id}, at=now))
        about = {"caller": work.id}
    url = webhook_url("agents.ring", absolute=True, turn=None, **about)
    if ring_phone(ctx, agent, url, about):
        return True
    _unring(ctx, work, agent)
    return False


def ring_phone(ctx: Context, agent: Agent, url: str, about: dict[str, int]) -> bool:
    """Call ``agent`` where they are reached (``agent_endpoint``: their phone, a browser
    or a SIP phone); answered, it runs ``url``. The ring's status callback names what
    it was about (``caller`` or ``callback``), as ``url`` does. A new call answers no
    prompt of the call whose webhook rings it: its URLs carry no turn."""
    status_callback = webhook_url("agents.ring_status", absolute=True, turn=None, **about)
    try:
        endpoint = agent_endpoint(agent)
    except ValueError as exc:  # written by something other than the importer
        log.error("agent %s has an endpoint Twilio cannot call: %s", agent.id, exc)
        return False
    try:
        ctx.rest(
            lambda api: api.ring(
                endpoint,
                url=url,
                status_callback=status_callback,
                status_events=RING_EVENTS,
                timeout=RING_SECONDS,
            )
        )
    except TwilioUnavailable as exc:
        log.error("could not ring agent %s (%s): %s", agent.id, mask(str(endpoint)), exc)
        return False
    return True


def _unring(ctx: Context, work: Work, agent: Agent) -> None:
    """No call went out: the caller or callback is free for the next agent and the agent
    available (unless something else has changed either meanwhile)."""
    if isinstance(work, CallbackRequest):
        callback_queue.release(ctx.session, work, agent.id)
    else:
        if work.offered_agent_id == agent.id:
            reserve(work, None, ctx.now)
        ctx.session.add(
            CallEvent(
                call_id=work.id, kind="agent.ring_failed", data={"agent": agent.id}, at=ctx.now
            )
        )
    free_agent(ctx, agent)


# Ready agents, longest idle first, with no pass on the caller that still holds (the
# caller, and the moments, bound as for ``_TAKE``): ``_candidates``, in one statement.
_READY_FOR = (
    select(Agent)
    .where(
        ready_agents(WRAP_UP_OVER),
        not_passed_by(Agent.id, PASSES_SINCE, bindparam("caller_id", type_=Integer)),
    )
    .order_by(Agent.status_since, Agent.id)
)


def _candidates(
    ctx: Context,
    call_id: int,
    able: Callable[[Agent], bool],
    exclude: str | None,
    among: Sequence[Agent] | None = None,
) -> list[Agent]:
    """Ready agents, longest idle first, who are ``able`` to take the caller of
    ``call_id`` and whose pass on them no longer holds: read from the database, or
    picked out of ``among`` as the query would pick them."""
    wrap_up = _wrap_up(ctx)

    def wanted(agent: Agent) -> bool:
        return agent.id != exclude and able(agent)

    if among is None:
        bound = {
            "wrap_up_over": wrap_up_over(ctx.now, wrap_up),
            "passes_since": holding_since(ctx.now),
            "caller_id": call_id,
        }
        return [agent for agent in ctx.session.scalars(_READY_FOR, bound) if wanted(agent)]
    ready = sorted(
        (agent for agent in among if is_ready(agent, ctx.now, wrap_up)),
        key=lambda agent: (agent.status_since, agent.id),
    )
    able_ones = [agent for agent in ready if wanted(agent)]
    if not able_ones:
        return []  # nobody to ask about passes: while every agent is busy, no query
    passed = passers(ctx.session, call_id, ctx.now)
    return [agent for agent in able_ones if agent.id not in passed]


def _wrap_up(ctx: Context) -> timedelta:
    return timedelta(seconds=ctx.settings.agent_wrap_up_seconds)
