"""A webhook's database deadline: all its waits on PostgreSQL end within DEADLINE_SECONDS.

The server-side limits of ``models.db`` (statement_timeout, lock_timeout) and libpq's
connect_timeout and tcp_user_timeout do not help when the server process is stopped or
wedged while its host still answers: the kernel keeps acknowledging TCP, so a query on a
pooled connection (a webhook's first statement, a COMMIT) would wait for ever, until gunicorn
kills the worker at 10 s (gunicorn.conf.py); its replacement, migrating as it starts,
cannot reach the database either, and gunicorn then stops altogether ("Worker failed to
boot"), as measured against a SIGSTOPped server. So the wait
is bounded on this side too: psycopg runs every exchange with the server (each
statement, fetch, COMMIT and ROLLBACK, a page's ping) through ``Connection.wait``, which
takes a timeout; ``BoundedConnection`` gives it what is left of the deadline. A timeout
leaves the connection mid-protocol, so it is closed there and then: SQLAlchemy sees a
closed connection and invalidates it (its psycopg dialect's ``is_disconnect``), and the
pool never hands it out again. A new connection gets what is left too, and is not even
tried once too little is (psycopg's own connect timeout is at least 2 s).

A database that left one webhook unanswered is not waited for again for SILENCE_SECONDS
by the same app: a sync worker serves one webhook at a time, so each that waited for the
whole deadline would keep those queued behind it waiting too, past Twilio's 15 s once a
few had queued. They hear the failure path at once instead; the first after that time
tries again, with the whole deadline.

``Connection.wait`` is psycopg's, not part of its documented API (docs/api/
connections.rst); requirements.txt pins psycopg, and tests/calls/test_hung_database.py
fails if a new version stops honouring it. The connection is made through SQLAlchemy's
``do_connect`` event, which may return the DBAPI connection itself (docs.sqlalchemy.org,
"Engine Configuration": "Fully Replacing the DBAPI connect() function").

A COMMIT that times out may still commit: its message has reached the server's kernel,
and a server that wakes up reads it before it sees the connection closed. Either the
whole transaction is committed then or none of it is, never a part; the webhook answers
with the failure path either way, so nothing a caller hears depends on which. A guess at
a PIN is counted in the same transaction as its outcome (verification.guard), and its
outcome is heard only after COMMIT returned: a guess whose answer was heard was counted
once; one whose COMMIT timed out was heard as the apology and is counted once or not at
all. A webhook runs again only when its first statement found its connection dropped
(models.db.dropped_before_answer), never after a deadline passed, nor once a statement
has answered: nothing counts twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import monotonic
from typing import Any, TypeVar

import psycopg
from flask import g, has_app_context
from psycopg.abc import PQGen
from psycopg.rows import TupleRow
from sqlalchemy import Engine, event
from sqlalchemy.pool import ConnectionPoolEntry

# Twilio gives a webhook 15 s; the failure path must be heard within 5 s, and the rest
# of a webhook (signature, TwiML) takes milliseconds. Not a setting, as WAIT_SECONDS.
DEADLINE_SECONDS = 4.0
# How long after the database left a webhook unanswered the next ones do not wait for
# it. Long enough for a worker to answer all those queued behind that webhook (each in
# milliseconds, without the database), short because for this long after the database
# is back, callers still hear the failure path.
SILENCE_SECONDS = 2.0
# psycopg waits at least this long to connect, whatever connect_timeout says
# (psycopg.conninfo.timeout_from_conninfo, after libpq): with less left, no attempt.
LEAST_CONNECT_SECONDS = 2
# psycopg's own interval between checks for Ctrl-C while it waits (psycopg.connection).
WAIT_INTERVAL = 0.1

T = TypeVar("T")


class DeadlinePassed(psycopg.OperationalError):
    """The database did not answer within the webhook's deadline; its connection closed."""


class Silence:
    """When the database last left a webhook of this app unanswered: the process's guess
    about the database, never the state of a call."""

    def __init__(self) -> None:
        self._until = 0.0

    def noticed(self) -> None:
        self._until = monotonic() + SILENCE_SECONDS

    def deadline(self, seconds: float) -> Deadline:
        """A deadline ``seconds`` from now, or now while the database is thought silent."""
        now = monotonic()
        return Deadline(now if now < self._until else now + seconds, self)


@dataclass(frozen=True)
class Deadline:
    at: float  # time.monotonic()
    silence: Silence  # told when the database lets this deadline pass

    def left(self) -> float:
        return self.at - monotonic()


def start(silence: Silence, seconds: float = DEADLINE_SECONDS) -> None:
    """From now until the app context ends (a request's, or the work after its answer in
    calls.later), every database wait on PostgreSQL ends by the deadline."""
    g.database_deadline = silence.deadline(seconds)


def current() -> Deadline | None:
    """This app context's deadline; None without one: pages and commands keep the bounds
    of models.db alone."""
    if not has_app_context():
        return None
    deadline: Deadline | None = g.get("database_deadline")
    return deadline


class BoundedConnection(psycopg.Connection[TupleRow]):
    """A psycopg connection whose every wait ends by the deadline."""

    def wait(
        self, gen: PQGen[T], interval: float = WAIT_INTERVAL, timeout: float | None = None
    ) -> T:
        deadline = current()
        if deadline is None:
            return super().wait(gen, interval, timeout)
        left = deadline.left()
        if left <= 0:
            # Nothing is sent: a COMMIT after the deadline is never half done.
            self.pgconn.finish()
            raise DeadlinePassed("no time left for the database (or it was silent just now)")
        try:
            return super().wait(gen, interval, left if timeout is None else min(timeout, left))
        except psycopg.errors._WaitTimeout:
            # Mid-protocol: an answer may still come and must never be read as another's.
            self.pgconn.finish()
            deadline.silence.noticed()
            raise DeadlinePassed("no answer from the database by the deadline") from None


def bound(engine: Engine) -> None:
    """Make ``engine``'s PostgreSQL connections BoundedConnections."""

    @event.listens_for(engine, "do_connect")
    def _connect(
        _dialect: Any, _record: ConnectionPoolEntry, cargs: list[Any], cparams: dict[str, Any]
    ) -> BoundedConnection:
        deadline = current()
        if deadline is None:
            return BoundedConnection.connect(*cargs, **cparams)
        left = deadline.left()
        if left < LEAST_CONNECT_SECONDS:
            raise DeadlinePassed("too little time left to connect (or it was silent just now)")
        given = int(cparams.get("connect_timeout", left))
        cparams["connect_timeout"] = min(given, int(left))
        try:
            return BoundedConnection.connect(*cargs, **cparams)
        except psycopg.errors.ConnectionTimeout:
            deadline.silence.noticed()
            raise
