"""PostgreSQL ending Hotline's pooled connections, as a restart or an administrator ends
them (issue 12): webhooks take their connection from the pool without a ping
(models.db), so the first to find its connection dropped runs once more on a new one,
and the caller hears the next prompt, the step taken once. One that loses its connection
after a statement has answered is never run again: the caller hears the apology, and
nothing of the step is kept. (A real restart: tests/calls/test_hung_database.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection, Engine, create_engine, event, text, update
from sqlalchemy.exc import DBAPIError

from models import Agent
from models.calls import CallStage
from models.db import dropped_before_answer, normalise_url, session, unpinged
from telephony.simulator import Leg, Switch
from tests.calls.faults import heard_apology_and_message_prompt, record_of, timed
from tests.sql import listening

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

STRANGER = "+8613700137000"  # no customer's: keys in their number after the language
NUMBER_PROMPT = "registered with Bitai Wallet"


@pytest.fixture(autouse=True)
def backends(engine: Engine) -> set[int]:
    """The server processes of the app's connections, every one of them (autouse: this
    listens before anything connects)."""
    pids: set[int] = set()

    @event.listens_for(engine, "connect")
    def _connected(dbapi_connection: Any, _record: Any) -> None:
        pids.add(dbapi_connection.info.backend_pid)

    return pids


def end(database_url: str, pids: set[int]) -> None:
    """The server ends these backends, as a restart does (an administrator's
    pg_terminate_backend; its timeout waits until they are gone: postgresql.org/docs/
    current/functions-admin.html)."""
    admin = create_engine(normalise_url(database_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for pid in pids:
            connection.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
    admin.dispose()


@contextmanager
def ended_after_first_statement(engine: Engine, database_url: str) -> Iterator[None]:
    """The connection of the next statement the app runs is ended as soon as that
    statement has answered."""
    ended: list[int] = []

    def _answered(connection: Connection, *_: Any) -> None:
        if not ended:
            ended.append(connection.connection.driver_connection.info.backend_pid)  # type: ignore[union-attr]
            end(database_url, set(ended))

    with listening(engine, "after_cursor_execute", _answered):
        yield
    assert ended, "the app ran no statement"


def step(database_url: str, call: Leg) -> tuple[CallStage, int]:
    record = record_of(database_url, call)
    assert record is not None
    return record.stage, record.turn


def test_connections_ended_between_two_webhooks_the_caller_hears_the_next_prompt(
    phone, switch: Switch, database_url: str, backends: set[int]
) -> None:
    stopwatch = timed(switch)
    call = phone(STRANGER).dial()
    _, turn = step(database_url, call)
    end(database_url, backends)
    call.press("2")
    assert NUMBER_PROMPT in call.text and "something went wrong" not in call.text
    assert step(database_url, call) == (CallStage.NUMBER, turn + 1)
    assert stopwatch.slow() == [] and switch.errors == []


def test_a_connection_ended_after_a_statement_answered_is_not_run_again(
    phone, switch: Switch, database_url: str, engine: Engine
) -> None:
    call = phone(STRANGER).dial()
    before = step(database_url, call)
    with ended_after_first_statement(engine, database_url):
        call.press("2")
    assert heard_apology_and_message_prompt(call)
    assert step(database_url, call) == before  # nothing of the step kept
    assert switch.errors == []


def test_a_step_whose_first_statement_writes_finds_a_dropped_connection_as_a_read_would(
    app: Flask, engine: Engine, database_url: str, backends: set[int]
) -> None:
    """Its BEGIN (models.db) is what finds the connection dropped: it fails as the
    statement would, so that the webhook runs once more."""
    with engine.connect() as connection:  # pooled, as a worker keeps it between requests
        connection.execute(text("SELECT 1"))
    end(database_url, backends)
    with app.test_request_context():
        unpinged()
        with pytest.raises(DBAPIError) as raised:
            session().execute(update(Agent).where(Agent.id == "nobody").values(status="offline"))
        assert dropped_before_answer(raised.value)
