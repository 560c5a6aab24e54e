"""The database refusing connections mid-call, for real (issue 8, point 2): a PostgreSQL
database of this test's own that stops accepting connections, its sessions ended. The
caller hears the apology, then OVERFLOW_NUMBER or a message that reaches the database
once it accepts connections again; the Fallback URL answers without it."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from models.db import make_engine, normalise_url, upgrade
from telephony.simulator import NoAnswer, Switch
from tests.calls.faults import (
    OVERFLOW,
    heard_apology_and_message_prompt,
    timed,
    use_overflow,
    voicemail_of,
)
from tests.conftest import POSTGRES_ENV

CALLER = "+8613700137000"


@dataclass
class OwnDatabase:
    admin: Engine  # on the server's maintenance database, never on this one
    name: str
    url: str

    def refuse(self) -> None:
        """No new connections, even a superuser's, and the open ones ended."""
        with self.admin.connect() as connection:
            connection.execute(text(f"ALTER DATABASE {self.name} ALLOW_CONNECTIONS false"))
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": self.name},
            )

    def accept(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f"ALTER DATABASE {self.name} ALLOW_CONNECTIONS true"))


@pytest.fixture
def own_database() -> Iterator[OwnDatabase]:
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        pytest.skip(f"the outage tests need PostgreSQL at {POSTGRES_ENV}")
    admin = create_engine(normalise_url(server), isolation_level="AUTOCOMMIT")
    name = f"hotline_outage_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
    except Exception as exc:  # noqa: BLE001 - any failure to connect means skip, said clearly
        admin.dispose()
        pytest.skip(f"PostgreSQL at {POSTGRES_ENV} does not answer: {exc}")
    url = make_url(normalise_url(server)).set(database=name).render_as_string(False)
    migrating = make_engine(url)
    upgrade(migrating)
    migrating.dispose()
    database = OwnDatabase(admin, name, url)
    yield database
    database.accept()
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def database_url(own_database: OwnDatabase) -> str:
    """Every fixture of conftest (the app, the simulated Twilio) on this database."""
    return own_database.url


def test_the_database_refusing_connections_mid_call_the_message_reaches_it_after(
    phone, switch: Switch, own_database: OwnDatabase
) -> None:
    stopwatch = timed(switch)
    call = phone(CALLER).dial()
    own_database.refuse()
    call.press("1")
    assert heard_apology_and_message_prompt(call)
    call.leave_message(duration=40)
    assert "您的留言已收到" in call.text and "we have your message" in call.text
    assert call.hung_up and switch.errors == [] and stopwatch.slow() == []
    own_database.accept()
    assert voicemail_of(own_database.url, call) is None  # spooled, not yet replayed
    phone("+8613700137001").dial()  # the first webhook that reaches the database again
    voicemail = voicemail_of(own_database.url, call)
    assert voicemail is not None and voicemail.duration_seconds == 40


def test_the_database_refusing_connections_the_caller_is_put_through_to_the_overflow(
    app, phone, switch: Switch, own_database: OwnDatabase
) -> None:
    use_overflow(app)
    call = phone(CALLER).dial()
    own_database.refuse()
    call.press("2")
    assert "正在为您转接客服人员" in call.text
    desk = switch.phone(OVERFLOW).call
    assert desk is not None and desk.live and call.live


def test_the_overflow_not_answering_while_the_database_refuses_leaves_a_message(
    app, phone, switch: Switch, own_database: OwnDatabase
) -> None:
    use_overflow(app)
    switch.phone(OVERFLOW).behaviour = NoAnswer()
    call = phone(CALLER).dial()
    own_database.refuse()
    call.press("2")
    assert heard_apology_and_message_prompt(call)
    call.leave_message(duration=12)
    assert "您的留言已收到" in call.text
    own_database.accept()
    phone("+8613700137001").dial()
    assert voicemail_of(own_database.url, call) is not None


def test_the_fallback_url_answers_without_the_database(
    phone, switch: Switch, own_database: OwnDatabase
) -> None:
    stopwatch = timed(switch)
    stopwatch.down.add("/voice/language")  # the primary stops answering as well
    switch.strict = False  # Twilio logs that failure, then asks the Fallback URL
    call = phone(CALLER).dial()
    own_database.refuse()
    call.press("1")
    assert heard_apology_and_message_prompt(call)
    assert [error[:5] for error in switch.errors] == ["11200"]
    call.leave_message(duration=8)
    assert "您的留言已收到" in call.text
    own_database.accept()
    phone("+8613700137001").dial()
    assert voicemail_of(own_database.url, call) is not None
