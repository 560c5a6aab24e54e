"""Agents' status history: every change of ``Agent.status`` adds a row to
``agent_status_changes`` in the same transaction, so that reports can tell how long
each agent was available, on calls, in wrap-up or on a break.

A row is written each time ``status_since`` is set, even to the same status: a wrap-up
set again starts its AGENT_WRAP_UP_SECONDS again (``queueing.matching``), and the
history must say so. A wrap-up that runs out is not a change: nobody writes it, and
the reports count an agent left in wrap-up as available once AGENT_WRAP_UP_SECONDS
have passed (``reports.agent_time``), as matching does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, Update, bindparam, update
from sqlalchemy.orm import Session

from models import Agent, AgentStatusChange
from models.agents import AgentStatus


def change(session: Session, agent: Agent, status: AgentStatus, now: datetime) -> None:
    """``agent``'s status, changed on the loaded object and written down."""
    agent.status, agent.status_since = status, now
    session.add(AgentStatusChange(agent_id=agent.id, status=status, at=now))


def moving(only_if: ColumnElement[bool]) -> Update:
    """A conditional UPDATE of an agent's status, only while ``only_if`` holds of their
    row, for ``change_if``: built once, the agent, the status and the moment bound when
    it runs (their names are not the columns': those are the SET clause's own)."""
    return (
        update(Agent)
        .where(Agent.id == bindparam("agent", type_=String), only_if)
        .values(status=bindparam("new_status"), status_since=bindparam("new_since"))
        .returning(Agent.id)
        .execution_options(synchronize_session=False)
    )


# A change only while the agent is busy: an offer that came to nothing, an agent gone.
WHILE_BUSY = moving(Agent.status == AgentStatus.BUSY)


def change_if(
    session: Session,
    move: Update,
    agent_id: str,
    status: AgentStatus,
    now: datetime,
    **bound: Any,
) -> bool:
    """A conditional UPDATE of the agent's status (``move``, from ``moving``), for races
    settled in the database; ``bound``: the values of its condition's own parameters.
    Written down only when it changed the row; says whether it did."""
    values = {"agent": agent_id, "new_status": status, "new_since": now, **bound}
    moved = session.scalar(move, values) is not None
    if moved:
        session.add(AgentStatusChange(agent_id=agent_id, status=status, at=now))
    return moved
