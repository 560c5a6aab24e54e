"""Engine, per-request sessions and schema migration for the Flask app."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import psycopg
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app, g, has_app_context
from sqlalchemy import (
    Connection,
    CursorResult,
    Engine,
    Executable,
    ExecutionContext,
    create_engine,
    event,
    make_url,
    text,
)
from sqlalchemy.exc import DBAPIError, InvalidatePoolError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from models import deadline, write_lock
from models.direct_writes import ALONE, write_directly
from models.transactions import DURABLE, in_transaction

log = logging.getLogger(__name__)
# Alembic narrates every start; Hotline says once when it actually migrates.
logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# gunicorn replaces a worker silent for 10 s (gunicorn.conf.py's timeout); a page whose
# database work has not ended 2 s before that gets an error page instead.
PAGE_DEADLINE_SECONDS = 8.0
# Any constant will do: it only has to be the same in every Hotline process.
MIGRATION_LOCK_ID = 7_461_203
# The longest any one database wait may take: connecting, a statement, a lock, a free
# pooled connection. Twilio gives a webhook 15 s before the caller hears "an application
# error"; a webhook that cannot get its data within this answers with the apology path
# (calls.webhooks), well inside 5 s. Not a setting: raising it would break that promise.
WAIT_SECONDS = 3
# The execution option that marks a connection of ``Database.reading``.
READING = "hotline_reading"
# The execution option that makes a SQLite connection take the write lock when its
# transaction begins, reads and all (migrations: a second server must wait for the first).
WRITING = "hotline_writing"


def changed(session: Session, statement: Executable) -> int:
    """Run an UPDATE, DELETE or upsert and say how many rows it changed: the conditional
    statements that settle races read this."""
    # rowcount is kept for UPDATE and DELETE, and for others (an upsert) only when asked
    # (docs.sqlalchemy.org/en/20/core/connections.html, CursorResult.rowcount).
    # Asked of this execution, not of a copy of the statement: a copy would have its
    # cache key computed again, and the statement may be one built once.
    result = cast(
        CursorResult[Any], session.execute(statement, execution_options={"preserve_rowcount": True})
    )
    return result.rowcount


def normalise_url(url: str) -> str:
    """Accept the usual ``postgresql://`` URLs and use the psycopg 3 driver we ship."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, synchronous_commit: bool = True) -> Engine:
    """``synchronous_commit`` false: commits return before they reach the disk, except
    those of transactions that ask (``commit_durably``); Settings.database_synchronous_commit."""
    url = normalise_url(url)
    if make_url(url).get_backend_name() != "sqlite":
        # The default pool (QueuePool, 5 kept open) is plenty: a sync gunicorn worker
        # serves one request at a time, on one connection.
        engine = create_engine(
            url,
            pool_timeout=WAIT_SECONDS,
            connect_args=_bounded_waits(url, synchronous_commit),
            # psycopg begins no transaction of its own; Hotline does (_begin_on_demand).
            # SQLAlchemy still calls commit() and rollback(), which psycopg turns into
            # COMMIT and ROLLBACK whenever a transaction is open (docs.sqlalchemy.org/en/
            # 20/core/connections.html, "Setting Transaction Isolation Levels including
            # DBAPI Autocommit"; psycopg.org/psycopg3/docs/basic/transactions.html).
            isolation_level="AUTOCOMMIT",
        )
        deadline.bound(engine)  # a webhook's waits, all together, end by its deadline
        _ping_outside_webhooks(engine)
        _begin_on_demand(engine, "BEGIN", _durable_begin)
        _forget_durable_at_end(engine)
        return engine
    # SQLite: a held write lock makes BEGIN IMMEDIATE wait this long (models.write_lock),
    # then fail; so does any other statement that finds the database busy. The default
    # pool (QueuePool) keeps each worker's connection open between requests.
    engine = create_engine(url, connect_args={"timeout": WAIT_SECONDS})
    # In WAL mode FULL syncs the log at every commit, NORMAL only at checkpoints: a
    # crash of the machine may lose the last commits, never corrupt the database
    # (sqlite.org/pragma.html#pragma_synchronous, sqlite.org/wal.html).
    level = "FULL" if synchronous_commit else "NORMAL"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # Hotline says when transactions begin
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        # Readers and the one writer do not block each other (sqlite.org/wal.html).
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA synchronous = {level}")
        cursor.close()
        record.info[_SYNCHRONOUS] = level

    def _begin_writing(connection: Connection, cursor: Any) -> None:
        # The safety level can change only outside a transaction ("Safety level may not
        # be changed inside a transaction"): a durable one is set before BEGIN.
        wanted = "FULL" if connection.info.pop(DURABLE, False) else level
        if connection.info.get(_SYNCHRONOUS) != wanted:
            cursor.execute(f"PRAGMA synchronous = {wanted}")
            connection.info[_SYNCHRONOUS] = wanted
        write_lock.take(cursor, WAIT_SECONDS)

    # The write lock from the first write on, not from the first read: reading steps take
    # none and the others hold it only while they write.
    _begin_on_demand(engine, "BEGIN IMMEDIATE", _begin_writing)
    _forget_durable_at_end(engine)
    return engine


def _durable_begin(connection: Connection, cursor: Any) -> None:
    """PostgreSQL's BEGIN, with ``commit_durably``'s setting in the same round trip: a
    query without parameters goes to the server as written, several statements and all
    (psycopg.org/psycopg3/docs/basic/from_pg2.html, "Multiple statements in the same
    query")."""
    if connection.info.pop(DURABLE, False):
        cursor.execute("BEGIN; SET LOCAL synchronous_commit = on")
    else:
        cursor.execute("BEGIN")


def _forget_durable_at_end(engine: Engine) -> None:
    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _forget_durable(connection: Connection) -> None:
        # Asked of a transaction that wrote nothing. A connection found dropped has no
        # info to clear: it is cleared as the connection is replaced (ManagesConnection.info).
        if not connection.invalidated:
            connection.info.pop(DURABLE, None)


def _begin_on_demand(
    engine: Engine, begin: str, beginning: Callable[[Connection, Any], None]
) -> None:
    """Statements that only read run outside a transaction; one opens just before the
    first that writes or locks rows (``_writes_or_locks``), as ``beginning`` begins it
    on the statement's cursor (``begin``, and what the transaction asked for:
    ``commit_durably``; on SQLite, tried at short intervals: models.write_lock), and
    lasts to the commit or rollback, as ever. A step that changes nothing (a replayed prompt)
    then costs its reads alone: on PostgreSQL no BEGIN and COMMIT round trips around
    them, on SQLite no write lock. The reads before a step's first write lose no
    guarantee by it: under READ COMMITTED, PostgreSQL's default, each statement of a
    transaction sees what was committed before that statement began, as one outside any
    does, and a plain SELECT keeps no row lock (postgresql.org/docs/current/
    transaction-iso.html, "Read Committed Isolation Level"); races are settled by the
    writes and locks, which run inside. ``Database.reading`` and ``migrating`` begin
    theirs at once: one snapshot to read from, a migration's advisory lock to its end.

    That BEGIN is sent inside the statement's own execution, so that its failure is the
    statement's: a dropped connection raises a DBAPIError with ``connection_invalidated``
    as the statement would. after_cursor_execute does not hear of it, so a webhook whose
    BEGIN alone was answered runs once more if its connection is then found dropped
    (``dropped_before_answer``): safe, as it has sent no COMMIT."""

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        if options.get(READING, False):
            connection.exec_driver_sql("BEGIN")  # on SQLite, without the write lock
        elif options.get(WRITING, False):
            connection.exec_driver_sql(begin)

    @event.listens_for(engine, "before_cursor_execute")
    def _begin_before_writes(
        connection: Connection,
        cursor: Any,
        statement: str,
        _parameters: Any,
        context: ExecutionContext | None,
        _executemany: bool,
    ) -> None:
        if context is not None and context.execution_options.get(ALONE, False):
            return  # a write that is its transaction's only statement (models.direct_writes)
        if not in_transaction(connection) and _writes_or_locks(statement, context):
            beginning(connection, cursor)


def _ping_outside_webhooks(engine: Engine) -> None:
    """A connection from the pool is pinged first, so that a restart of PostgreSQL (or a
    connection it or the network dropped meanwhile) costs no request an error: what
    ``pool_pre_ping`` does (docs.sqlalchemy.org/en/20/core/pooling.html, "Disconnect
    Handling - Pessimistic"), at a round trip a request. Webhooks skip it (``unpinged``):
    a read-only one spent a quarter of its round trips on it. They find a dropped
    connection at their first statement instead, which raises with
    ``connection_invalidated`` and has the pool replace its connections ("Disconnect
    Handling - Optimistic"), and run once more (``dropped_before_answer``)."""

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if not pinging():
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            if engine.dialect.is_disconnect(exc, dbapi_connection, None):
                # The pool gets a new connection and replaces the others as they come
                # out, as pool_pre_ping does (PoolEvents.checkout; exc.InvalidatePoolError).
                raise InvalidatePoolError() from exc
            raise

    @event.listens_for(engine, "after_cursor_execute")
    def _answered(*_: Any) -> None:
        if has_app_context():
            g.database_answered = True


def unpinged() -> None:
    """``before_request`` of webhooks: this request's connections come from the pool
    without the ping; it runs once more instead if its first statement finds its
    connection dropped (``dropped_before_answer``, calls.webhooks)."""
    g.database_unpinged = True
    g.database_answered = False


def pinging() -> bool:
    """Whether a connection taken from the pool now is pinged first: outside webhooks."""
    return not (has_app_context() and g.get("database_unpinged", False))


def dropped_before_answer(exc: BaseException) -> bool:
    """Whether ``exc`` is a webhook's pooled PostgreSQL connection found dropped (the
    server restarted, its backend ended, the network reset) before any statement of the
    request had its answer. Nothing of the request can have been applied then: it sent
    no COMMIT, and the server rolls back the transaction of a connection it loses; so
    running it once more, on a new connection, is what the ping would have had it do.
    Once a statement has answered, a COMMIT may have been sent, and may have committed:
    never again then. Nor after a deadline (models.deadline): it closes its connection
    too, so SQLAlchemy invalidates it, but the database was too slow, not gone."""
    return (
        isinstance(exc, DBAPIError)
        and exc.connection_invalidated
        and isinstance(exc.orig, psycopg.Error)
        and not isinstance(exc.orig, deadline.DeadlinePassed)
        and has_app_context()
        and g.get("database_answered", True) is False
    )


# Connection.info key on SQLite (the pooled connection's own dict): the PRAGMA
# synchronous the connection has now (DURABLE, models.transactions: the next write
# transaction commits durably).
_SYNCHRONOUS = "hotline_synchronous"
# Session.info key: this SQLite transaction began at NORMAL and must reach the disk.
_SYNC_LOG = "hotline_sync_log"


def commit_durably(session: Session) -> None:
    """This transaction's commit is on disk before it returns, whatever
    DATABASE_SYNCHRONOUS_COMMIT trades elsewhere: for counts a crash must not forget
    (verification.guard). Called before the transaction's writes, as a rule: then it
    sends nothing, and the transaction begins durably (_durable_begin, at FULL on SQLite)."""
    connection = session.connection()
    if not in_transaction(connection):
        connection.info[DURABLE] = True
    elif connection.dialect.name == "postgresql":
        # Lasts to the end of the transaction (postgresql.org/docs/current/sql-set.html).
        session.execute(text("SET LOCAL synchronous_commit = on"))
    elif connection.info.get(_SYNCHRONOUS) != "FULL":
        session.info[_SYNC_LOG] = True  # already writing at NORMAL: _sync_log after commit


def _sync_log(session: Session) -> None:
    """``after_commit`` on SQLite: a transaction ``commit_durably`` found already begun at
    NORMAL is synced as FULL would have synced it, its write-ahead log to the disk."""
    if session.info.pop(_SYNC_LOG, False):
        database = session.get_bind().engine.url.database or ""
        descriptor = os.open(f"{database}-wal", os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


# What runs without a transaction; anything else (a write, SET LOCAL or SET TRANSACTION,
# a savepoint, DDL) begins one first. On SQLite that BEGIN takes the write lock: a
# deferred BEGIN whose reads then write would have to upgrade, and fails at once when
# another commit came in between (sqlite.org/lang_transaction.html, "SQLITE_BUSY").
_READS = ("SELECT", "PRAGMA", "BEGIN", "COMMIT", "ROLLBACK", "EXPLAIN")


def _writes_or_locks(statement: str, context: ExecutionContext | None) -> bool:
    """Whether a statement must run inside a transaction: it writes, or it is a SELECT
    ... FOR UPDATE, whose row locks last only as long as the transaction (on SQLite they
    stand for the write lock: its compiler leaves the clause out of the SQL, so it is
    read off the statement object)."""
    compiled = getattr(context, "compiled", None)
    if getattr(getattr(compiled, "statement", None), "_for_update_arg", None) is not None:
        return True
    # The first word only: this runs before every statement outside a transaction.
    return not statement.lstrip()[:8].upper().startswith(_READS)


def _bounded_waits(url: str, synchronous_commit: bool) -> dict[str, Any]:
    """libpq settings that bound every wait on PostgreSQL, which has no limits of its own:
    connecting, each statement, each lock, and unacknowledged network writes (a server
    gone silent); and how commits wait for the disk. Any ``options`` the URL already
    carries (a search_path) are kept."""
    milliseconds = WAIT_SECONDS * 1000
    given = make_url(url).query.get("options", ())
    options = " ".join(
        [
            *([given] if isinstance(given, str) else given),
            f"-c statement_timeout={milliseconds}",
            f"-c lock_timeout={milliseconds}",
            *([] if synchronous_commit else ["-c synchronous_commit=off"]),
        ]
    )
    return {
        "connect_timeout": WAIT_SECONDS,
        "tcp_user_timeout": milliseconds,
        "options": options,
    }


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


class SchemaBehind(Exception):
    """The database is not at the newest schema; the message says what to run."""


def current_revision(bind: Engine | Connection) -> str | None:
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            return current_revision(connection)
    return MigrationContext.configure(bind).get_current_revision()


def require_current_schema(bind: Engine | Connection) -> None:
    """For commands that write data: migrating is the server's and ``flask db
    upgrade``'s job, not a side effect of every command. A command that only reads
    passes the connection of its ``Database.reading`` session, which reads one snapshot."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    current = current_revision(bind)
    if current != head:
        raise SchemaBehind(
            f"the database schema is at {current or 'nothing'}, not {head}: run"
            " `flask --app app db upgrade` (the server also migrates when it starts)"
        )


@contextmanager
def migrating(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction for schema changes. On SQLite, foreign keys are
    off meanwhile: Alembic's batch mode copies a table and drops the old one, and with
    them on, dropping ``calls`` would delete (ON DELETE CASCADE) every row that refers to
    it. SQLite only turns them off outside a transaction, and checks them at the end
    (sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema Changes")."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        connection.execution_options(**{WRITING: True})
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")  # type: ignore[union-attr]
        try:
            with connection.begin():
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
                    if broken is not None:
                        raise RuntimeError(f"a migration left a broken foreign key: {broken}")
        finally:
            if sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys = ON")  # type: ignore[union-attr]


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision; a no-op when it is there already."""
    config = alembic_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    with migrating(engine) as connection:
        if engine.dialect.name == "postgresql":
            # A migration may rightly take longer than a webhook's bounded waits, and so may
            # waiting for another server's; both limits are lifted for this transaction only.
            connection.execute(text("SET LOCAL statement_timeout = 0"))
            connection.execute(text("SET LOCAL lock_timeout = 0"))
            # Several servers starting at once must not migrate side by side.
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        current = MigrationContext.configure(connection).get_current_revision()
        if current == head:
            return
        log.info("migrating the database schema from %s to %s", current or "nothing", head)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class Database:
    """The app's engine and session factory, hung on ``app.extensions['db']``."""

    def __init__(self, url: str, *, synchronous_commit: bool = True) -> None:
        self.engine = make_engine(url, synchronous_commit=synchronous_commit)
        # No autoflush: a step's changes to its rows go out together at commit, one
        # UPDATE a row, rather than one at every query (and, on SQLite, the write lock
        # from the first of them to the end of the step). What must see them first, a
        # statement that writes or locks rows, flushes them (_flush_before_writes).
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        event.listen(self.sessions, "do_orm_execute", _flush_before_writes)
        write_directly(self.sessions)  # a step's usual writes, without the unit of work
        if self.engine.dialect.name == "sqlite":
            event.listen(self.sessions, "after_commit", _sync_log)
        self._readers = sessionmaker(self.engine.execution_options(**{READING: True}))
        self.silence = deadline.Silence()

    @contextmanager
    def reading(self, seconds: int = WAIT_SECONDS) -> Iterator[Session]:
        """A session that only reads, all of it from one snapshot of the database, and
        never holds up a webhook: on SQLite it takes no write lock; on PostgreSQL it is
        a read-only REPEATABLE READ transaction whose statements may each take
        ``seconds`` (reports read more than a webhook does)."""
        with self._readers() as session:  # closing rolls back: there is nothing to keep
            if self.engine.dialect.name == "postgresql":
                session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
                session.execute(
                    text("SELECT set_config('statement_timeout', :limit, true)"),
                    {"limit": f"{seconds * 1000}"},
                )
            yield session

    def init_app(self, app: Flask) -> None:
        app.extensions["db"] = self
        app.before_request(_page_deadline)  # webhooks set their own, shorter, after it
        app.teardown_appcontext(_close_session)


def _flush_before_writes(state: ORMExecuteState) -> None:
    """A conditional UPDATE or DELETE, an INSERT, or a SELECT ... FOR UPDATE decides on
    the rows as this step has changed them so far: the step's pending changes go first.
    Plain SELECTs do not flush (autoflush is off). Any write flushes, even one to a
    table the step has not changed: the prompt's turn, a versioned UPDATE, then goes
    out before the lockout guard counts, so that of answers racing to one prompt the
    losers fail before their PIN is tried (tests/verification/test_agent_lockout.py)."""
    if state.is_select:  # most statements: one check, as this runs before every one
        if getattr(state.statement, "_for_update_arg", None) is not None:
            state.session.flush()
    elif state.is_update or state.is_delete or state.is_insert:
        state.session.flush()


def commit_step(session: Session) -> None:
    """Commit what a webhook's step did. A step that changed nothing (a prompt replayed
    to a late or repeated request) has nothing to commit: no change pending in the
    session and no transaction open on the database, as one opens only before a write
    (_begin_on_demand). SQLAlchemy's commit would still run a flush and its events for
    it, several percent of such a webhook's time (bench/load.py's late requests on
    PostgreSQL, sampled with py-spy); the session's close at the request's end ends its
    transaction instead. A row whose attributes were only set to what they were is in
    ``session.dirty`` all the same (SQLAlchemy's "optimistic" list); ``is_modified``
    says whether anything changed."""
    transaction = session.get_transaction()
    if (
        transaction is None
        or session.new
        or session.deleted
        or any(session.is_modified(row) for row in session.dirty)
        or in_transaction(session.connection())
    ):
        session.commit()


def database() -> Database:
    db: Database = current_app.extensions["db"]
    return db


def start_deadline() -> None:
    """This request's database waits on PostgreSQL, all of them, end within
    models.deadline.DEADLINE_SECONDS from now (at once while it is thought silent)."""
    deadline.start(database().silence)


def _page_deadline() -> None:
    """Any request's database waits end within PAGE_DEADLINE_SECONDS: a page (a report,
    the desk's poll) on a hung database then fails in time, instead of holding its worker
    until gunicorn kills it. Its own Silence: a slow page must not make this process's
    webhooks stop trying the database."""
    deadline.start(deadline.Silence(), PAGE_DEADLINE_SECONDS)


def session() -> Session:
    """The session of the current request, opened on first use."""
    if "db_session" not in g:
        g.db_session = database().sessions()
    db_session: Session = g.db_session
    return db_session


def _close_session(_exc: BaseException | None) -> None:
    db_session: Session | None = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()  # rolls back whatever was not committed
