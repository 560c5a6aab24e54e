"""Which agent may take which caller: the rule in Python, and its SQL twin that picks
the next caller, agree for any agent (or any of several) and any caller."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, literal, select
from sqlalchemy.orm import Session

from flowfile.vocabulary import LANGUAGES
from models import Agent, AgentPass, Call, CallbackRequest, Voicemail
from models.agents import AgentStatus
from models.calls import CallStage
from models.queueing import CallbackStatus
from queueing.matching import (
    callbacks_for_any,
    callers_for_any,
    is_ready,
    may_call_back,
    may_take,
    profiles,
    ready_agents,
    voicemails_for,
    wrap_up_over,
)
from queueing.passes import PASS_HOLDS, holding_since, not_passed_by, passers
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
        for them in [[each] for each in some_agents] + [some_agents]:
            found = db.scalars(
                select(Call.id).where(Call.id.in_(ids), callers_for_any(profiles(them)))
            )
            assert set(found) == {row.id for row in waiting if any(may_take(a, row) for a in them)}
    finally:
        db.execute(delete(Call).where(Call.id.in_(ids)))
        db.commit()
        db.expunge_all()


WRAP_UP = timedelta(seconds=30)
_agent_ids = itertools.count(1)


def agent_in(status: AgentStatus, seconds_ago: int) -> Agent:
    return Agent(
        id=f"T{next(_agent_ids)}",
        name="Test",
        phone=f"+86139{next(_agent_ids):08d}",
        pin_hash="x",
        skills=[],
        languages=["zh"],
        status=status,
        status_since=OPEN_HOURS - timedelta(seconds=seconds_ago),
    )


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    some_agents=st.lists(
        st.builds(agent_in, st.sampled_from(list(AgentStatus)), st.integers(0, 90)),
        min_size=1,
        max_size=6,
    )
)
def test_ready_agents_are_the_available_and_those_whose_wrap_up_outlasted_the_setting(
    db: Session, some_agents: list[Agent]
) -> None:
    db.add_all(some_agents)
    db.commit()
    ids = [row.id for row in some_agents]
    try:
        found = db.scalars(
            select(Agent.id).where(
                Agent.id.in_(ids), ready_agents(wrap_up_over(OPEN_HOURS, WRAP_UP))
            )
        )
        expected = {row.id for row in some_agents if is_ready(row, OPEN_HOURS, WRAP_UP)}
        assert set(found) == expected
    finally:
        db.execute(delete(Agent).where(Agent.id.in_(ids)))
        db.commit()
        db.expunge_all()


@pytest.mark.parametrize("minutes_ago", [0, 2, 4])
def test_passes_and_their_sql_twin_agree_and_hold_for_a_while(
    db: Session, minutes_ago: int
) -> None:
    waiting = [caller("general", "zh") for _ in range(3)]
    lina = agent_in(AgentStatus.AVAILABLE, 0)
    db.add_all([*waiting, lina])
    db.commit()
    at = OPEN_HOURS - timedelta(minutes=minutes_ago)
    db.add(AgentPass(call_id=waiting[0].id, agent_id=lina.id, passed_at=at))
    db.commit()
    try:
        holds = timedelta(minutes=minutes_ago) < PASS_HOLDS
        ids = [row.id for row in waiting]
        not_passed = set(
            db.scalars(
                select(Call.id).where(
                    Call.id.in_(ids), not_passed_by(lina.id, holding_since(OPEN_HOURS))
                )
            )
        )
        passed_on = {row.id for row in waiting if lina.id in passers(db, row.id, OPEN_HOURS)}
        assert passed_on == ({waiting[0].id} if holds else set())
        assert not_passed == set(ids) - passed_on
        # The same twin over agents, for one caller (the agents a ring may go to).
        not_passed_on_first = set(
            db.scalars(
                select(Agent.id).where(
                    Agent.id == lina.id,
                    not_passed_by(Agent.id, holding_since(OPEN_HOURS), literal(waiting[0].id)),
                )
            )
        )
        assert not_passed_on_first == (set() if holds else {lina.id})
    finally:
        db.execute(delete(Call).where(Call.id.in_([row.id for row in waiting])))
        db.execute(delete(Agent).where(Agent.id == lina.id))
        db.commit()
        db.expunge_all()


def voicemail_of(call: Call) -> Voicemail:
    """What a caller leaves: a voicemail has a topic and a language (the call's, or the
    flow's default)."""
    return Voicemail(
        call_id=call.id,
        language=call.language or "zh",
        topic=call.queue or "general",
        recording_url="https://api.twilio.com/x",
        created_at=OPEN_HOURS,
    )


def callback(queue: str, language: str) -> CallbackRequest:
    return CallbackRequest(
        number="+8613012345601",
        language=language,
        topic=queue,
        status=CallbackStatus.OPEN,
        created_at=OPEN_HOURS,
        attempts=0,
    )


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(some_agents=st.lists(agents, min_size=1, max_size=3), left=st.lists(callers, max_size=8))
def test_voicemails_go_to_the_agents_who_may_take_the_caller_who_left_them(
    db: Session, some_agents: list[Agent], left: list[Call]
) -> None:
    db.add_all(left)
    db.commit()
    voicemails = [voicemail_of(call) for call in left]
    db.add_all(voicemails)
    db.commit()
    ids = [row.id for row in voicemails]
    try:
        for each in some_agents:
            found = db.scalars(
                select(Voicemail.id).where(Voicemail.id.in_(ids), voicemails_for(each))
            )
            expected = {
                row.id for row in voicemails if may_take(each, caller(row.topic, row.language))
            }
            assert set(found) == expected
    finally:
        db.execute(delete(Call).where(Call.id.in_([row.id for row in left])))
        db.commit()
        db.expunge_all()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    some_agents=st.lists(agents, min_size=1, max_size=3),
    asked=st.lists(
        st.builds(callback, st.sampled_from(QUEUES), st.sampled_from(LANGUAGES)), max_size=8
    ),
)
def test_callbacks_follow_the_same_rule_in_python_and_sql(
    db: Session, some_agents: list[Agent], asked: list[CallbackRequest]
) -> None:
    call = caller("general", "zh")
    db.add(call)
    db.flush()
    for each in asked:
        each.call_id = call.id
    db.add_all(asked)
    db.commit()
    ids = [row.id for row in asked]
    try:
        for them in [[each] for each in some_agents] + [some_agents]:
            found = db.scalars(
                select(CallbackRequest.id).where(
                    CallbackRequest.id.in_(ids), callbacks_for_any(profiles(them))
                )
            )
            assert set(found) == {
                row.id for row in asked if any(may_call_back(a, row) for a in them)
            }
        for each in some_agents:
            assert {row.id for row in asked if may_call_back(each, row)} == {
                row.id for row in asked if may_take(each, caller(row.topic, row.language))
            }
    finally:
        db.execute(delete(CallbackRequest).where(CallbackRequest.id.in_(ids)))
        db.execute(delete(Call).where(Call.id == call.id))
        db.commit()
        db.expunge_all()
