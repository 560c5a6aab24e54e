"""SQLite's write lock, asked for again at short intervals while another connection holds it.

A step takes the lock with ``BEGIN IMMEDIATE`` just before its first write and holds it
to its commit: well under a millisecond. SQLite's own busy handler (the ``timeout``
models.db connects with) sleeps 1, 2, 5, 10, 15 ms and longer between its tries
(``sqliteDefaultBusyCallback`` in SQLite's src/main.c), so a writer that found the lock
held slept longer than it stayed held: under bench/load.py each gunicorn worker spent
about a tenth of its time asleep there, with the CPU idle. ``take`` asks again after
0.1 ms, then at most every millisecond, for as long as the busy handler would have
waited; then it fails as before, with SQLite's "database is locked".
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from itertools import chain, repeat
from typing import Any

# Seconds between tries: short while the lock is likely about to be released.
PAUSES = (0.0001, 0.0002, 0.0005, 0.001)


def take(
    cursor: Any,
    seconds: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """``BEGIN IMMEDIATE`` on ``cursor`` (a sqlite3 cursor), tried until it gets the lock
    or ``seconds`` have passed. The connection's busy timeout is off meanwhile, so that
    SQLite's handler does not sleep inside a try, and is ``seconds`` again after."""
    cursor.execute("PRAGMA busy_timeout = 0")
    try:
        until = clock() + seconds
        for pause in chain(PAUSES, repeat(PAUSES[-1])):
            try:
                cursor.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                # Any kind of busy (the low byte: SQLITE_BUSY_RECOVERY too) waits;
                # any other error is the statement's (sqlite.org/rescode.html).
                busy = (exc.sqlite_errorcode & 0xFF) == sqlite3.SQLITE_BUSY
                if not busy or clock() + pause > until:
                    raise
            sleep(pause)
    finally:
        cursor.execute(f"PRAGMA busy_timeout = {round(seconds * 1000)}")
