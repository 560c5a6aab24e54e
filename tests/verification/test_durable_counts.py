"""DATABASE_SYNCHRONOUS_COMMIT=false trades the last moments of calls' progress in a
crash for speed (issue 12), never a lockout count: a guesser whose counted PINs a crash
forgot would get attempts back. So the guard's transactions commit durably whatever the
setting, on PostgreSQL (synchronous_commit) and on SQLite (PRAGMA synchronous)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from app import create_app
from models import Agent
from models import db as models_db
from settings import Settings
from tests.calls.test_transactions import traced
from tests.conftest import OPEN_HOURS
from verification import guard

LOCK = timedelta(minutes=30)
# What each database says of a commit that waits for the disk, and of one that does not.
DURABLE = {"postgresql": "on", "sqlite": 2}
FAST = {"postgresql": "off", "sqlite": 1}


def level(session: Session) -> object:
    if session.get_bind().dialect.name == "postgresql":
        return session.scalar(text("SHOW synchronous_commit"))
    return session.scalar(text("PRAGMA synchronous"))


@pytest.fixture(params=[True, False], ids=["durable", "fast"])
def app_of_setting(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Flask]:
    update_ = {"database_synchronous_commit": request.param}
    app = create_app(settings.model_copy(update=update_))
    yield app
    app.extensions["db"].engine.dispose()


def test_lockout_counts_commit_durably_whatever_the_setting(app_of_setting: Flask) -> None:
    db = app_of_setting.extensions["db"]
    name = db.engine.dialect.name
    durable = app_of_setting.extensions["settings"].database_synchronous_commit
    with db.sessions() as session:
        session.execute(update(Agent).where(Agent.id == "nobody").values(status="offline"))
        assert level(session) == (DURABLE if durable else FAST)[name]
        session.commit()
        assert guard.reserve_attempt(session, "customer:C1", limit=5, lock_for=LOCK, now=OPEN_HOURS)
        assert level(session) == DURABLE[name]
        session.commit()
        session.execute(update(Agent).where(Agent.id == "nobody").values(status="offline"))
        assert level(session) == (DURABLE if durable else FAST)[name]  # the setting's again
        session.commit()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_count_after_other_writes_still_reaches_the_disk(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transaction that wrote before the guard began at NORMAL, which it cannot leave:
    its write-ahead log is synced after the commit instead."""
    synced: list[int] = []
    monkeypatch.setattr(models_db.os, "fsync", synced.append)
    app = create_app(settings.model_copy(update={"database_synchronous_commit": False}))
    db = app.extensions["db"]
    try:
        with db.sessions() as session:
            session.execute(update(Agent).where(Agent.id == "nobody").values(status="offline"))
            guard.reserve_attempt(session, "customer:C1", limit=5, lock_for=LOCK, now=OPEN_HOURS)
            assert synced == []
            session.commit()
            assert len(synced) == 1
            session.execute(update(Agent).where(Agent.id == "nobody").values(status="offline"))
            session.commit()
            assert len(synced) == 1  # only that transaction
    finally:
        db.engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_durable_count_costs_no_round_trip_of_its_own(
    app_of_setting: Flask, tmp_path: Path
) -> None:
    """The setting goes to PostgreSQL with the BEGIN, in one message; the count is one
    upsert: three round trips with the COMMIT, as any single write takes."""
    db = app_of_setting.extensions["db"]
    with db.sessions() as session, traced(db.engine, tmp_path / "trace") as trace:
        assert guard.reserve_attempt(session, "customer:C1", limit=5, lock_for=LOCK, now=OPEN_HOURS)
        session.commit()
    assert sum("ReadyForQuery" in line for line in trace) == 3, "\n".join(trace)
    assert any("BEGIN; SET LOCAL synchronous_commit = on" in line for line in trace)
