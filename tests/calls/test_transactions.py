"""A webhook's transaction begins at its first write (issue 12, models.db): on
PostgreSQL a request that changes nothing (Twilio retrying an answered prompt) sends
its reads and nothing else, one round trip each, not BEGIN and COMMIT around them; and a
step that writes still keeps all of it or none."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, has_request_context
from psycopg import pq
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from tests.calls.faults import heard_apology_and_message_prompt
from tests.calls.test_stages import ZH, everything, late
from tests.sql import listening, statements_sent

pytestmark = pytest.mark.usefixtures("demo")

postgresql = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@contextmanager
def traced(engine: Engine, path: Path) -> Iterator[list[str]]:
    """The messages the app's connections exchange with PostgreSQL while the block
    runs, as libpq traces them (psycopg's ``PGconn.trace``): each a line, ``F`` for
    what Hotline sent, ``B`` for what the server answered."""
    lines: list[str] = []

    def _checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        # libpq writes to a stream of its own and closes it when the trace ends.
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        dbapi_connection.pgconn.trace(descriptor)
        dbapi_connection.pgconn.set_trace_flags(
            pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE
        )

    def _checkin(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is not None:
            dbapi_connection.pgconn.untrace()

    event.listen(engine, "checkout", _checkout)
    event.listen(engine, "checkin", _checkin)
    try:
        yield lines
    finally:
        event.remove(engine, "checkout", _checkout)
        event.remove(engine, "checkin", _checkin)
    lines.extend(path.read_text().splitlines())


@postgresql
def test_a_request_that_changes_nothing_sends_its_reads_alone(
    phone, app: Flask, db: Session, engine: Engine, tmp_path: Path
) -> None:
    call = phone(ZH["phone"]).dial()
    with (
        traced(engine, tmp_path / "trace") as trace,
        statements_sent(engine, in_requests=True) as ran,
    ):
        heard = late(app, db, call, "/voice/language?turn=0", {"Digits": "2"})
    assert "普通话请按1" in heard.text and ran
    sent = [line for line in trace if line.startswith("F")]
    assert not [line for line in sent if re.search(r"\b(BEGIN|COMMIT|ROLLBACK)\b", line)]
    round_trips = sum("ReadyForQuery" in line for line in trace)
    assert round_trips == len(ran), "\n".join(trace)


class Fault(Exception):
    """What the test makes a step fail with."""


@contextmanager
def failing_after_first_write(engine: Engine) -> Iterator[list[str]]:
    """The next statement of a request that writes fails once it has answered; the
    statements that ran up to it."""
    ran: list[str] = []

    def _answered(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not has_request_context():
            return
        ran.append(statement)
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            raise Fault(statement)

    with listening(engine, "after_cursor_execute", _answered):
        yield ran


def test_a_step_that_fails_after_its_first_write_keeps_nothing_of_it(
    phone, db: Session, engine: Engine
) -> None:
    """The PIN step reads the caller and their customer, then writes the call, the
    lockout guard's count and the attempt: its first write is undone with the rest."""
    call = phone(ZH["phone"]).dial().press("1").press("#")
    before = everything(db)
    with failing_after_first_write(engine) as ran:
        call.press(ZH["pin"])
    assert heard_apology_and_message_prompt(call)
    assert ran[0].lstrip().upper().startswith("SELECT")  # it read before it wrote
    assert ran[-1].lstrip().upper().startswith("UPDATE")  # and the write answered
    assert everything(db) == before
