"""On SQLite, a writer that finds the write lock held asks again within a millisecond
(models.write_lock), so a webhook waits about as long as the lock stays held, not the
busy handler's 1 to 100 ms sleeps; and it still gives up, with SQLite's own error, once
the time a busy handler would have waited has passed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from models import write_lock


@pytest.fixture
def connections(tmp_path: Path) -> Iterator[tuple[sqlite3.Connection, sqlite3.Connection]]:
    """A holder and a waiter on one database in WAL mode, as models.db opens them."""
    path = tmp_path / "lock.db"
    holder = sqlite3.connect(path, isolation_level=None, timeout=3)
    holder.execute("PRAGMA journal_mode = WAL")
    waiter = sqlite3.connect(path, isolation_level=None, timeout=3)
    yield holder, waiter
    holder.close()
    waiter.close()


def test_a_writer_gets_the_lock_at_its_next_short_pause_once_it_is_released(connections) -> None:
    holder, waiter = connections
    holder.execute("BEGIN IMMEDIATE")
    paused: list[float] = []

    def sleep(seconds: float) -> None:
        paused.append(seconds)
        if len(paused) == 5:
            holder.execute("COMMIT")  # the other step commits while this one waits

    write_lock.take(waiter.cursor(), 3, sleep=sleep)
    assert waiter.in_transaction  # it holds the lock now
    assert len(paused) == 5 and max(paused) <= 0.001
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        holder.execute("BEGIN IMMEDIATE")  # and it is the one writer
    assert waiter.execute("PRAGMA busy_timeout").fetchone() == (3000,)


def test_a_lock_held_throughout_fails_as_the_busy_handler_would_after_the_time(
    connections,
) -> None:
    holder, waiter = connections
    holder.execute("BEGIN IMMEDIATE")
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        write_lock.take(waiter.cursor(), 0.5, sleep=sleep, clock=lambda: now[0])
    assert 0.499 <= now[0] <= 0.5  # it waited the whole time, and no longer
    assert not waiter.in_transaction
    # The connection's own busy timeout is back for every other statement.
    assert waiter.execute("PRAGMA busy_timeout").fetchone() == (500,)


def test_an_error_other_than_a_busy_database_is_not_retried(connections) -> None:
    _, waiter = connections
    waiter.execute("BEGIN")  # a transaction already open: BEGIN fails at once
    paused: list[float] = []
    with pytest.raises(sqlite3.OperationalError, match="within a transaction"):
        write_lock.take(waiter.cursor(), 3, sleep=paused.append)
    assert paused == []
