"""Engine, per-request sessions and schema migration for the Flask app."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app, g
from sqlalchemy import (
    Connection,
    CursorResult,
    Engine,
    Executable,
    create_engine,
    event,
    make_url,
    text,
)
from sqlalchemy.orm import Session, sessionmaker

from models import deadline

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


def changed(session: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE and say how many rows it changed: the conditional
    updates that settle races read this."""
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount


def normalise_url(url: str) -> str:
    """Accept the usual ``postgresql://`` URLs and use the psycopg 3 driver we ship."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if make_url(url).get_backend_name() != "sqlite":
        engine = create_engine(
            url,
            pool_pre_ping=True,
            pool_timeout=WAIT_SECONDS,
            connect_args=_bounded_waits(url),
        )
        deadline.bound(engine)  # a webhook's waits, all together, end by its deadline
        return engine
    # SQLite: a held write lock makes BEGIN IMMEDIATE wait this long, then fail.
    engine = create_engine(url, connect_args={"timeout": WAIT_SECONDS})

    # SQLite: take the write lock when a transaction begins, so concurrent
    # requests queue up instead of failing on a read-then-write upgrade.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A session that only reads (Database.reading) needs no write lock: in WAL mode
        # its deferred BEGIN reads one snapshot while webhooks go on writing.
        reading = connection.get_execution_options().get(READING, False)
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

    return engine


def _bounded_waits(url: str) -> dict[str, Any]:
    """libpq settings that bound every wait on PostgreSQL, which has no limits of its own:
    connecting, each statement, each lock, and unacknowledged network writes (a server
    gone silent). Any ``options`` the URL already carries (a search_path) are kept."""
    milliseconds = WAIT_SECONDS * 1000
    given = make_url(url).query.get("options", ())
    options = " ".join(
        [
            *([given] if isinstance(given, str) else given),
            f"-c statement_timeout={milliseconds}",
            f"-c lock_timeout={milliseconds}",
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
    passes the connection of its ``Database.reading`` session: a new connection of the
    engine would take SQLite's write lock."""
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

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
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
