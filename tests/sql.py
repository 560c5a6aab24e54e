"""Listening to what an engine sends, for tests that count or break its statements."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import has_request_context
from sqlalchemy import Connection, Engine, event


@contextmanager
def listening(engine: Engine, identifier: str, listener: Callable[..., Any]) -> Iterator[None]:
    """``listener`` hears ``engine``'s ``identifier`` events while the block runs."""
    event.listen(engine, identifier, listener)
    try:
        yield
    finally:
        event.remove(engine, identifier, listener)


@contextmanager
def statements_sent(engine: Engine, *, in_requests: bool = False) -> Iterator[list[str]]:
    """The SQL ``engine`` sends while the block runs, as written (its values aside);
    with ``in_requests``, only what requests send."""
    sent: list[str] = []

    def note(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not in_requests or has_request_context():
            sent.append(statement)

    with listening(engine, "before_cursor_execute", note):
        yield sent


def plan_of(
    connection: Connection, statement: str, parameters: Any = (), *, avoid: str
) -> list[str]:
    """The plan the database makes for ``statement``: SQLite's EXPLAIN QUERY PLAN, or
    PostgreSQL's EXPLAIN with ``avoid`` (a planner setting, such as ``enable_sort``) off,
    so that the plan does that only where nothing else serves (tiny test tables
    would make a scan or a sort the cheapest plan anyway)."""
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        return [str(row[-1]) for row in rows]
    connection.exec_driver_sql(f"SET {avoid} = off")
    try:
        rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters)
        return [str(row[0]) for row in rows]
    finally:
        connection.exec_driver_sql(f"RESET {avoid}")
