"""The rest of issue 12's ladder (bench/load.py ``--ladder``): the minimal stateful
webhook of bench/references.py through SQLAlchemy Core (``stateful_core()``: the
statements built once, run on an Engine's Connection) and through its ORM
(``stateful_orm()``: a Session gets the row, changes it, adds the event and commits), on
the same settings, so that a run shows what each layer costs on this machine. Apart from
the references, so that those import no SQLAlchemy.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, request
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    event,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session, registry

from bench.references import FIRST, SCHEMA, signed_app

METADATA = MetaData()
CALLS = Table(
    "bench_calls",
    METADATA,
    Column("call_sid", String(64), primary_key=True),
    Column("turns", Integer),
)
EVENTS = Table(
    "bench_events", METADATA, Column("call_sid", String(64)), Column("path", String(200))
)


class BenchCall:
    call_sid: str
    turns: int


class BenchEvent:
    def __init__(self, call_sid: str, path: str) -> None:
        self.call_sid, self.path = call_sid, path


_mapped = registry()
_mapped.map_imperatively(BenchCall, CALLS)
# The events have no key of their own; the ORM needs one to map them.
_mapped.map_imperatively(BenchEvent, EVENTS, primary_key=[EVENTS.c.call_sid, EVENTS.c.path])


def _engine() -> Engine:
    """An Engine on DATABASE_URL that runs as ``references.stateful()`` does: on SQLite WAL,
    synchronous NORMAL and each transaction one ``BEGIN IMMEDIATE`` (SQLAlchemy's recipe
    for pysqlite: docs.sqlalchemy.org/en/20/dialects/sqlite.html, "Serializable isolation
    / Savepoints / Transactional DDL"); on PostgreSQL the cluster's own settings."""
    url = os.environ["DATABASE_URL"]
    if not url.startswith("sqlite:///"):
        # psycopg 3, as models.db.normalise_url picks it: the references import nothing
        # of Hotline's, so that their workers hold no more than they use.
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    else:
        engine = create_engine(url, connect_args={"timeout": 10})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            dbapi_connection.execute("PRAGMA journal_mode = WAL")
            dbapi_connection.execute("PRAGMA synchronous = NORMAL")

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    with engine.begin() as connection:
        for statement in SCHEMA:
            connection.exec_driver_sql(statement)
    return engine


def stateful_core() -> Flask:
    engine = _engine()
    read = select(CALLS.c.turns).where(CALLS.c.call_sid == bindparam("sid"))
    first = text(FIRST.format(mark=":sid"))
    turn = update(CALLS).where(CALLS.c.call_sid == bindparam("sid"))
    turn = turn.values(turns=bindparam("turns"))
    record = insert(EVENTS)

    def handle(call_sid: str) -> None:
        with engine.begin() as connection:
            row = connection.execute(read, {"sid": call_sid}).first()
            if row is None:
                connection.execute(first, {"sid": call_sid})
            else:
                connection.execute(turn, {"sid": call_sid, "turns": row.turns + 1})
            connection.execute(record, {"call_sid": call_sid, "path": request.path})

    return signed_app("stateful_core", handle)


def stateful_orm() -> Flask:
    engine = _engine()
    first = text(FIRST.format(mark=":sid"))

    def handle(call_sid: str) -> None:
        with Session(engine) as session, session.begin():
            call = session.get(BenchCall, call_sid)
            if call is None:
                session.execute(first, {"sid": call_sid})
            else:
                call.turns += 1
            session.add(BenchEvent(call_sid, request.path))

    return signed_app("stateful_orm", handle)
