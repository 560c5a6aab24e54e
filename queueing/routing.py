"""Which waiting caller an agent gets, settled by the database so that an agent gets
one caller and a caller one agent, however many servers answer webhooks.

Urgent callers first, then the longest waiting, of those the agent may take
(``queueing.matching``). ``FOR UPDATE SKIP LOCKED`` lets two agents asking
at once each get a different caller on PostgreSQL; SQLite runs one writer at a time.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    ScalarSelect,
    Select,
    String,
    Update,
    and_,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from models import Agent, Call
from models.agents import AgentStatus
from models.base import UTCDateTime
from models.calls import IN_TURN, CallStage
from queueing import status_log
from queueing.matching import URGENT, Profile, callers_for_any, profiles
from queueing.passes import holding_since, not_passed_by

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


# The agent and the moment an agent's next work is looked up for, bound when the query
# runs (``asking``): each query is built once for each profile of agent.
AGENT_ID = bindparam("agent_id", type_=String)
NOW = bindparam("now", type_=UTCDateTime)
OFFERS_LAPSED = bindparam("offers_lapsed", type_=UTCDateTime)  # offered then or before: free
PASSES_SINCE = bindparam("passes_since", type_=UTCDateTime)  # passes after: still hold


def asking(agent_id: str, now: datetime) -> dict[str, Any]:
    """The values of ``AGENT_ID``, ``NOW``, ``OFFERS_LAPSED`` and ``PASSES_SINCE``."""
    return {
        "agent_id": agent_id,
        "now": now,
        "offers_lapsed": now - OFFER_HOLDS,
        "passes_since": holding_since(now),
    }


def next_caller(session: Session, agent: Agent, now: datetime) -> Call | None:
    """The caller ``agent`` should hear about next, locked until the transaction ends:
    waiting, not kept for another agent, one they may take and have not passed on."""
    query = _next_caller(profiles([agent]))
    return session.scalars(query, asking(agent.id, now)).first()


@lru_cache(maxsize=64)
def _next_caller(of: tuple[Profile, ...]) -> Select[Call]:
    return (
        select(Call)
        .where(
            Call.stage == CallStage.QUEUED,
            or_(Call.offered_agent_id.is_(None), Call.offered_at <= OFFERS_LAPSED),
            callers_for_any(of),
            not_passed_by(AGENT_ID, PASSES_SINCE),
        )
        .order_by(*IN_TURN)
        .limit(1)
        .with_for_update(skip_locked=True)
        # A caller this step has loaded already (an agent's webhook loads the caller
        # their call was about) is read again as it was locked.
        .execution_options(populate_existing=True)
    )


def callers_before(
    of: tuple[Profile, ...],
    urgent: bool,
    caller_id: ColumnElement[int],
    queued_at: ColumnElement[datetime],
) -> ScalarSelect[int]:
    """How many waiting callers agents take before a caller (``IN_TURN``) of the urgent
    queue or not, who came in at ``queued_at`` as ``caller_id``, whom an agent of the
    profiles ``of`` could take instead."""
    earlier = or_(
        Call.queued_at < queued_at, and_(Call.queued_at == queued_at, Call.id < caller_id)
    )
    before = and_(Call.queue == URGENT, earlier) if urgent else or_(Call.queue == URGENT, earlier)
    return (
        select(func.count())
        .select_from(Call)
        .where(Call.stage == CallStage.QUEUED, Call.id != caller_id, before, callers_for_any(of))
        .scalar_subquery()
    )


# The caller an agent passed on, left or accepted, and that agent, bound when the
# statements below run (not ``AGENT_ID``: ``agent_id`` is a column they set).
_CALLER = bindparam("offered_caller", type_=Integer)
_OFFERED_TO = bindparam("offered_to", type_=String)
_KEPT = (
    Call.id == _CALLER,
    Call.offered_agent_id == _OFFERED_TO,
    Call.stage == CallStage.QUEUED,
)
_RELEASE = (
    update(Call)
    .where(*_KEPT)
    .values(offered_agent_id=None, offered_at=None, version=Call.version + 1)
    .execution_options(synchronize_session=False)
)
_CLAIM = (
    update(Call)
    .where(*_KEPT)
    .values(
        stage=CallStage.CONNECTED,
        agent_id=_OFFERED_TO,
        answered_at=NOW,
        handled_seconds=None,
        version=Call.version + 1,
    )
    .returning(Call)
    .execution_options(synchronize_session=False, populate_existing=True)
)


def release(session: Session, caller_id: int, agent_id: str) -> None:
    """The agent passed or left: the caller may be offered to someone else."""
    session.execute(_RELEASE, {"offered_caller": caller_id, "offered_to": agent_id})


def claim(session: Session, caller_id: int, agent_id: str, now: datetime) -> Call | None:
    """The agent accepted: theirs only if the caller is still waiting and still theirs;
    then the caller as the claim left their row (the loaded object brought up to date
    by its RETURNING), else None. The moment is kept: it ends the caller's wait, and
    starts the agent's time on them."""
    agent_free(session, agent_id, now)  # a new caller: the agent is done with the last
    claimed = {"offered_caller": caller_id, "offered_to": agent_id, "now": now}
    return session.scalars(_CLAIM, claimed).first()


def set_status(session: Session, agent: Agent, status: AgentStatus, now: datetime) -> None:
    """Every change of an agent's status goes through here, or through ``status_log``
    for a race settled in the database: written down in the agent's history; an agent
    who is free again (available or offline) closes the handling time of their last
    caller."""
    status_log.change(session, agent, status, now)
    if status in (AgentStatus.AVAILABLE, AgentStatus.OFFLINE):
        agent_free(session, agent.id, now)


def set_status_from(
    session: Session,
    agent: Agent,
    status: AgentStatus,
    now: datetime,
    current: Collection[AgentStatus],
) -> bool:
    """``set_status`` only while the agent's status is one of ``current``: a conditional
    UPDATE, so that a ring taking the agent meanwhile (``ringing.take_agent``) wins."""
    move = _moving_from(tuple(current))
    moved = status_log.change_if(session, move, agent.id, status, now)
    if not moved:
        session.refresh(agent)  # whatever changed it meanwhile
        return False
    # The row is as the UPDATE left it: no need to read it back.
    set_committed_value(agent, "status", status)
    set_committed_value(agent, "status_since", now)
    if status in (AgentStatus.AVAILABLE, AgentStatus.OFFLINE):
        agent_free(session, agent.id, now)
    return True


@lru_cache(maxsize=16)
def _moving_from(current: tuple[AgentStatus, ...]) -> Update:
    return status_log.moving(Agent.status.in_(current))


# An agent's claimed callers whose handling time is still open.
_HANDLING = select(Call).where(
    Call.agent_id == AGENT_ID, Call.answered_at.is_not(None), Call.handled_seconds.is_(None)
)


def agent_free(session: Session, agent_id: str, now: datetime) -> None:
    """``agent_id`` is free for the next caller: the time they spent on the caller they
    last claimed (talk and wrap-up) is known now."""
    for call in session.scalars(_HANDLING, {"agent_id": agent_id}):
        if call.answered_at is not None:  # always, by the query; for the type checker
            call.handled_seconds = max(0, int((now - call.answered_at).total_seconds()))
