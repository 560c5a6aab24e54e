"""A step's usual writes go out without the unit of work (models.direct_writes): the
changed columns of a loaded row in one UPDATE checked against its version, the new
events in one INSERT, in the order recorded (on PostgreSQL, when they are all the
transaction holds, the two in one statement, or either alone, and no BEGIN); and what it
does not write, the unit of work still does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from models import Call, CallEvent, Customer
from models.calls import CallStage
from models.transactions import in_transaction
from tests.sql import listening, statements_sent

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.fixture
def call_id(app: Flask) -> int:
    with app.extensions["db"].sessions() as session:
        call = Call.begun("CA" + "1" * 32, NOW, CallStage.LANGUAGE)
        session.add(call)
        session.commit()
        return call.id


def sessions(app: Flask) -> Session:
    session: Session = app.extensions["db"].sessions()
    return session


def loaded(session: Session, call_id: int) -> Call:
    call = session.get(Call, call_id)
    assert call is not None
    return call


def test_changed_columns_and_events_are_one_update_and_one_insert(
    app: Flask, engine: Engine, call_id: int
) -> None:
    """On PostgreSQL the two are one statement, the transaction's only one: no BEGIN is
    sent for it, and nothing is left open after it."""
    with sessions(app) as session:
        call = loaded(session, call_id)
        call.stage, call.language, call.turn = CallStage.MENU, "zh", call.turn
        for kind in ("language.chosen", "menu.entered", "menu.heard"):
            session.add(CallEvent(call_id=call_id, kind=kind, data={"n": kind}, at=NOW))
        with (
            statements_sent(engine) as ran,
            listening(engine, "after_cursor_execute", _note_open(opened := [])),
        ):
            session.commit()
    writes = [" ".join(sql.split()) for sql in ran if not sql.startswith(("BEGIN", "PRAGMA"))]
    if engine.dialect.name == "postgresql":
        assert len(writes) == 1 and opened == [False], (writes, opened)
        (update,) = writes
        assert update.startswith("WITH changed_row AS (UPDATE calls SET ")
        insert = update.partition(") ")[2]
    else:
        assert len(writes) == 2 and opened == [True, True], (writes, opened)
        update, insert = writes
        assert update.startswith("UPDATE calls SET ")
    # Only the columns that changed (turn was set to what it was), and the version.
    assert all(f"{name}=" in update for name in ("stage", "language", "version"))
    assert "turn=" not in update
    assert "WHERE calls.id =" in update and "calls.version =" in update
    assert insert.startswith("INSERT INTO call_events")
    with sessions(app) as session:
        call = loaded(session, call_id)
        assert (call.stage, call.language, call.version) == (CallStage.MENU, "zh", 2)
        kinds = session.scalars(
            select(CallEvent.kind).where(CallEvent.call_id == call_id).order_by(CallEvent.id)
        ).all()
        data = session.scalars(select(CallEvent.data).where(CallEvent.call_id == call_id)).all()
        at = session.scalars(select(CallEvent.at).where(CallEvent.call_id == call_id)).all()
    assert kinds == ["language.chosen", "menu.entered", "menu.heard"]
    assert sorted(d["n"] for d in data) == sorted(kinds) and set(at) == {NOW}


@pytest.mark.parametrize("writes", ["the row alone", "one event alone"])
def test_a_single_write_is_its_own_statement_on_postgresql(
    app: Flask, engine: Engine, call_id: int, writes: str
) -> None:
    """The changed row with no event (a wait document noting the caller's QueueSid), or
    one event with the row unchanged (a status callback): one statement, and on
    PostgreSQL no BEGIN and COMMIT around it, nothing left open after it."""
    with sessions(app) as session:
        call = loaded(session, call_id)
        if writes == "the row alone":
            call.queue_sid = "QU" + "1" * 32
        else:
            session.add(CallEvent(call_id=call_id, kind="call.status", data={}, at=NOW))
        with (
            statements_sent(engine) as ran,
            listening(engine, "after_cursor_execute", _note_open(opened := [])),
        ):
            session.commit()
    sent = [sql.split()[0] for sql in ran if not sql.startswith("PRAGMA")]
    expected = "UPDATE" if writes == "the row alone" else "INSERT"
    # SQLite's BEGIN IMMEDIATE goes to the cursor unseen here (models.write_lock).
    alone = engine.dialect.name == "postgresql"
    assert sent == [expected] and opened == [not alone], (sent, opened)
    with sessions(app) as session:
        call = loaded(session, call_id)
        events = session.scalars(select(CallEvent.kind).where(CallEvent.call_id == call_id))
        if writes == "the row alone":
            assert (call.queue_sid, call.version) == ("QU" + "1" * 32, 2)
        else:
            assert (list(events), call.version) == (["call.status"], 1)


def test_writes_after_an_earlier_one_of_the_step_join_its_transaction(
    app: Flask, engine: Engine, call_id: int
) -> None:
    """A step that has written already (a transaction is open) commits its last changes in
    that transaction, not in a statement of their own: all of it or none."""
    with sessions(app) as session:
        call = loaded(session, call_id)
        session.execute(update(Customer).where(Customer.id == "nobody").values(name="x"))
        call.stage = CallStage.MENU
        session.add(CallEvent(call_id=call_id, kind="menu.entered", data={}, at=NOW))
        with (
            statements_sent(engine) as ran,
            listening(engine, "after_cursor_execute", _note_open(opened := [])),
        ):
            session.commit()
    writes = [" ".join(sql.split()) for sql in ran]
    assert [sql.split()[0] for sql in writes] == ["UPDATE", "INSERT"], writes
    assert opened == [True, True]


def _note_open(opened: list[bool]) -> Callable[..., None]:
    """An after_cursor_execute listener noting whether a transaction was open after each
    statement."""

    def note(connection: Connection, *_: Any) -> None:
        opened.append(in_transaction(connection))

    return note


@pytest.mark.parametrize("with_event", [True, False], ids=["with an event", "the row alone"])
def test_a_row_changed_meanwhile_fails_the_step_and_keeps_nothing(
    app: Flask, call_id: int, with_event: bool
) -> None:
    """Checked against the row's version whether the UPDATE goes with events or alone."""
    with sessions(app) as first, sessions(app) as second:
        mine, theirs = first.get(Call, call_id), second.get(Call, call_id)
        assert mine is not None and theirs is not None
        theirs.stage = CallStage.QUEUED
        second.commit()
        mine.stage = CallStage.MENU
        if with_event:
            first.add(CallEvent(call_id=call_id, kind="menu.entered", data={}, at=NOW))
        with pytest.raises(StaleDataError):
            first.commit()
        first.rollback()
    with sessions(app) as session:
        call = loaded(session, call_id)
        assert call.stage == CallStage.QUEUED
        assert session.scalars(select(CallEvent).where(CallEvent.call_id == call_id)).all() == []


def test_a_step_that_changed_nothing_writes_nothing(
    app: Flask, engine: Engine, call_id: int
) -> None:
    with sessions(app) as session:
        call = loaded(session, call_id)
        call.stage = call.stage
        with statements_sent(engine) as ran:
            session.commit()
    assert not [sql for sql in ran if sql.startswith(("UPDATE", "INSERT"))]


def test_what_it_does_not_write_the_unit_of_work_still_does(app: Flask, call_id: int) -> None:
    """A column with an ``onupdate`` (a customer's ``updated_at``), and a new row of
    another kind with events beside it, in foreign-key order."""
    with sessions(app) as session:
        customer = Customer(
            id="C-DIRECT", name="Direct", phone="+8613800000001", language="zh", status="active"
        )
        session.add(customer)
        session.commit()
        created = customer.updated_at
        customer.name = "Renamed"
        new = Call.begun("CA" + "2" * 32, NOW, CallStage.LANGUAGE)
        session.add(new)
        session.add(CallEvent(call=new, kind="call.started", data={}, at=NOW))
        session.commit()
    with sessions(app) as session:
        customer = session.get(Customer, "C-DIRECT")
        assert customer is not None and customer.name == "Renamed"
        assert customer.updated_at >= created
        new_id = session.scalar(select(Call.id).where(Call.call_sid == "CA" + "2" * 32))
        assert session.scalar(select(CallEvent.kind).where(CallEvent.call_id == new_id)) == (
            "call.started"
        )
