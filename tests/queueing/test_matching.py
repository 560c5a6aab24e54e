"""Which agent may take which caller: the rule in Python, and its SQL twin that picks
the next caller, agree for any agent and any caller."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from flowfile.vocabulary import LANGUAGES
from models import Agent, Call
from models.calls import CallStage
from queueing.matching import callers_for, may_take
from tests.conftest import OPEN_HOURS
from tests.flowfile.flows import shipped_flow

QUEUES = sorted(shipped_flow().queues)
_sids = itertools.count(1)


def agent(skills: list[str], languages: list[str]) -> Agent:
    return Agent(id="A99", name="Test", skills=skills, languages=languages)


def caller(queue: str | None, language: str | None) -> Call:
    return Call(
        call_sid=f"CA{next(_sids):032x}",
        started_at=OPEN_HOURS,
        stage=CallStage.QUEUED,
        queue=queue,
        language=language,
    )


@pytest.mark.parametrize(
    ("skills", "languages", "queue", "language", "takes"),
    [
        ([], ["zh"], "general", "zh", True),
        ([], ["zh"], "urgent", "zh", True),
        (["funds"], ["zh"], "funds", "zh", True),
        (["funds"], ["zh"], "account", "zh", False),
        (["funds"], ["zh"], "funds", "en", False),
        (["funds"], ["zh", "en"], "funds", "en", True),
        ([], [], "general", None, True),
        (QUEUES, ["zh", "en"], None, "zh", False),
    ],
    ids=[
        "everyone-takes-general",
        "everyone-takes-urgent",
        "a-branch-with-the-skill",
        "no-branch-without-the-skill",
        "not-in-another-language",
        "in-any-of-the-agents-languages",
        "a-caller-without-a-language-by-anyone",
        "a-caller-in-no-queue-by-nobody",
    ],
)
def test_may_take(
    skills: list[str], languages: list[str], queue: str | None, language: str | None, takes: bool
) -> None:
    assert may_take(agent(skills, languages), caller(queue, language)) is takes


agents = st.builds(
    agent,
    st.lists(st.sampled_from(QUEUES), unique=True),
    st.lists(st.sampled_from(LANGUAGES), unique=True),
)
callers = st.builds(caller, st.sampled_from([*QUEUES, None]), st.sampled_from([*LANGUAGES, None]))


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(some_agents=st.lists(agents, min_size=1, max_size=3), waiting=st.lists(callers, max_size=8))
def test_the_sql_twin_finds_exactly_the_callers_may_take_allows(
    db: Session, some_agents: list[Agent], waiting: list[Call]
) -> None:
    db.add_all(waiting)
    db.commit()
    ids = [row.id for row in waiting]
    try:
        for each in some_agents:
            found = db.scalars(select(Call.id).where(Call.id.in_(ids), callers_for(each)))
            assert set(found) == {row.id for row in waiting if may_take(each, row)}
    finally:
        db.execute(delete(Call).where(Call.id.in_(ids)))
        db.commit()
        db.expunge_all()
