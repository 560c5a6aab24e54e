"""Which waiting caller an agent gets, settled by the database so that an agent gets
one caller and a caller one agent, however many servers answer webhooks.

Urgent callers first, then the longest waiting, of those the agent may take
(``queueing.matching``). ``FOR UPDATE SKIP LOCKED`` lets two agents asking
at once each get a different caller on PostgreSQL; SQLite runs one writer at a time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from models import Agent, Call
from models.calls import CallStage
from models.db import changed
from queueing.matching import callers_for
from queueing.passes import not_passed_by

# A caller reserved for an agent who then vanished (hung up during the whisper,
# a ring nobody reported back on) is free again after this long.
OFFER_HOLDS = timedelta(seconds=90)


def is_offered(caller: Call, now: datetime) -> bool:
    return (
        caller.offered_agent_id is not None
        and caller.offered_at is not None
        and caller.offered_at > now - OFFER_HOLDS
    )


def reserve(caller: Call, agent_id: str | None, now: datetime) -> None:
    caller.offered_agent_id = agent_id
    caller.offered_at = now if agent_id else None


def next_caller(session: Session, agent: Agent, now: datetime) -> Call | None:
    """The caller ``agent`` should hear about next, locked until the transaction ends:
    waiting, not kept for another agent, one they may take and have not passed on."""
    query = (
        select(Call)
        .where(
            Call.stage == CallStage.QUEUED,
            or_(Call.offered_agent_id.is_(None), Call.offered_at <= now - OFFER_HOLDS),
            callers_for(agent),
            not_passed_by(agent.id, now),
        )
        .order_by((Call.queue == "urgent").desc(), Call.queued_at, Call.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return session.scalars(query).first()


def offer_next_caller(session: Session, agent: Agent, now: datetime) -> Call | None:
    """Reserve the next caller for ``agent`` to hear about (and accept or pass)."""
    caller = next_caller(session, agent, now)
    if caller is not None:
        reserve(caller, agent.id, now)
    return caller


def release(session: Session, caller_id: int, agent_id: str) -> None:
    """The agent passed or left: the caller may be offered to someone else."""
    session.execute(
        update(Call)
        .where(
            Call.id == caller_id,
            Call.offered_agent_id == agent_id,
            Call.stage == CallStage.QUEUED,
        )
        .values(offered_agent_id=None, offered_at=None, version=Call.version + 1)
        .execution_options(synchronize_session=False)
    )


def claim(session: Session, caller_id: int, agent_id: str) -> bool:
    """The agent accepted: theirs only if the caller is still waiting and still theirs."""
    claimed = changed(
        session,
        update(Call)
        .where(
            Call.id == caller_id,
            Call.offered_agent_id == agent_id,
            Call.stage == CallStage.QUEUED,
        )
        .values(stage=CallStage.CONNECTED, agent_id=agent_id, version=Call.version + 1)
        .execution_options(synchronize_session=False),
    )
    return claimed == 1
