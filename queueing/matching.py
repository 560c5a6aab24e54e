"""Which agent may take which caller (SPEC §6), written once in Python and once in
SQL; tests/queueing/test_matching.py proves the two agree.

An agent takes callers of the queues they have the skill for (everyone takes
the general and urgent queues) who speak one of the agent's languages; a caller
who has not chosen a language yet can be taken by anyone.

An agent is ready for a caller when available, or in a wrap-up that has outlasted
``AGENT_WRAP_UP_SECONDS``: the end of wrap-up is reported by the agent's key, silence
or hang-up, and a lost status callback must not keep the agent from callers for ever.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Any, TypeAlias

from sqlalchemy import ColumnElement, and_, literal, or_
from sqlalchemy.orm import QueryableAttribute

from models import Agent, Call, CallbackRequest, Voicemail
from models.agents import AgentStatus
from models.base import URGENT as URGENT  # taken first (its indexes say so), open around the clock

EVERYONES_QUEUES = (URGENT, "general")

# Agents' skills and languages, each sorted: agents of one profile take the same callers.
Profile: TypeAlias = tuple[tuple[str, ...], tuple[str, ...]]


def may_take(agent: Agent, caller: Call) -> bool:
    return _matches(agent.skills, agent.languages, caller.queue, caller.language)


def profiles(agents: Iterable[Agent]) -> tuple[Profile, ...]:
    """The distinct profiles of ``agents``, in order: one condition each is enough, and
    the same agents give the same key (a statement built once for them)."""
    return tuple(sorted({(tuple(sorted(a.skills)), tuple(sorted(a.languages))) for a in agents}))


def callers_for_any(of: tuple[Profile, ...]) -> ColumnElement[bool]:
    """The SQL twin of ``may_take``: a condition on ``calls``, the callers an agent of
    any of the profiles ``of`` may take."""
    return _matches_sql(of, Call.queue, Call.language)


def may_call_back(agent: Agent, callback: CallbackRequest) -> bool:
    """The same rule for a callback: the agents who could have taken the call."""
    return _matches(agent.skills, agent.languages, callback.topic, callback.language)


def callbacks_for_any(of: tuple[Profile, ...]) -> ColumnElement[bool]:
    """The SQL twin of ``may_call_back``: a condition on ``callback_requests``, for an
    agent of any of the profiles ``of``."""
    return _matches_sql(of, CallbackRequest.topic, CallbackRequest.language)


def voicemails_for(agent: Agent) -> ColumnElement[bool]:
    """The same rule for voicemails, whose topic is the queue the caller was in: a
    condition on ``voicemails`` for this agent."""
    return _matches_sql(profiles([agent]), Voicemail.topic, Voicemail.language)


def is_ready(agent: Agent, now: datetime, wrap_up: timedelta) -> bool:
    return agent.status == AgentStatus.AVAILABLE or (
        agent.status == AgentStatus.WRAP_UP and agent.status_since <= wrap_up_over(now, wrap_up)
    )


def wrap_up_over(now: datetime, wrap_up: timedelta) -> datetime:
    """A wrap-up begun then or before has outlasted ``wrap_up`` at ``now``."""
    return now - wrap_up


def ready_agents(over: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """The SQL twin of ``is_ready``: a condition on ``agents``, ``over`` being
    ``wrap_up_over(now, wrap_up)`` (or a parameter bound to it, in a statement built once)."""
    return or_(
        Agent.status == AgentStatus.AVAILABLE,
        and_(Agent.status == AgentStatus.WRAP_UP, Agent.status_since <= over),
    )


def _matches_sql(
    of: tuple[Profile, ...], queue: QueryableAttribute[Any], language: QueryableAttribute[Any]
) -> ColumnElement[bool]:
    """What any agent of the profiles ``of`` may take. The lists are of bound values,
    not one expanding parameter: a statement built once is not rewritten at each run."""

    def among(column: QueryableAttribute[Any], values: Iterable[str]) -> ColumnElement[bool]:
        return column.in_([literal(value, column.type) for value in values])

    return or_(
        *(
            and_(
                among(queue, [*EVERYONES_QUEUES, *skills]),
                or_(among(language, languages), language.is_(None)),
            )
            for skills, languages in of
        )
    )


def _matches(
    skills: Collection[str], languages: Collection[str], queue: str | None, language: str | None
) -> bool:
    queue_ok = queue is not None and (queue in EVERYONES_QUEUES or queue in skills)
    return queue_ok and (language is None or language in languages)
