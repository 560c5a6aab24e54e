"""Agents take waiting callers, and due callbacks, in turn: urgent first, then the
longest waiting, then the first to arrive; the wait document counts the callers ahead
in that same turn. The database reads them off an index in that order, so that with a
thousand waiting it stops at the first an agent may take instead of sorting them all."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from models import Agent, Call, CallbackRequest
from models.calls import CallStage
from models.queueing import CallbackStatus
from queueing.callback_queue import next_callback, work_ahead
from queueing.routing import next_caller
from queueing.voicemails import VoicemailView, open_voicemails
from tests.conftest import OPEN_HOURS
from tests.sql import listening, plan_of

pytestmark = pytest.mark.usefixtures("demo")

AGENT = "A01"  # 李娜: every queue, both languages
LATER = OPEN_HOURS + timedelta(hours=1)
# Queue and minute each caller began waiting at, in the order they are taken: the urgent
# caller who came last first; of two who came at the same moment, the first to arrive.
IN_TURN = [("urgent", 5), ("account", 0), ("general", 0), ("general", 1), ("funds", 2)]
ARRIVING = [IN_TURN[i] for i in (3, 1, 2, 4, 0)]

Next = Callable[[Session, Agent], Any]


def the_callers_next(session: Session, agent: Agent) -> Call | None:
    return next_caller(session, agent, LATER)


def the_callbacks_next(session: Session, agent: Agent) -> CallbackRequest | None:
    return next_callback(session, agent, LATER, hours_open=True)


def the_voicemails_in_turn(session: Session, agent: Agent) -> list[VoicemailView]:
    return open_voicemails(session, agent)


def waiting(db: Session, callbacks: bool = False) -> dict[int, tuple[str, int]]:
    """The callers of ``ARRIVING`` waiting, or having asked for a callback that keeps
    their place; by their calls' ids."""
    calls = {}
    for n, (queue, minute) in enumerate(ARRIVING):
        call = Call.begun(f"CA-turn-{n}", OPEN_HOURS, CallStage.QUEUED)
        call.queue, call.language = queue, "zh"
        call.queued_at = OPEN_HOURS + timedelta(minutes=minute)
        db.add(call)
        db.flush()
        calls[call.id] = (queue, minute)
        if callbacks:
            call.stage = CallStage.ENDED
            db.add(
                CallbackRequest(
                    call_id=call.id,
                    number="+8613800138000",
                    language="zh",
                    topic=queue,
                    status=CallbackStatus.OPEN,
                    created_at=LATER,
                    queued_at=call.queued_at,
                    attempts=0,
                )
            )
    db.commit()
    return calls


def given_in_turn(engine: Engine, next_of: Next) -> list[int]:
    """The calls an agent is given one after another, each then taken out of the queue."""
    given = []
    with Session(engine) as session:
        agent = session.get(Agent, AGENT)
        assert agent is not None
        while (work := next_of(session, agent)) is not None:
            if isinstance(work, Call):
                given.append(work.id)
                work.stage = CallStage.CONNECTED
            else:
                given.append(work.call_id)
                work.status = CallbackStatus.DONE
            session.flush()
        session.rollback()
    return given


def test_callers_are_taken_in_turn_and_told_how_many_are_ahead(engine: Engine, db: Session) -> None:
    calls = waiting(db)
    assert [calls[id_] for id_ in given_in_turn(engine, the_callers_next)] == IN_TURN
    with Session(engine) as session:
        agent = session.get(Agent, AGENT)
        assert agent is not None
        ahead = {
            calls[call.id]: work_ahead(session, call, [agent], LATER, hours_open=True)
            for call in session.scalars(select(Call))
        }
    assert ahead == {caller: n for n, caller in enumerate(IN_TURN)}


def test_callbacks_are_served_in_their_callers_turn(engine: Engine, db: Session) -> None:
    calls = waiting(db, callbacks=True)
    assert [calls[id_] for id_ in given_in_turn(engine, the_callbacks_next)] == IN_TURN


def plan(engine: Engine, next_of: Next) -> list[str]:
    """The plan of the statement ``next_of`` finds an agent's next work with, with no
    sort allowed on PostgreSQL unless no index gives the order (enable_sort)."""
    seen: list[tuple[str, Any]] = []

    def keep(_c: Any, _cur: Any, statement: str, parameters: Any, _x: Any, _m: bool) -> None:
        seen.append((statement, parameters))

    with Session(engine) as session:
        agent = session.get(Agent, AGENT)
        assert agent is not None
        with listening(engine, "before_cursor_execute", keep):
            next_of(session, agent)
        statement, parameters = seen[-1]
        lines = plan_of(session.connection(), statement, parameters, avoid="enable_sort")
        session.rollback()
    return lines


@pytest.mark.parametrize(
    ("next_of", "index"),
    [
        (the_callers_next, "ix_calls_in_turn"),
        (the_callbacks_next, "ix_callback_requests_in_turn"),
        (the_voicemails_in_turn, "ix_voicemails_in_turn"),  # the desk asks every few seconds
    ],
)
def test_the_next_work_is_read_off_its_index_in_turn_not_sorted(
    engine: Engine, next_of: Next, index: str
) -> None:
    lines = plan(engine, next_of)
    assert any(index in line for line in lines), lines
    assert not any("Sort" in line or "B-TREE FOR ORDER BY" in line for line in lines), lines
