"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    CheckConstraint,
    Column,
    Engine,
    MetaData,
    String,
    Table,
    bindparam,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateIndex

from models import Base, Call, VerificationGuard, Voicemail
from models.agents import AgentStage
from models.base import NAMING_CONVENTION, UTCDateTime, check_in
from models.calls import CallStage
from models.db import alembic_config, make_engine, migrating, upgrade
from models.queueing import FollowUpStatus
from verification import guard


# SQLAlchemy reflects no index on an expression from SQLite: the indexes in turn are
# compared by their SQL instead (test_0018_...).
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_migrated_database_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_upgrade_is_a_no_op_when_current(engine: Engine) -> None:
    upgrade(engine)
    upgrade(engine)
    assert "calls" in inspect(engine).get_table_names()


def test_first_start_creates_and_migrates_a_fresh_sqlite_file(tmp_path, settings) -> None:  # noqa: ANN001
    from app import create_server

    path = tmp_path / "fresh.db"
    app = create_server(settings.model_copy(update={"database_url": f"sqlite:///{path}"}))
    assert path.exists()
    assert set(Base.metadata.tables) <= set(inspect(app.extensions["db"].engine).get_table_names())
    app.extensions["db"].engine.dispose()


# --- CHECK constraints: the database keeps to the values the models use ----------------

Checks = dict[tuple[str, str], tuple[str, frozenset[str]]]
# A CHECK as written (``stage IN ('a', 'b')``) or as PostgreSQL gives it back
# (``(stage)::text = ANY ((ARRAY['a'::character varying, ...])::text[])``).
CHECK_IN = re.compile(
    r"\(*(?P<column>\w+)\)?(?:::[a-z ]+?)?\s*(?:IN\s*\(|=\s*ANY\s*\(+\s*ARRAY\[)(?P<values>.*)",
    re.IGNORECASE | re.DOTALL,
)
QUOTED = re.compile(r"'((?:[^']|'')*)'")


def allowed(sqltext: str) -> tuple[str, frozenset[str]]:
    """The column a CHECK constrains and the values it allows."""
    match = CHECK_IN.fullmatch(" ".join(sqltext.replace('"', "").split()))
    assert match is not None, f"not a CHECK of allowed values: {sqltext}"
    values = frozenset(v.replace("''", "'") for v in QUOTED.findall(match["values"]))
    assert values, f"no values in {sqltext}"
    return match["column"], values


def database_checks(engine: Engine) -> Checks:
    inspector = inspect(engine)
    return {
        (table, check["name"]): allowed(check["sqltext"])
        for table in inspector.get_table_names()
        for check in inspector.get_check_constraints(table)
    }


def model_checks(metadata: MetaData) -> Checks:
    return {
        (table.name, str(check.name)): allowed(str(check.sqltext))
        for table in metadata.sorted_tables
        for check in table.constraints
        if isinstance(check, CheckConstraint)
    }


def test_the_databases_checks_allow_exactly_the_models_values(engine: Engine) -> None:
    models = model_checks(Base.metadata)
    assert models[("calls", "ck_calls_stage")] == ("stage", frozenset(CallStage))
    assert models[("agent_calls", "ck_agent_calls_stage")] == ("stage", frozenset(AgentStage))
    assert database_checks(engine) == models


def test_a_stage_the_database_refuses_is_caught(engine: Engine) -> None:
    drifted = MetaData(naming_convention=NAMING_CONVENTION)
    Table(
        "calls",
        drifted,
        Column("stage", String(16)),
        CheckConstraint(check_in("stage", [*CallStage, "on_hold"]), name="stage"),
    )
    models = model_checks(Base.metadata) | model_checks(drifted)
    assert database_checks(engine) != models
    # What the comparison saves us from: a call at the new stage cannot be saved.
    insert = text(
        "INSERT INTO calls (call_sid, stage, started_at, claimed_by_caller_id, verified,"
        " verification_failures, menu_misses, turn, version)"
        " VALUES (:sid, :stage, :now, false, false, 0, 0, 0, 1)"
    ).bindparams(bindparam("now", type_=UTCDateTime()))
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(insert, {"sid": "CA-ended", "stage": "ended", "now": now})
    with pytest.raises(IntegrityError, match="ck_calls_stage"), engine.begin() as connection:
        connection.execute(insert, {"sid": "CA-on-hold", "stage": "on_hold", "now": now})


# --- 0005: lockouts survive the change of key ------------------------------------------

LOCKED_UNTIL = datetime(2026, 11, 24, 3, 0)  # naive UTC, as SQLite keeps it


def migrate(engine: Engine, step: Callable[[Config, str], None], revision: str) -> None:
    """Run an Alembic command on Hotline's connection, as models.db does."""
    config = alembic_config()
    with migrating(engine) as connection:
        config.attributes["connection"] = connection
        step(config, revision)


def guards(engine: Engine, key: str) -> set[tuple[str, int, datetime | None]]:
    table = Table("verification_guards", MetaData(), autoload_with=engine)
    with engine.connect() as connection:
        rows = connection.execute(
            select(table.c[key], table.c.consecutive_failures, table.c.locked_until)
        )
        return {(row[0], row[1], row[2]) for row in rows}


def test_0005_keeps_live_lockouts_both_ways(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'guards.db'}")
    upgrade(engine)
    migrate(engine, command.downgrade, "0004")
    old = MetaData()
    old.reflect(engine, only=["customers", "verification_guards"])
    with engine.begin() as connection:
        for number, customer_id in enumerate(("C1", "C2")):
            connection.execute(
                old.tables["customers"].insert(),
                {
                    "id": customer_id,
                    "name": "Test",
                    "phone": f"+861380013800{number}",
                    "language": "zh",
                    "status": "active",
                    "updated_at": LOCKED_UNTIL,
                },
            )
        connection.execute(
            old.tables["verification_guards"].insert(),
            [
                {"customer_id": "C1", "consecutive_failures": 5, "locked_until": LOCKED_UNTIL},
                {"customer_id": "C2", "consecutive_failures": 3, "locked_until": None},
            ],
        )

    migrate(engine, command.upgrade, "head")
    assert guards(engine, "subject") == {
        ("customer:C1", 5, LOCKED_UNTIL),
        ("customer:C2", 3, None),
    }
    with Session(engine) as session:
        during = LOCKED_UNTIL.replace(tzinfo=UTC) - timedelta(minutes=1)
        assert guard.is_locked(session, guard.customer("C1"), during)
        session.add(VerificationGuard(subject=guard.agent("A01"), consecutive_failures=2))
        session.commit()

    migrate(engine, command.downgrade, "0004")
    assert guards(engine, "customer_id") == {("C1", 5, LOCKED_UNTIL), ("C2", 3, None)}
    engine.dispose()


# --- 0011: voicemails as work ---------------------------------------------------------


def test_0011_keeps_voicemails_both_ways(engine: Engine) -> None:
    """Down to 0010 and up again on this test's database (SQLite or PostgreSQL): the
    voicemail stays, and comes back as nobody's work, open."""
    now = datetime.now(UTC)
    with Session(engine) as session:
        call = Call(call_sid="CA-vm", started_at=now, stage=CallStage.ENDED)
        session.add(call)
        session.flush()
        session.add(
            Voicemail(
                call_id=call.id,
                language="zh",
                topic="funds",
                recording_url="https://api.twilio.com/x",
                status=FollowUpStatus.OPEN,
                created_at=now,
                taken_at=now,
            )
        )
        session.commit()
    try:
        migrate(engine, command.downgrade, "0010")
        columns = {column["name"] for column in inspect(engine).get_columns("voicemails")}
        assert columns.isdisjoint({"taken_by", "taken_at", "done_by", "done_at"})
    finally:
        migrate(engine, command.upgrade, "head")
    with Session(engine) as session:
        [voicemail] = session.scalars(select(Voicemail)).all()
        assert (voicemail.topic, voicemail.taken_by, voicemail.taken_at) == ("funds", None, None)


# --- 0012: callbacks under way go back to the schema before them ------------------------


def test_0012_upgrades_and_downgrades_with_callbacks_in_every_state(engine: Engine) -> None:
    at = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    insert_call = text(
        "INSERT INTO calls (call_sid, stage, started_at, claimed_by_caller_id, verified,"
        " verification_failures, menu_misses, turn, version)"
        " VALUES (:sid, :stage, :now, false, false, 0, 0, 0, 1)"
    ).bindparams(bindparam("now", type_=UTCDateTime()))
    insert_callback = text(
        "INSERT INTO callback_requests (call_id, number, language, topic, status, created_at)"
        " VALUES (:call, '+8613012345601', 'zh', 'general', :status, :now)"
    ).bindparams(bindparam("now", type_=UTCDateTime()))
    try:
        migrate(engine, command.downgrade, "0011")
        with engine.begin() as connection:
            connection.execute(insert_call, {"sid": "CA-old", "stage": "ended", "now": at})
            call = connection.execute(text("SELECT id FROM calls")).scalar_one()
            connection.execute(insert_callback, {"call": call, "status": "open", "now": at})
        migrate(engine, command.upgrade, "head")
        with engine.begin() as connection:
            # Rows made before 0012 are open callbacks with no attempt yet.
            assert connection.execute(
                text("SELECT status, attempts FROM callback_requests")
            ).one() == ("open", 0)
            connection.execute(insert_call, {"sid": "CA-back", "stage": "callback", "now": at})
            connection.execute(insert_callback, {"call": call, "status": "calling", "now": at})
            connection.execute(insert_callback, {"call": call, "status": "unreachable", "now": at})
        migrate(engine, command.downgrade, "0011")
        with engine.connect() as connection:
            statuses = connection.execute(
                text("SELECT status FROM callback_requests ORDER BY id")
            ).scalars()
            assert list(statuses) == ["open", "open", "done"]
            assert (
                connection.execute(
                    text("SELECT stage FROM calls WHERE call_sid = 'CA-back'")
                ).scalar_one()
                == "ended"
            )
    finally:
        migrate(engine, command.upgrade, "head")
    assert database_checks(engine) == model_checks(Base.metadata)


# --- 0013: endpoints, desk passwords, breaks, notes and dispositions --------------------


def test_0013_keeps_agents_both_ways_and_a_break_becomes_offline(engine: Engine) -> None:
    """An agent on a break is offline for the schema before 0013; the agent, their
    endpoint-less phone and PIN survive the round trip."""
    at = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
    insert_agent = text(
        "INSERT INTO agents (id, name, phone, pin_hash, skills, languages, status,"
        " status_since) VALUES (:id, 'Lina', :phone, 'h', '[]', '[\"zh\"]', :status, :now)"
    ).bindparams(bindparam("now", type_=UTCDateTime()))
    with engine.begin() as connection:
        connection.execute(
            insert_agent, {"id": "A-break", "phone": "+8613900000091", "status": "break", "now": at}
        )
    try:
        migrate(engine, command.downgrade, "0012")
        columns = {column["name"] for column in inspect(engine).get_columns("agents")}
        assert columns.isdisjoint({"endpoint", "password_hash"})
        with engine.connect() as connection:
            assert (
                connection.execute(
                    text("SELECT status FROM agents WHERE id = 'A-break'")
                ).scalar_one()
                == "offline"
            )
    finally:
        migrate(engine, command.upgrade, "head")
    with engine.connect() as connection:
        assert connection.execute(
            text("SELECT phone, endpoint, password_hash FROM agents WHERE id = 'A-break'")
        ).one() == ("+8613900000091", None, None)
    assert database_checks(engine) == model_checks(Base.metadata)


# --- 0015: agents' status history ------------------------------------------------------


def test_0015_begins_each_agents_history_with_their_status_as_it_stands(engine: Engine) -> None:
    """An agent signed in when Hotline is upgraded is not read as offline until their
    next change: the history starts with their status since ``status_since``."""
    at = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)
    migrate(engine, command.downgrade, "0014")
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO agents (id, name, phone, pin_hash, skills, languages, status,"
                    " status_since) VALUES ('A-on', 'Lina', '+8613900000092', 'h', '[]',"
                    " '[\"zh\"]', 'wrap_up', :now)"
                ).bindparams(bindparam("now", type_=UTCDateTime())),
                {"now": at},
            )
    finally:
        migrate(engine, command.upgrade, "head")
    history = text("SELECT agent_id, status, at FROM agent_status_changes").columns(
        at=UTCDateTime()
    )
    with engine.connect() as connection:
        assert connection.execute(history).all() == [("A-on", "wrap_up", at)]


# --- 0016: claims without foreign keys --------------------------------------------------


def test_0016_goes_back_with_the_claims_of_a_customer_deleted_by_hand(engine: Engine) -> None:
    """Without the keys, a customer deleted by hand leaves their id in the calls that
    claimed them and in their attempts; going back to 0015 does what the keys' ON DELETE
    did (SET NULL, CASCADE), so that the keys can be made again, and keeps the rest."""
    now = {"now": datetime(2026, 12, 8, 2, 0, tzinfo=UTC)}
    statements = [
        "INSERT INTO customers (id, name, phone, language, status, updated_at) VALUES"
        " ('C-kept', 'Kept', '+8613800000001', 'zh', 'active', :now),"
        " ('C-gone', 'Gone', '+8613800000002', 'zh', 'active', :now)",
        "INSERT INTO calls (call_sid, stage, started_at, claimed_customer_id,"
        " claimed_by_caller_id, verified, verification_failures, menu_misses, turn, version)"
        " VALUES ('CA-kept', 'secret', :now, 'C-kept', false, false, 0, 0, 0, 1),"
        " ('CA-gone', 'secret', :now, 'C-gone', false, false, 0, 0, 0, 1)",
        "INSERT INTO verification_attempts (call_id, customer_id, method, outcome, at)"
        " SELECT id, claimed_customer_id, 'pin', 'failure', :now FROM calls",
    ]
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(
                text(statement).bindparams(bindparam("now", type_=UTCDateTime())), now
            )
        connection.execute(text("DELETE FROM customers WHERE id = 'C-gone'"))
    try:
        migrate(engine, command.downgrade, "0015")
        with engine.connect() as connection:
            claims = connection.execute(
                text("SELECT call_sid, claimed_customer_id FROM calls ORDER BY call_sid")
            ).all()
            attempts = connection.execute(text("SELECT customer_id FROM verification_attempts"))
            assert (claims, attempts.scalars().all()) == (
                [("CA-gone", None), ("CA-kept", "C-kept")],
                ["C-kept"],
            )
        for table, column in (
            ("calls", "claimed_customer_id"),
            ("verification_attempts", "customer_id"),
        ):
            keys = inspect(engine).get_foreign_keys(table)
            assert [
                key["referred_table"] for key in keys if key["constrained_columns"] == [column]
            ] == ["customers"]
    finally:
        migrate(engine, command.upgrade, "head")
    keys = inspect(engine).get_foreign_keys("calls")
    assert not [key for key in keys if key["constrained_columns"] == ["claimed_customer_id"]]


# --- 0017, 0018: the waiting work's partial indexes --------------------------------------


def written(sql: str) -> str:
    """An index's definition after ON, without what each database adds or drops when it
    keeps it: PostgreSQL's schema, access method, casts, parentheses and capitals; quotes."""
    sql = re.sub(r"::text|^\w+\.|USING btree |'", "", sql.split(" ON ", 1)[1])
    return " ".join(re.sub(r"[()]", " ", sql).split()).replace(" ,", ",").lower()


def partial_indexes(
    engine: Engine, tables: tuple[str, ...] = ("calls", "callback_requests")
) -> dict[str, str]:
    """The partial indexes on ``tables``, with their keys and the rows they hold, as the
    database keeps them (SQLAlchemy reflects none on an expression from SQLite)."""
    catalog = (
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        " AND tbl_name IN :tables"
        if engine.dialect.name == "sqlite"
        else "SELECT indexname, indexdef FROM pg_indexes"
        " WHERE schemaname = current_schema() AND tablename IN :tables"
    )
    query = text(catalog).bindparams(bindparam("tables", expanding=True))
    with engine.connect() as connection:
        found = connection.execute(query, {"tables": list(tables)}).all()
    return {name: written(sql) for name, sql in found if " WHERE " in sql}


def model_partial_indexes(engine: Engine, tables: tuple[str, ...]) -> dict[str, str]:
    return {
        str(index.name): written(str(CreateIndex(index).compile(dialect=engine.dialect)))
        for table in tables
        for index in Base.metadata.tables[table].indexes
        if index.dialect_options[engine.dialect.name].get("where") is not None
    }


def test_0017_indexes_only_the_waiting_callers_and_open_callbacks_both_ways(
    engine: Engine,
) -> None:
    """Agents taking the next caller and the wait document read an index of the callers
    waiting now and of the open callbacks, not every call ever made; 0016 had none."""
    try:
        migrate(engine, command.downgrade, "0016")
        assert partial_indexes(engine) == {}
        migrate(engine, command.upgrade, "0017")
        assert partial_indexes(engine) == {
            "ix_calls_waiting": "calls queued_at where stage = queued",
            "ix_callback_requests_open": "callback_requests due_at where status = open",
        }
    finally:
        migrate(engine, command.upgrade, "head")


def test_0018_indexes_the_waiting_work_in_turn_as_the_models_say_both_ways(
    engine: Engine,
) -> None:
    """The next caller and the next callback are read off an index in the order agents
    take them (urgent first, then the longest waiting): the migration's indexes are the
    models', key for key, on both databases; 0017's went back and forth with them."""
    models = model_partial_indexes(engine, ("calls", "callback_requests"))
    assert models == {
        "ix_calls_in_turn": "calls queue = urgent desc, queued_at, id where stage = queued",
        "ix_callback_requests_in_turn": "callback_requests topic = urgent desc,"
        " coalesce queued_at, created_at, id where status = open",
    }
    assert partial_indexes(engine) == models
    try:
        migrate(engine, command.downgrade, "0017")
        assert set(partial_indexes(engine)) == {"ix_calls_waiting", "ix_callback_requests_open"}
    finally:
        migrate(engine, command.upgrade, "head")
    assert partial_indexes(engine) == models


# --- 0020, 0021: the open voicemails' and the texted codes' partial indexes -----------


@pytest.mark.parametrize(
    ("before", "table", "index"),
    [
        # The desk's list of voicemails to call back, in the order agents take them.
        (
            "0019",
            "voicemails",
            {
                "ix_voicemails_in_turn": "voicemails topic = urgent desc, created_at, id"
                " where status = open"
            },
        ),
        # The daily cap per caller ID, which counts the day's texted codes.
        (
            "0020",
            "call_events",
            {"ix_call_events_sms_sent": "call_events at where kind = verification.sms_sent"},
        ),
    ],
)
def test_0020_0021_index_only_the_rows_read_as_the_models_say_both_ways(
    engine: Engine, before: str, table: str, index: dict[str, str]
) -> None:
    """Read off an index of the few rows asked for, not every row ever written: the
    migration's index is the models', key for key and rows held, on both databases."""
    tables = (table,)
    models = model_partial_indexes(engine, tables)
    assert models == index
    assert partial_indexes(engine, tables) == models
    try:
        migrate(engine, command.downgrade, before)
        assert partial_indexes(engine, tables) == {}
    finally:
        migrate(engine, command.upgrade, "head")
    assert partial_indexes(engine, tables) == models
