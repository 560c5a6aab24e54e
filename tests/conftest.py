"""Fixtures: settings, an app on SQLite and on PostgreSQL, clients, and the simulated Twilio
(``switch``, ``phone``, ``twilio_api``) that calls it.

PostgreSQL tests run when ``HOTLINE_TEST_POSTGRES_URL`` names a server that
answers (``.ci/run`` sets it); otherwise they are skipped, saying why.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from app import create_app
from models import Base
from models.db import make_engine, normalise_url, upgrade
from settings import Settings
from telephony.simulator import FlaskTransport, Leg, RestStandIn, Switch, hotline_numbers

TOKEN = "test-auth-token"
ACCOUNT_SID = "AC" + "a1" * 16
HOTLINE = "+8640012345678"
BASE_URL = "http://localhost"  # where the Flask test client sends requests
SECRET_KEY = "test-secret-key-of-real-length-32+"
POSTGRES_ENV = "HOTLINE_TEST_POSTGRES_URL"
# A schema of this run's own, so two runs on one server never TRUNCATE each other's.
POSTGRES_SCHEMA = f"hotline_test_{os.getpid()}_{secrets.token_hex(4)}"


@pytest.fixture(autouse=True, scope="session")
def cheap_desk_passwords() -> Iterator[None]:
    """Desk passwords hashed with Argon2's cheapest parameters: each test that loads the
    demo hashes its agents' passwords, which the real parameters make take a second."""
    from verification import passwords

    real, passwords.HASHER = passwords.HASHER, PasswordHasher(1, 8, 1)
    yield
    passwords.HASHER = real


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database, copied for each test (migrating is the slow part)."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (set by .ci/run when a server answers)")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {POSTGRES_SCHEMA}"))
    except Exception as exc:  # noqa: BLE001 - any failure to connect means skip, said clearly
        engine.dispose()
        pytest.skip(f"PostgreSQL at {POSTGRES_ENV} does not answer: {exc}")
    separator = "&" if "?" in url else "?"
    schema_url = f"{url}{separator}options=-csearch_path%3D{POSTGRES_SCHEMA}"
    migrating = make_engine(schema_url)
    upgrade(migrating)
    migrating.dispose()
    yield schema_url
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {POSTGRES_SCHEMA} CASCADE"))
    engine.dispose()


def _empty_postgres(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "hotline.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    _empty_postgres(url)
    return url


@pytest.fixture(scope="session")
def twilio_api_server() -> Iterator[RestStandIn]:
    stand_in = RestStandIn().start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def twilio_api(twilio_api_server: RestStandIn) -> Iterator[RestStandIn]:
    """The REST stand-in, emptied; a test fails if Hotline sent it anything Twilio would refuse."""
    twilio_api_server.reset()
    yield twilio_api_server
    assert twilio_api_server.take_errors() == [], "requests that Twilio's API would refuse"


@pytest.fixture
def settings(database_url: str, twilio_api: RestStandIn, tmp_path: Path) -> Settings:
    # model_validate: these values only, whatever the environment or a .env says.
    return Settings.model_validate(
        {
            "database_url": database_url,
            "twilio_auth_token": TOKEN,
            "twilio_account_sid": ACCOUNT_SID,
            "twilio_api_base_url": twilio_api.base_url,
            "hotline_number": HOTLINE,
            "public_base_url": None,
            "twilio_validate_signatures": True,
            "hotline_secret_key": SECRET_KEY,
            "default_region": "CN",
            "spool_dir": tmp_path / "spool",
        }
    )


# A Tuesday morning in Shanghai: agents answer (tests of other hours set the clock).
OPEN_HOURS = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings)
    app.config["TESTING"] = True
    app.extensions["clock"] = lambda: OPEN_HOURS
    yield app
    app.extensions["db"].engine.dispose()


@pytest.fixture
def engine(app: Flask) -> Engine:
    return app.extensions["db"].engine


@pytest.fixture
def db(database_url: str, app: Flask) -> Iterator[Session]:
    """A session for arranging and checking data, on an engine of its own that holds
    no transaction open (the app's SQLite engine takes the write lock at BEGIN).
    Call ``db.rollback()`` to forget loaded objects before re-reading them."""
    engine = create_engine(normalise_url(database_url), isolation_level="AUTOCOMMIT")
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def demo(runner: FlaskCliRunner) -> None:
    """The shipped demo data set, loaded the way an operator loads it."""
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output


@pytest.fixture
def switch(app: Flask, twilio_api: RestStandIn) -> Switch:
    """The simulated Twilio account: the hotline number and the agent line point at the
    app, and Hotline's REST requests act on it. Anything Twilio would log as an error
    against Hotline fails the test."""
    switch = Switch(
        FlaskTransport(app, BASE_URL),
        account_sid=ACCOUNT_SID,
        auth_token=TOKEN,
        numbers=hotline_numbers(HOTLINE),
        run=0,  # the same SIDs every run: CA000…, QU000…
    )
    twilio_api.connect(switch)
    return switch


@pytest.fixture
def phone(switch: Switch) -> Callable[..., Leg]:
    """``phone(caller)`` is a call from that caller ID to the hotline, to ``dial()``."""

    def call(caller: str = "+8613800138000") -> Leg:
        return switch.caller(caller)

    return call
