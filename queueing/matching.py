"""Which agent may take which caller (SPEC §6), written once in Python and once in
SQL; tests/queueing/test_matching.py proves the two agree.

An agent takes callers of the queues they have the skill for (everyone takes
the general and urgent queues) who speak one of the agent's languages; a caller
who has not chosen a language yet can be taken by anyone.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, and_, or_

from models import Agent, Call

EVERYONES_QUEUES = ("urgent", "general")


def may_take(agent: Agent, caller: Call) -> bool:
    return _matches(agent.skills, agent.languages, caller.queue, caller.language)


def callers_for(agent: Agent) -> ColumnElement[bool]:
    """The SQL twin of ``may_take``: a condition on ``calls`` for this agent."""
    return and_(
        Call.queue.in_([*EVERYONES_QUEUES, *agent.skills]),
        or_(Call.language.in_(agent.languages), Call.language.is_(None)),
    )


def _matches(
    skills: Collection[str], languages: Collection[str], queue: str | None, language: str | None
) -> bool:
    queue_ok = queue is not None and (queue in EVERYONES_QUEUES or queue in skills)
    return queue_ok and (language is None or language in languages)
