"""A webhook's step ends with ``commit_step`` (models.db): whatever it wrote is
committed, through the ORM or through a Core statement alone; a step that only read (a
prompt replayed to a late request) skips SQLAlchemy's commit, and leaves nothing open."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from models import Agent
from models.agents import AgentStatus
from models.db import commit_step
from models.transactions import in_transaction

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
AGENT = "A1"


@pytest.fixture
def sessions(app: Flask) -> Any:
    db = app.extensions["db"]
    with db.sessions() as session:
        session.add(
            Agent(
                id=AGENT,
                name="Ann",
                phone="+8613900000009",
                pin_hash="-",
                skills=[],
                languages=["zh"],
                status=AgentStatus.OFFLINE,
            )
        )
        session.commit()
    return db.sessions


def status_seen_elsewhere(sessions: Any) -> str:
    with sessions() as other:
        return str(other.scalar(select(Agent.status).where(Agent.id == AGENT)))


def commits(session: Session) -> list[None]:
    seen: list[None] = []
    event.listen(session, "after_commit", lambda _: seen.append(None))
    return seen


def test_a_change_through_the_orm_is_committed(sessions) -> None:
    with sessions() as session:
        session.get(Agent, AGENT).status = AgentStatus.AVAILABLE
        commit_step(session)
    assert status_seen_elsewhere(sessions) == AgentStatus.AVAILABLE


def test_a_write_through_core_alone_is_committed(sessions) -> None:
    with sessions() as session:
        session.execute(update(Agent).where(Agent.id == AGENT).values(status=AgentStatus.AVAILABLE))
        commit_step(session)
    assert status_seen_elsewhere(sessions) == AgentStatus.AVAILABLE


def test_a_step_that_only_read_commits_nothing_and_leaves_no_transaction(sessions) -> None:
    with sessions() as session:
        committed = commits(session)
        assert session.get(Agent, AGENT) is not None
        commit_step(session)
        assert committed == [] and not in_transaction(session.connection())


def test_a_value_set_to_what_it_was_commits_nothing(sessions) -> None:
    """As a wait document asked for again sets the caller's QueueSid it already has."""
    with sessions() as session:
        committed = commits(session)
        agent = session.get(Agent, AGENT)
        agent.status = agent.status
        assert agent in session.dirty  # SQLAlchemy's list is optimistic
        commit_step(session)
        assert committed == [] and not in_transaction(session.connection())
