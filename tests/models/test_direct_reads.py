"""A call read through Core (models.direct_reads) is the object the ORM would have
loaded: persistent, unchanged until the step changes it, written back as only the
columns changed and checked against the version read, its history loaded when asked;
and a call the session already holds is refreshed, not doubled."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import Engine, func, inspect, update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, column_property, mapped_column
from sqlalchemy.orm.exc import StaleDataError

from models import Call, CallEvent
from models.calls import CallStage
from models.direct_reads import ByKey
from tests.sql import statements_sent

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
SID = "CA" + "2" * 32
BY_SID = ByKey(Call, Call.call_sid)


@pytest.fixture
def call_id(app: Flask) -> int:
    with app.extensions["db"].sessions() as session:
        call = Call.begun(SID, NOW, CallStage.MENU)
        call.language, call.turn = "zh", 4
        session.add(call)
        session.add(CallEvent(call=call, kind="call.started", data={}, at=NOW))
        session.commit()
        return call.id


def sessions(app: Flask) -> Session:
    session: Session = app.extensions["db"].sessions()
    return session


def test_a_call_read_through_core_is_the_persistent_unchanged_row(app: Flask, call_id: int) -> None:
    with sessions(app) as session:
        call = BY_SID.one_or_none(session, SID)
        assert call is not None
        state = inspect(call)
        assert state.persistent and not session.dirty and not state.expired_attributes
        assert (call.id, call.stage, call.language, call.turn) == (call_id, CallStage.MENU, "zh", 4)
        assert call.started_at == NOW  # the column's own type read it, UTC and all
        assert session.get(Call, call_id) is call
        assert [event.kind for event in call.events] == ["call.started"]  # loaded when asked
        assert BY_SID.one_or_none(session, "CA" + "3" * 32) is None


def test_a_step_writes_back_only_what_it_changed_against_the_version_read(
    app: Flask, engine: Engine, call_id: int
) -> None:
    with sessions(app) as session:
        call = BY_SID.one_or_none(session, SID)
        assert call is not None
        call.turn += 1
        with statements_sent(engine) as ran:
            session.commit()
    [write] = [" ".join(sql.split()) for sql in ran if sql.startswith(("UPDATE", "WITH"))]
    assert "turn=" in write and "stage=" not in write and "calls.version =" in write
    with sessions(app) as session:
        call = BY_SID.one_or_none(session, SID)
        assert call is not None and (call.turn, call.version) == (5, 2)
        # Another webhook of the call wins meanwhile: this one's write is refused.
        session.connection().execute(update(Call).values(version=Call.version + 1))
        call.turn += 1
        with pytest.raises(StaleDataError):
            session.commit()


def test_a_call_the_session_holds_is_refreshed_in_place(app: Flask, call_id: int) -> None:
    with sessions(app) as session:
        first = BY_SID.one_or_none(session, SID)
        session.rollback()  # a step run once more: what it held is expired
        with sessions(app) as other:
            other.execute(update(Call).where(Call.id == call_id).values(turn=9))
            other.commit()
        again = BY_SID.one_or_none(session, SID)
        assert again is first and again is not None and again.turn == 9


def test_a_kind_with_an_attribute_of_sql_is_refused_not_read_as_none() -> None:
    class Own(DeclarativeBase):
        pass

    class Row(Own):
        __tablename__ = "rows"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column()
        shout = column_property(func.upper(name))

    with pytest.raises(TypeError, match="Row.shout"):
        ByKey(Row, Row.name)
