"""Faults a test puts between Twilio and Hotline, or in Hotline's database, for real: a
stopwatch on every webhook, a primary URL that stops answering, a table held locked."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TypeVar

from flask import Flask
from sqlalchemy import Select, create_engine, make_url, select, text
from sqlalchemy.orm import Session

from calls.spool import SpooledRecording
from models import Call, Voicemail
from models.db import normalise_url
from telephony.endpoints import Phone
from telephony.simulator import Leg, Relay, Switch, Transport
from telephony.simulator.webhooks import Reply

T = TypeVar("T")

OVERFLOW = "+8613911112222"
# The longest any webhook may take under a fault: Twilio gives it 15 s, and the
# database's own waits are bounded at 3 s (models.db.WAIT_SECONDS), leaving room for a
# slow test machine. A webhook that waited for the lock itself would take 20 s.
BOUND_SECONDS = 5.0
# How long a held lock would last if the test did not end it sooner.
LOCK_SECONDS = 20


class Stopwatch(Relay):
    """Times every webhook on the wall clock; paths in ``down`` do not answer at all, as
    when the server behind the primary URL is unreachable."""

    def __init__(self, inner: Transport) -> None:
        super().__init__(inner)
        self.timings: list[tuple[str, float]] = []
        self.down: set[str] = set()

    def send(self, method: str, url: str, params: dict[str, str], signature: str) -> Reply:
        if url.split("?")[0].removeprefix(self.base_url) in self.down:
            return Reply(url, None, error="connection refused")
        started = time.monotonic()
        reply = self.inner.send(method, url, params, signature)
        self.timings.append((url, max(reply.seconds, time.monotonic() - started)))
        return reply

    def slow(self) -> list[tuple[str, float]]:
        return [(url, seconds) for url, seconds in self.timings if seconds >= BOUND_SECONDS]


def timed(switch: Switch) -> Stopwatch:
    assert switch.transport is not None
    stopwatch = switch.transport = Stopwatch(switch.transport)
    return stopwatch


def use_overflow(app: Flask) -> None:
    settings = app.extensions["settings"]
    app.extensions["settings"] = settings.model_copy(update={"overflow_number": Phone(OVERFLOW)})


def recording(caller: str, sid: str = "RE" + "7" * 32) -> SpooledRecording:
    """A message for agents as the failure path spools it while the database is down."""
    return SpooledRecording(
        call_sid="CA" + "5" * 32,
        caller=caller,
        called="+8640012345678",
        recording_url=f"https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/{sid}",
        recording_sid=sid,
        duration_seconds=31,
        recorded_at=datetime(2026, 11, 24, 3, 0, tzinfo=UTC),
    )


def heard_apology_and_message_prompt(call: Leg) -> bool:
    return (
        "系统暂时出现问题" in call.text
        and "something went wrong" in call.text
        and "请在提示音后留下您的问题" in call.text
        and call.record_action is not None
        and call.record_action.endswith("/voice/fallback/message")
    )


def voicemail_of(database_url: str, call: Leg) -> Voicemail | None:
    """What an agent's worklist would show."""
    return _read(database_url, select(Voicemail).join(Call).where(Call.call_sid == call.call_sid))


def record_of(database_url: str, call: Leg) -> Call | None:
    """The call's row: its stage, and its turn (one more at each step taken)."""
    return _read(database_url, select(Call).where(Call.call_sid == call.call_sid))


def _read(database_url: str, query: Select[tuple[T]]) -> T | None:
    """Read on a connection of its own, which a fault to Hotline's does not touch."""
    engine = create_engine(normalise_url(database_url))
    try:
        with Session(engine) as session:
            return session.scalars(query).one_or_none()
    finally:
        engine.dispose()


@contextmanager
def held_lock(database_url: str) -> Iterator[None]:
    """Another connection, on a thread of its own, holds the write lock (SQLite) or an
    ACCESS EXCLUSIVE lock on ``calls`` (PostgreSQL) for ``LOCK_SECONDS``, or until the
    block ends."""
    locked, release = threading.Event(), threading.Event()
    url = make_url(normalise_url(database_url))

    def hold() -> None:
        if url.get_backend_name() == "sqlite":
            connection = sqlite3.connect(url.database or "", isolation_level=None)
            connection.execute("BEGIN IMMEDIATE")
            locked.set()
            release.wait(LOCK_SECONDS)
            connection.rollback()
            connection.close()
            return
        engine = create_engine(url)
        with engine.connect() as connection:
            connection.execute(text("LOCK TABLE calls IN ACCESS EXCLUSIVE MODE"))
            locked.set()
            release.wait(LOCK_SECONDS)
            connection.rollback()
        engine.dispose()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert locked.wait(10), "the lock was not taken"
    try:
        yield
    finally:
        release.set()
        holder.join(LOCK_SECONDS + 5)


@contextmanager
def broken_table(app: Flask, table: str = "call_events") -> Iterator[None]:
    """A fault inside Hotline: a table it writes is gone while the block runs."""
    engine = app.extensions["db"].engine
    with engine.begin() as connection:
        connection.execute(text(f"ALTER TABLE {table} RENAME TO {table}_away"))
    try:
        yield
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE {table}_away RENAME TO {table}"))
