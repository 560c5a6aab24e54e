"""When a transaction begins on PostgreSQL (models.db): statements that only read run
outside one; anything that writes, locks rows, or lasts to the end of a transaction
(SET LOCAL, a savepoint) begins one first; ``Database.reading`` and ``migrating`` hold
theirs from their start."""

from __future__ import annotations

import pytest
from flask import Flask
from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, Executable, select, text, update

from models import Agent
from models.db import migrating

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

IDLE, INTRANS = TransactionStatus.IDLE, TransactionStatus.INTRANS
STATEMENTS: dict[str, tuple[Executable, TransactionStatus]] = {
    "a read": (select(Agent), IDLE),
    "a write": (update(Agent).where(Agent.id == "nobody").values(status="offline"), INTRANS),
    "a row lock": (select(Agent).with_for_update(skip_locked=True), INTRANS),
    "SET LOCAL": (text("SET LOCAL lock_timeout = 0"), INTRANS),
    "DDL": (text("CREATE TEMPORARY TABLE scratch (id int)"), INTRANS),
}


def status(connection: Connection) -> TransactionStatus:
    return connection.connection.driver_connection.info.transaction_status  # type: ignore[union-attr]


@pytest.mark.parametrize("kind", list(STATEMENTS))
def test_only_reads_run_outside_a_transaction(app: Flask, kind: str) -> None:
    statement, expected = STATEMENTS[kind]
    with app.extensions["db"].sessions() as session:
        session.execute(statement)
        assert status(session.connection()) == expected


def test_a_savepoint_begins_the_transaction_first(app: Flask) -> None:
    with app.extensions["db"].sessions() as session, session.begin_nested():
        assert status(session.connection()) == INTRANS


def test_a_snapshot_and_a_migration_hold_one_transaction_from_their_start(app: Flask) -> None:
    db = app.extensions["db"]
    with db.reading() as reader:
        assert status(reader.connection()) == INTRANS
    with migrating(db.engine) as connection:
        assert status(connection) == INTRANS
