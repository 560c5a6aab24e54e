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

from sqlalchemy import ColumnElement, update
from sqlalchemy.orm import Session

from models import Agent, AgentStatusChange
from models.agents import AgentStatus
from models.db import changed


def change(session: Session, agent: Agent, status: AgentStatus, now: datetime) -> None:
    """``agent``'s status, changed on the loaded object and written down."""
    agent.status, agent.status_since = status, now
    session.add(AgentStatusChange(agent_id=agent.id, status=status, at=now))


def change_if(
    session: Session,
    agent_id: str,
    status: AgentStatus,
    now: datetime,
    *only_if: ColumnElement[bool],
) -> bool:
    """A conditional UPDATE of the agent's status, for races settled in the database:
    only while ``only_if`` holds of the agent's row. Written down only when it changed
    the row; says whether it did."""
    moved = changed(
        session,
        update(Agent)
        .where(Agent.id == agent_id, *only_if)
        .values(status=status, status_since=now)
        .execution_options(synchronize_session=False),
    )
    if moved == 1:
        session.add(AgentStatusChange(agent_id=agent_id, status=status, at=now))
    return moved == 1
