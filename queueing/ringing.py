"""Ringing agents (SPEC §6): when a caller waits and a matching agent is available,
Hotline calls the agent's phone through Twilio's REST API. The longest idle agent
is rung first; one who does not answer goes offline (a missed call), one who
passes stays available; either way the next agent is rung and the caller keeps
their place in the queue.

Calls created by REST are paced by Twilio, so an agent is rung only on an event
(a caller joins, a wait document, a missed or passed ring), never in a loop.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Agent, Call, CallEvent
from models.agents import AgentStatus
from models.calls import CallStage
from models.db import changed
from queueing.matching import may_take
from queueing.routing import is_offered, reserve
from telephony.numbers import mask
from telephony.rest import TwilioGateway, TwilioUnavailable
from telephony.urls import webhook_url

RING_SECONDS = 20
log = logging.getLogger(__name__)


def ring_for(
    session: Session,
    caller: Call,
    gateway: TwilioGateway,
    now: datetime,
    exclude: str | None = None,
) -> Agent | None:
    """Ring the longest idle available agent who can take ``caller``, if any."""
    if caller.stage != CallStage.QUEUED or is_offered(caller, now) or not gateway.configured:
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
        try:
            gateway.ring(
                agent.phone,
                url=webhook_url("agents.ring", absolute=True, caller=caller.id),
                status_callback=webhook_url("agents.ring_status", absolute=True, caller=caller.id),
                timeout=RING_SECONDS,
            )
        except TwilioUnavailable as exc:
            log.error("could not ring agent %s (%s): %s", agent.id, mask(agent.phone), exc)
            reserve(caller, None, now)
            session.execute(
                update(Agent)
                .where(Agent.id == agent.id)
                .values(status=AgentStatus.AVAILABLE)
                .execution_options(synchronize_session=False)
            )
            return None
        session.add(
            CallEvent(call_id=caller.id, kind="agent.rung", data={"agent": agent.id}, at=now)
        )
        return agent
    return None


def _candidates(session: Session, caller: Call, exclude: str | None) -> list[Agent]:
    agents = session.scalars(
        select(Agent)
        .where(Agent.status == AgentStatus.AVAILABLE)
        .order_by(Agent.status_since, Agent.id)
    )
    return [agent for agent in agents if agent.id != exclude and may_take(agent, caller)]
