"""Ringing agents (SPEC §6): when a caller waits and a matching agent is available,
Hotline calls the agent's phone through Twilio's REST API. The longest idle agent
is rung first; one who does not answer goes offline (a missed call), one who
passes stays available; either way the next agent is rung and the caller keeps
their place in the queue.

Calls created by REST are paced by Twilio, so an agent is rung only on an event
(a caller joins, a wait document, a missed or passed ring, an agent's call ending
with the agent ready), one ring per event, never in a loop. The agent is taken and
the caller reserved before the request, which runs outside the transaction; if
Twilio cannot place the call, both are freed again.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update

from calls.context import Context
from models import Agent, Call, CallEvent
from models.agents import AgentStatus
from models.calls import CallStage
from models.db import changed
from queueing.matching import is_ready, may_take, ready_agents
from queueing.passes import passers
from queueing.routing import is_offered, next_caller, reserve
from telephony.numbers import mask
from telephony.rest import TwilioUnavailable
from telephony.urls import webhook_url

RING_SECONDS = 20
# The ring's status callback: only the end, which carries how it ended (no-answer,
# busy, failed, canceled, or completed once answered); Twilio's request of the
# call's Url already says it was answered. Twilio's Calls API: "If no event is
# specified, we send the completed status" (twilio.com/docs/voice/api/call-resource).
RING_EVENTS = ["completed"]
log = logging.getLogger(__name__)


def ring_for(ctx: Context, caller: Call, exclude: str | None = None) -> Agent | None:
    """Ring the longest idle ready agent who can take ``caller``, if any."""
    if not ctx.gateway.configured:
        return None
    if caller.stage != CallStage.QUEUED or is_offered(caller, ctx.now):
        return None
    for agent in _candidates(ctx, caller, exclude):
        rung = _ring_one(ctx, caller, agent)
        if rung is not None:
            return agent if rung else None
    return None


def ring_agent(ctx: Context, agent: Agent) -> Call | None:
    """``agent`` has just become ready: ring them now for the longest waiting caller they
    may take (urgent first), rather than at that caller's next turn of hold music."""
    if not ctx.gateway.configured or not is_ready(agent, ctx.now, _wrap_up(ctx)):
        return None
    caller = next_caller(ctx.session, agent, ctx.now)
    if caller is None:
        return None
    return caller if _ring_one(ctx, caller, agent) else None


def _ring_one(ctx: Context, caller: Call, agent: Agent) -> bool | None:
    """Take ``agent`` for ``caller`` and ring them: None when another server took the
    agent first, else whether the ring went out."""
    session, now = ctx.session, ctx.now
    # The conditional UPDATE is the lock: of two servers, one rings this agent.
    taken = changed(
        session,
        update(Agent)
        .where(Agent.id == agent.id, ready_agents(now, _wrap_up(ctx)))
        .values(status=AgentStatus.BUSY, status_since=now)
        .execution_options(synchronize_session=False),
    )
    if taken != 1:
        return None
    reserve(caller, agent.id, now)
    session.add(CallEvent(call_id=caller.id, kind="agent.rung", data={"agent": agent.id}, at=now))
    return _ring(ctx, caller, agent)


def _ring(ctx: Context, caller: Call, agent: Agent) -> bool:
    url = webhook_url("agents.ring", absolute=True, caller=caller.id)
    status_callback = webhook_url("agents.ring_status", absolute=True, caller=caller.id)
    try:
        ctx.rest(
            lambda api: api.ring(
                agent.phone,
                url=url,
                status_callback=status_callback,
                status_events=RING_EVENTS,
                timeout=RING_SECONDS,
            )
        )
    except TwilioUnavailable as exc:
        log.error("could not ring agent %s (%s): %s", agent.id, mask(agent.phone), exc)
        _unring(ctx, caller, agent)
        return False
    return True


def _unring(ctx: Context, caller: Call, agent: Agent) -> None:
    """No call went out: the caller is free for the next agent and the agent available
    (unless something else has changed either meanwhile)."""
    if caller.offered_agent_id == agent.id:
        reserve(caller, None, ctx.now)
    ctx.session.execute(
        update(Agent)
        .where(Agent.id == agent.id, Agent.status == AgentStatus.BUSY)
        .values(status=AgentStatus.AVAILABLE, status_since=ctx.now)
        .execution_options(synchronize_session=False)
    )
    ctx.session.add(
        CallEvent(call_id=caller.id, kind="agent.ring_failed", data={"agent": agent.id}, at=ctx.now)
    )


def _candidates(ctx: Context, caller: Call, exclude: str | None) -> list[Agent]:
    agents = ctx.session.scalars(
        select(Agent)
        .where(ready_agents(ctx.now, _wrap_up(ctx)))
        .order_by(Agent.status_since, Agent.id)
    )
    passed = passers(ctx.session, caller.id, ctx.now)
    return [
        agent
        for agent in agents
        if agent.id != exclude and agent.id not in passed and may_take(agent, caller)
    ]


def _wrap_up(ctx: Context) -> timedelta:
    return timedelta(seconds=ctx.settings.agent_wrap_up_seconds)
