"""Who passed on whom (SPEC §6, issue 8): an agent who passes on a caller is not offered
that caller again while the pass holds, neither by ringing nor on the agent line.

A pass holds for the caller's wait, but at most ``PASS_HOLDS``: every agent who can
take a caller may have passed on them, and a caller must never wait for an agent
who will never be offered them. After that the caller is offered again, to the
longest idle agent as usual (the maximum wait still ends any wait). One row per
caller and agent holds the latest pass; a new call is a new caller, with none.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Integer, bindparam, exists, select
from sqlalchemy.orm import QueryableAttribute, Session

from models import AgentPass, Call
from models.base import UTCDateTime

PASS_HOLDS = timedelta(minutes=3)


def record_pass(session: Session, caller_id: int, agent_id: str, now: datetime) -> None:
    row = session.get(AgentPass, (caller_id, agent_id))
    if row is None:
        session.add(AgentPass(call_id=caller_id, agent_id=agent_id, passed_at=now))
    else:
        row.passed_at = now


def holding_since(now: datetime) -> datetime:
    """A pass made after this still holds."""
    return now - PASS_HOLDS


_PASSERS = select(AgentPass.agent_id).where(
    AgentPass.call_id == bindparam("caller_id", type_=Integer),
    AgentPass.passed_at > bindparam("since", type_=UTCDateTime),
)


def passers(session: Session, caller_id: int, now: datetime) -> set[str]:
    """The agents whose pass on this caller still holds."""
    return set(session.scalars(_PASSERS, {"caller_id": caller_id, "since": holding_since(now)}))


def not_passed_by(
    agent_id: str | ColumnElement[str] | QueryableAttribute[str],
    since: datetime | ColumnElement[datetime],
    call_id: QueryableAttribute[int] | ColumnElement[int] | None = None,
) -> ColumnElement[bool]:
    """The SQL twin of ``passers``: a condition on ``calls``, the callers this agent
    has no pass on made after ``since`` (``holding_since``: none that still holds).
    ``call_id`` names the caller's call in another table: a callback request's (a pass
    on a callback is a pass on its caller); or, bound, one caller, and ``agent_id`` a
    column of ``agents``: then a condition on the agents who have no pass on them."""
    return ~exists().where(
        AgentPass.call_id == (Call.id if call_id is None else call_id),
        AgentPass.agent_id == agent_id,
        AgentPass.passed_at > since,
    )
