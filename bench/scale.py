"""Hotline's cost per webhook on small and on large data, as ratios measured in one run.

Each run builds two databases that differ only in one kind of data, on SQLite and on a
PostgreSQL cluster the run creates (a database of its own for each):

- customers: 1,000 against 1,000,000 (with accounts and PIN hashes, as bench/load.py
  makes them);
- call history: 10,000 against 1,000,000 ended calls spread over past days, each with
  its events (and every tenth with a callback done);
- waiting, one queue: 1 caller against 1,000 waiting in the played calls' queue;
- waiting, across queues: 1 caller against 1,000 spread over the flow's queues.

Then ``--calls`` whole calls of bench/load.py's recipe (greeting to the hang-up in the
queue, ten signed webhooks, each call its own CallSid and customer) are played through
Flask's test client in this process, alternately into the small and the large database,
and each webhook is timed; so is an agent taking the next caller
(queueing.routing.next_caller, the function itself, rolled back each time; on the two
databases by turns, a tenth of ``--calls`` at a time). Printed for
each run and database: p50 and p99 on the small and on the large data and their ratio,
for every webhook, the wait document (callers ahead and expected wait) alone, and the
next caller; and how many calls were served (every webhook answered 200 with TwiML and
the call's row ended as the recipe's). Targets, printed, not asserted: the large data
within 1.2x of the small. Compare ratios, not times.

Then the query plans (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL) of every
statement one more played call and the next caller ran on each run's large database:
those that read a large table whole are listed; ``--explain`` prints every plan.

    .venv/bin/python bench/scale.py [--calls 300] [--quick] [--sqlite-only] [--explain]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Engine, Table, create_engine, event, insert, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_server  # noqa: E402
from bench.calls import (  # noqa: E402
    HOTLINE,
    Recipe,
    add_customers,
    ending,
    post,
    prepared,
    recipe,
    settings_of,
)
from models import Agent, Base, Call, CallbackRequest, CallEvent  # noqa: E402
from models.calls import CallStage  # noqa: E402
from models.db import normalise_url  # noqa: E402
from models.queueing import CallbackStatus  # noqa: E402
from queueing.routing import next_caller  # noqa: E402
from settings import Settings  # noqa: E402
from tests.clusters import Cluster  # noqa: E402

PUBLIC = "http://127.0.0.1"
DATA = 10_000_000  # the data set's customers are numbered from here,
PLAYED = 90_000_000  # the played calls' from here (bench.calls.phone_of)
AGENT = "A01"  # a demo agent who takes every queue the flow has, in Chinese
# Several of the events a call of the recipe records.
EVENTS = [
    ("call.started", {"caller_id": "known"}),
    ("verification.verified", {"method": "pin", "via": "caller_id"}),
    ("menu.chosen", {"menu": "main", "key": "0"}),
    ("queue.entered", {"queue": "general", "menu": "main"}),
    ("call.ended", {"status": "completed", "seconds": 300}),
]
QUEUES = ["general", "urgent", "account", "funds", "transactions", "guides"]
TARGET = 1.2
QUICK_LARGE = 50_000  # --quick's million
CHUNK = 20_000


STARTED = time.monotonic()


def progress(message: str) -> None:
    print(f"scale {time.monotonic() - STARTED:5.0f} s: {message}", file=sys.stderr, flush=True)


# --- the data ----------------------------------------------------------------------------


def bulk(engine: Engine, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """``rows`` into ``table``: PostgreSQL's COPY (psycopg's ``cursor.copy``), else one
    executemany of SQLAlchemy Core's ``insert``."""
    if not rows:
        return
    with engine.begin() as connection:
        if engine.dialect.name != "postgresql":
            connection.execute(insert(table), list(rows))
            return
        columns = list(rows[0])
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([_copied(row[column]) for column in columns])


def _copied(value: Any) -> Any:
    """What COPY is given for a value Core would have bound: JSON as its text."""
    if isinstance(value, dict):
        return json.dumps(value)
    return value


def add_many_customers(engine: Engine, count: int) -> None:
    """bench/load.py's customers, a chunk at a time, numbered past the demo's phones."""
    numbers = range(DATA, DATA + count)
    for start in range(0, count, CHUNK * 5):
        add_customers(engine, numbers[start : start + CHUNK * 5])
        progress(f"  {min(start + CHUNK * 5, count):,} of {count:,} customers")


def add_history(engine: Engine, count: int) -> None:
    """``count`` ended calls, one every few minutes back from now over as many days as
    that takes, half of them answered by an agent, each with the recipe's first events,
    and every tenth with a callback that was done."""
    now = datetime.now(UTC).replace(microsecond=0)
    spacing = timedelta(minutes=3)
    for start in range(0, count, CHUNK):
        calls, events, callbacks = [], [], []
        for n in range(start, min(start + CHUNK, count)):
            call_id = n + 1
            began = now - spacing * (n + 10)
            queued = began + timedelta(seconds=60)
            answered = n % 2 == 0
            calls.append(
                {
                    "id": call_id,
                    "call_sid": f"CH{n:032x}",
                    "caller": f"+86135{n % 10**8:08d}",
                    "called": HOTLINE,
                    "started_at": began,
                    "ended_at": began + timedelta(seconds=300),
                    "twilio_status": "completed",
                    "duration_seconds": 300,
                    "stage": CallStage.ENDED.value,
                    "language": "zh",
                    "claimed_by_caller_id": True,
                    "verified": True,
                    "verification_failures": 0,
                    "menu_misses": 0,
                    "queue": QUEUES[n % len(QUEUES)],
                    "queued_at": queued,
                    "agent_id": AGENT if answered else None,
                    "answered_at": queued + timedelta(seconds=40) if answered else None,
                    "handled_seconds": 180 if answered else None,
                    "leave_reason": None if answered else "callback",
                    "hold_music_failed": False,
                    "turn": 8,
                    "version": 9,
                }
            )
            events += [
                {"call_id": call_id, "at": began + timedelta(seconds=k), "kind": kind, "data": data}
                for k, (kind, data) in enumerate(EVENTS)
            ]
            if n % 10 == 0:
                callbacks.append(
                    {
                        "call_id": call_id,
                        "number": f"+86135{n % 10**8:08d}",
                        "language": "zh",
                        "topic": QUEUES[n % len(QUEUES)],
                        "status": CallbackStatus.DONE.value,
                        "created_at": queued,
                        "queued_at": queued,
                        "attempts": 0,
                        "agent_id": AGENT,
                        "closed_at": queued + timedelta(seconds=600),
                    }
                )
        bulk(engine, Call.__table__, calls)  # type: ignore[arg-type]
        bulk(engine, CallEvent.__table__, events)  # type: ignore[arg-type]
        bulk(engine, CallbackRequest.__table__, callbacks)  # type: ignore[arg-type]
        progress(f"  {min(start + CHUNK, count):,} of {count:,} calls")
    if engine.dialect.name == "postgresql":  # COPY gave the ids: the sequence goes on after
        with engine.begin() as connection:
            connection.execute(
                text("SELECT setval(pg_get_serial_sequence('calls', 'id'), max(id)) FROM calls")
            )


def add_waiting(engine: Engine, count: int, queues: Sequence[str]) -> None:
    """``count`` verified Chinese callers waiting, the oldest a few minutes ago, in
    ``queues`` in turn; never ended (nobody takes them during the run)."""
    now = datetime.now(UTC)
    rows = [
        {
            "call_sid": f"CW{n:032x}",
            "caller": f"+86136{n:08d}",
            "called": HOTLINE,
            "started_at": now - timedelta(seconds=600 - n * 0.1),
            "stage": CallStage.QUEUED.value,
            "language": "zh",
            "claimed_by_caller_id": True,
            "verified": True,
            "verification_failures": 0,
            "menu_misses": 0,
            "queue": queues[n % len(queues)],
            "queued_at": now - timedelta(seconds=540 - n * 0.1),
            "hold_music_failed": False,
            "turn": 7,
            "version": 8,
        }
        for n in range(count)
    ]
    bulk(engine, Call.__table__, rows)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Run:
    name: str
    small: int
    large: int
    quick_large: int
    fill: Callable[[Engine, int], None]
    tables: tuple[str, ...]  # what the large data makes large: reading one whole is a scan


RUNS = [
    Run("customers", 1_000, 1_000_000, QUICK_LARGE, add_many_customers, ("customers", "accounts")),
    Run(
        "call history",
        10_000,
        1_000_000,
        QUICK_LARGE,
        add_history,
        ("calls", "call_events", "callback_requests"),
    ),
    # A thousand rows are few enough for PostgreSQL to read whole by choice.
    Run("waiting, one queue", 1, 1_000, 1_000, lambda e, n: add_waiting(e, n, ["account"]), ()),
    Run("waiting, all queues", 1, 1_000, 1_000, lambda e, n: add_waiting(e, n, QUEUES), ()),
]


# --- the measurement ---------------------------------------------------------------------


@dataclass
class Side:
    """One of a run's two databases, with Hotline on it (``engine`` is Hotline's)."""

    size: int
    engine: Engine
    app: Flask
    webhooks: list[float]
    waits: list[float]
    served: int = 0


def play(side: Side, recipe_: Recipe, number: int) -> bool:
    """Call ``number`` played into ``side``'s Hotline, each webhook timed; whether every
    webhook answered with TwiML."""
    client = side.app.test_client()
    whole = True
    for request in recipe_.call(PUBLIC, number):
        began = time.perf_counter()
        response = post(client, PUBLIC, request)
        spent = time.perf_counter() - began
        side.webhooks.append(spent)
        if request[0].startswith(WAIT_PATH):
            side.waits.append(spent)
        whole = whole and response.status_code == 200 and b"<Response" in response.data
    return whole


WAIT_PATH = "/voice/queue/wait"


def next_caller_times(engine: Engine, repeats: int) -> list[float]:
    """The agent asking for their next caller ``repeats`` times, each rolled back."""
    times = []
    with Session(engine) as session:
        agent = session.get(Agent, AGENT)
        assert agent is not None, "the demo data has this agent"
        session.expunge(agent)  # its columns stay loaded through each rollback
        for _ in range(repeats):
            began = time.perf_counter()
            next_caller(session, agent, datetime.now(UTC))
            session.rollback()
            times.append(time.perf_counter() - began)
    return times


@dataclass(frozen=True)
class Row:
    run: str
    database: str
    what: str
    small: list[float]
    large: list[float]
    served: str


def quantile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def measure(
    run: Run,
    label: str,
    urls: tuple[str, str],
    folder: Path,
    options: argparse.Namespace,
    recipe_: Recipe,
) -> tuple[list[Row], list[Plan]]:
    """Both of ``run``'s databases filled, and calls played into them alternately."""
    sides = []
    large = run.quick_large if options.quick else run.large
    for size, url in zip((run.small, large), urls, strict=True):
        progress(f"{label}, {run.name}: {size:,} ...")
        app = create_server(Settings.model_validate(settings_of(url, folder, PUBLIC)))
        engine: Engine = app.extensions["db"].engine
        run.fill(engine, size)
        add_customers(engine, range(PLAYED, PLAYED + options.calls + 1))
        if engine.dialect.name == "postgresql":
            with engine.begin() as connection:
                connection.execute(text("ANALYZE"))  # as autovacuum would, soon after
        sides.append(Side(size, engine, app, [], []))
    progress(f"{label}, {run.name}: playing {options.calls} calls into each ...")
    for n in range(PLAYED, PLAYED + options.calls):
        for side in sides if n % 2 else reversed(sides):  # neither always goes first
            side.served += play(side, recipe_, n)
    sids = [f"CA{n:032x}" for n in range(PLAYED, PLAYED + options.calls)]
    for side in sides:
        endings = ending(side.engine, sids)
        unlike = sum(endings.get(sid) != recipe_.ending for sid in sids)
        side.served = min(side.served, options.calls - unlike)
    small, big = sides
    served = f"{small.served}/{options.calls} {big.served}/{options.calls}"
    # The next caller on each side in turns of a tenth, as the calls are played: a moment
    # the machine is busier with other work weighs on both sides alike.
    agents: tuple[list[float], list[float]] = ([], [])
    for turn in range(10):
        for side, times in list(zip(sides, agents, strict=True))[:: 1 if turn % 2 else -1]:
            times += next_caller_times(side.engine, len(range(turn, options.calls, 10)))
    rows = [
        Row(run.name, label, "webhook", small.webhooks, big.webhooks, served),
        Row(run.name, label, "wait document", small.waits, big.waits, served),
        Row(run.name, label, "next caller", *agents, served),
    ]
    where = f"{label}, {run.name} {large:,}"
    plans = explained(big, recipe_, PLAYED + options.calls, where, run)
    for side in sides:
        side.engine.dispose()
    return rows, plans


# --- the plans ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    where: str
    statement: str
    lines: list[str]
    tables: tuple[str, ...]  # the large ones

    @property
    def scans(self) -> bool:
        """Whether it reads a large table whole: SQLite's SCAN (along an index too,
        unless a partial one), PostgreSQL's Seq Scan."""
        return any(
            re.search(rf"\bSCAN {table}\b(?! USING (COVERING )?INDEX ({PARTIAL})\b)", line)
            or f"Seq Scan on {table} " in line + " "
            for line in self.lines
            for table in self.tables
        )


# The partial indexes of the models: scanning one reads only the rows it holds.
PARTIAL = (
    "|".join(
        index.name or ""
        for table in Base.metadata.tables.values()
        for index in table.indexes
        if index.dialect_options["sqlite"].get("where") is not None
    )
    or "(?!)"
)


def explained(side: Side, recipe_: Recipe, number: int, where: str, run: Run) -> list[Plan]:
    """The plan of each statement (SELECT, UPDATE, DELETE) that one more played call and
    the next caller ran on ``side``, once each."""
    seen: dict[str, Any] = {}

    def keep(_c: Any, _cur: Any, statement: str, parameters: Any, _x: Any, many: bool) -> None:
        if not many and statement.split(None, 1)[0].upper() in ("SELECT", "UPDATE", "DELETE"):
            seen.setdefault(statement, parameters)

    event.listen(side.engine, "before_cursor_execute", keep)
    play(side, recipe_, number)
    next_caller_times(side.engine, 1)
    event.remove(side.engine, "before_cursor_execute", keep)
    sqlite = side.engine.dialect.name == "sqlite"
    plans = []
    with side.engine.connect() as connection:
        for statement, parameters in seen.items():
            found = connection.exec_driver_sql(
                ("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + statement, parameters
            ).all()
            lines = [row[-1] for row in found]
            plans.append(Plan(where, " ".join(statement.split()), lines, run.tables))
        connection.rollback()
    return plans


# --- the run -----------------------------------------------------------------------------


@contextmanager
def databases(options: argparse.Namespace, folder: Path) -> Iterator[list[tuple[str, Copier]]]:
    """For each database kind, a maker of copies of one database migrated and holding the
    demo data (a migration for each of the run's databases would take longer than the
    quick run has): SQLite files, and unless ``--sqlite-only`` databases in a PostgreSQL
    cluster of the run's own (CREATE DATABASE ... TEMPLATE)."""
    template = folder / "template.db"
    prepared(f"sqlite:///{template}", folder, PUBLIC).dispose()

    def sqlite_copy(name: str) -> str:
        shutil.copyfile(template, folder / f"{name}.db")
        return f"sqlite:///{folder / name}.db"

    found: list[tuple[str, Copier]] = [("SQLite", sqlite_copy)]
    if options.sqlite_only:
        yield found
        return
    with Cluster.create() as cluster:
        admin = create_engine(normalise_url(cluster.url), isolation_level="AUTOCOMMIT")

        def postgresql_copy(name: str) -> str:
            with admin.connect() as connection:
                connection.exec_driver_sql(f"CREATE DATABASE {name} TEMPLATE template_hotline")
            return cluster.url_of(name)

        try:
            with admin.connect() as connection:
                connection.exec_driver_sql("CREATE DATABASE template_hotline")
            prepared(cluster.url_of("template_hotline"), folder, PUBLIC).dispose()
            yield [*found, ("PostgreSQL", postgresql_copy)]
        finally:
            admin.dispose()


Copier = Callable[[str], str]  # a new database's name to its URL


def table(rows: list[Row], calls: int) -> str:
    head = f"{'run':<22}{'database':<12}{'measured':<15}{'small p50':>10}{'p99':>8}"
    head += f"{'large p50':>10}{'p99':>8}{'p50 x':>8}{'p99 x':>8}  {'target':<8}served"
    lines = [head]
    for row in rows:
        small50, small99 = quantile(row.small, 50), quantile(row.small, 99)
        large50, large99 = quantile(row.large, 50), quantile(row.large, 99)
        within = large50 <= TARGET * small50 and large99 <= TARGET * small99
        lines.append(
            f"{row.run:<22}{row.database:<12}{row.what:<15}{small50:>10.2f}{small99:>8.2f}"
            f"{large50:>10.2f}{large99:>8.2f}{large50 / small50:>7.2f}x"
            f"{large99 / small99:>7.2f}x  {'met' if within else 'missed':<8}{row.served}"
        )
    lines.append(
        f"times in ms; {calls} calls into each database, webhooks timed in process;"
        f" target: large within {TARGET}x of small; served: small, large"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="calls into each database")
    parser.add_argument(
        "--quick", action="store_true", help="50,000 rows for 1M, 20 calls: under a minute"
    )
    parser.add_argument("--sqlite-only", action="store_true", help="no PostgreSQL run")
    parser.add_argument("--explain", action="store_true", help="print every plan")
    options = parser.parse_args()
    if options.quick:
        options.calls = 20
    rows: list[Row] = []
    plans: list[Plan] = []
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        recipe_ = recipe(folder)
        with databases(options, folder) as found:
            for label, url_of in found:
                for index, run in enumerate(RUNS):
                    urls = (url_of(f"run{index}_small"), url_of(f"run{index}_large"))
                    measured, explained_ = measure(run, label, urls, folder, options, recipe_)
                    rows += measured
                    plans += explained_
    print(table(rows, options.calls))
    print()
    for plan in plans:
        if options.explain or plan.scans:
            print(f"{'SCANS ' if plan.scans else ''}{plan.where}: {plan.statement[:300]}")
            for line in plan.lines:
                print(f"    {line}")
    scanning = sum(plan.scans for plan in plans)
    print(f"{scanning} of {len(plans)} statements read a large table whole")
    whole = f"{options.calls}/{options.calls} {options.calls}/{options.calls}"
    sys.exit(0 if all(row.served == whole for row in rows) else 1)


if __name__ == "__main__":
    main()
