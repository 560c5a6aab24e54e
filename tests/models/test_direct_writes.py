"""A step's usual writes go out without the unit of work (models.direct_writes): the
changed columns of a loaded row in one UPDATE checked against its version, the new
events in one INSERT, in the order recorded; and what it does not write, the unit of
work still does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from models import Call, CallEvent, Customer
from models.calls import CallStage
from tests.sql import statements_sent

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
    with sessions(app) as session:
        call = loaded(session, call_id)
        call.stage, call.language, call.turn = CallStage.MENU, "zh", call.turn
        for kind in ("language.chosen", "menu.entered", "menu.heard"):
            session.add(CallEvent(call_id=call_id, kind=kind, data={"n": kind}, at=NOW))
        with statements_sent(engine) as ran:
            session.commit()
    writes = [" ".join(sql.split()) for sql in ran if not sql.startswith(("BEGIN", "PRAGMA"))]
    assert len(writes) == 2, writes
    update, insert = writes
    # Only the columns that changed (turn was set to what it was), and the version.
    assert update.startswith("UPDATE calls SET ")
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
    assert kinds == ["language.chosen", "menu.entered", "menu.heard"]


def test_a_row_changed_meanwhile_fails_the_step_and_keeps_nothing(app: Flask, call_id: int) -> None:
    with sessions(app) as first, sessions(app) as second:
        mine, theirs = first.get(Call, call_id), second.get(Call, call_id)
        assert mine is not None and theirs is not None
        theirs.stage = CallStage.QUEUED
        second.commit()
        mine.stage = CallStage.MENU
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
