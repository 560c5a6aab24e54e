"""Ringing agents (SPEC §6): when a caller waits and a matching agent is available,
Hotline calls the agent's phone through Twilio's REST API. The longest idle agent
is rung first; one who does not answer goes offline (a missed call), one who
passes stays available; either way the next agent is rung and the caller keeps
their place in the queue.

Calls created by REST are paced by Twilio, so an agent is rung only on an event
(a caller joins, a wait document, a missed or passed ring), never in a loop. The
agent is taken and the caller reserved before the request, which runs outside the
transaction; if Twilio cannot place the call, both are freed again.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from calls.context import Context
from models import Agent, Call, CallEvent
from models.agents import AgentStatus
from models.calls import CallStage
from models.db import changed
from queueing.matching import may_take
from queueing.routing import is_offered, reserve
from telephony.numbers import mask
from telephony.rest import TwilioUnavailable
from telephony.urls import webhook_url

RING_SECONDS = 20
log = logging.getLogger(__name__)


def ring_for(ctx: Context, caller: Call, exclude: str | None = None) -> Agent | None:
    """Ring the longest idle available agent who can take ``caller``, if any."""
    session, now = ctx.session, ctx.now
    if caller.stage != CallStage.QUEUED or is_offered(caller, now) or not ctx.gateway.configured:
        return None
    for agent in _candidates(session, caller, exclude):
        # The conditional UPDATE is the lock: of two servers, one rings this agent.
        taken = changed(
            session,
            update(Agent)
            .where(Agent.id == agent.id, Agent.status == AgentStatus.AVAILABLE)
            .values(status=AgentStatus.BUSY, status_since=now)
            .execution_options(synchronize_session=False),
        )
        if taken != 1:
            continue
        reserve(caller, agent.id, now)
        session.add(
            CallEvent(call_id=caller.id, kind="agent.rung", data={"agent": agent.id}, at=now)
        )
        return agent if _ring(ctx, caller, agent) else None
    return None


def _ring(ctx: Context, caller: Call, agent: Agent) -> bool:
    url = webhook_url("agents.ring", absolute=True, caller=caller.id)
    status_callback = webhook_url("agents.ring_status", absolute=True, caller=caller.id)
    try:
        ctx.rest(
            lambda api: api.ring(
                agent.phone, url=url, status_callback=status_callback, timeout=RING_SECONDS
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


def _candidates(session: Session, caller: Call, exclude: str | None) -> list[Agent]:
    agents = session.scalars(
        select(Agent)
        .where(Agent.status == AgentStatus.AVAILABLE)
        .order_by(Agent.status_since, Agent.id)
    )
    return [agent for agent in agents if agent.id != exclude and may_take(agent, caller)]
