"""A waiting caller's agent pool (the agents who could take them, and those of them on
shift) and the history their expected wait is told from: how long those agents have
recently spent on each caller, else how long the queue's recent callers waited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, Row, bindparam, select
from sqlalchemy.orm import Session

from models import Agent, Call
from models.agents import AgentStatus
from models.base import UTCDateTime
from queueing.estimate import expected_seconds, smoothed
from queueing.matching import may_take

RECENT = 20  # answered callers the history is taken from, at most
RECENT_WINDOW = timedelta(hours=2)  # and none older: the hotline's pace changes


@dataclass(frozen=True)
class AgentPool:
    all: list[Agent]  # who could take the caller (queueing.matching)
    on: list[Agent]  # of them, those not offline: available, ringing, talking, wrapping up


_EVERY_AGENT = select(Agent).order_by(Agent.id)


def agent_pool(session: Session, caller: Call) -> AgentPool:
    everyone = [agent for agent in session.scalars(_EVERY_AGENT) if may_take(agent, caller)]
    return AgentPool(everyone, [agent for agent in everyone if agent.status != AgentStatus.OFFLINE])


def expected_wait(
    session: Session, caller: Call, pool: AgentPool, ahead: int, waited: int
) -> float | None:
    """Seconds ``caller`` can expect to wait still, with ``ahead`` callers before them."""
    answered = _recent_answered(session, caller)
    theirs = {agent.id for agent in pool.all}
    # Talk and wrap-up as measured so far: from the claim to the agent's next availability.
    handling = [
        call.handled_seconds
        for call in answered
        if call.handled_seconds is not None and call.agent_id in theirs
    ]
    waits = [
        (call.answered_at - call.queued_at).total_seconds()
        for call in answered
        if call.queue == caller.queue and call.answered_at and call.queued_at
    ]
    return expected_seconds(
        ahead,
        len(pool.on),
        smoothed(_oldest_first(handling)),
        smoothed(_oldest_first(waits)),
        waited,
    )


# Callers answered lately, newest first: only what the estimate reads of them.
_RECENT_ANSWERED = (
    select(Call.handled_seconds, Call.agent_id, Call.queue, Call.answered_at, Call.queued_at)
    .where(
        Call.answered_at >= bindparam("since", type_=UTCDateTime),
        Call.id != bindparam("caller_id", type_=Integer),
    )
    .order_by(Call.answered_at.desc(), Call.id.desc())
    .limit(RECENT * 4)
)


def _recent_answered(
    session: Session, caller: Call
) -> Sequence[Row[int | None, str | None, str | None, datetime | None, datetime | None]]:
    """Callers answered lately (those answered since ``caller`` queued, less
    ``RECENT_WINDOW``), newest first."""
    if caller.queued_at is None:
        return []
    since = caller.queued_at - RECENT_WINDOW
    return session.execute(_RECENT_ANSWERED, {"since": since, "caller_id": caller.id}).all()


def _oldest_first(values: Sequence[float]) -> list[float]:
    return list(reversed(values[:RECENT]))
