"""Listening to what an engine sends, for tests that count or break its statements."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import has_request_context
from sqlalchemy import Engine, event


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
