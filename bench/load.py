"""Whole calls per second through Hotline under gunicorn, next to two references.

Each database (SQLite, then a PostgreSQL cluster the run creates) gets, in turn, on the
same gunicorn settings (the shipped gunicorn.conf.py, 2 sync workers): the bare app
answering fixed TwiML after checking the signature, the minimal stateful webhook
(bench/references.py: signature, read, update, insert, commit through the raw driver)
and Hotline. Each is sent the same signed requests from ``--concurrency`` keep-alive
connections spread over ``--clients`` processes: ``--calls`` whole calls, the sequence
of issue 12 (greeting, language, caller ID, PIN, two menus to an account answer, 0, the
queue's wait document, hang-up in the queue, status callback), each call its own CallSid
and its own customer (generated and bulk-inserted, with PINs). The recipe of those
requests is one call driven through the phone simulator into Hotline in this process,
replayed with fresh CallSids and phone numbers; every request is built and signed before
the clock starts, so that the clients spend their time waiting on the server.

Prints for each server calls per second, webhook latency p50/p95/p99 and the peak RSS of
its workers (VmHWM in /proc), then Hotline's as a ratio to each reference; and the
clients' own share of the machine's CPU (near 100 % would mean the clients, not the
server, set the pace). A Hotline call counts as served when every webhook answered 200
with TwiML and the call's row ended as the recipe's did (verified, in the queue, left
by hanging up, completed, with as many events). Then Hotline is sent each call's
answers to its prompts again, as Twilio retries a request (Recipe.late): read-only
webhooks, measured per webhook against the bare app's, and served only if every call
still ends as before. The machine's speed cancels out of the
ratios: compare ratios between runs, not times. Then the statements and round trips
each webhook of one more call costs, replayed through Hotline in this process on the
database the load left (count_statements says what a round trip is).

``--servers 2`` instead plays Hotline alone on PostgreSQL: on one server, then on two
(each as shipped, 2 workers; one database; the clients' connections spread over them
in turn), and prints two ÷ one, and where the limit is: the CPU seconds each server's
workers, the PostgreSQL cluster (the postmaster and its children, from /proc/<pid>/stat),
the clients and every other process on the machine used, and what PostgreSQL's busy
backends were doing, sampled from pg_stat_activity (lock waits among them).

``--minutes 5`` instead keeps the load on Hotline (PostgreSQL, or SQLite with
``--sqlite-only``) that long, in rounds of ``--calls`` new calls, and prints each
worker's VmRSS every 15 s and its drift after the first fifth of the run (the warm-up).
VmRSS, not VmHWM: the master imports the app before it forks (gunicorn.conf.py).

    .venv/bin/python bench/load.py [--calls 2000] [--concurrency 32] [--clients 4]
        [--quick] [--sqlite-only] [--servers 2 | --minutes 5]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import math
import multiprocessing
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg
import yaml
from sqlalchemy import Engine, event, func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_server  # noqa: E402
from models import Account, Call, CallEvent, Customer  # noqa: E402
from models.db import pinging  # noqa: E402
from ops.commands import DEMO_FILE  # noqa: E402
from settings import DEFAULT_FLOW_FILE, Settings  # noqa: E402
from telephony.simulator import FlaskTransport, Relay, Switch, hotline_numbers, sign  # noqa: E402
from telephony.simulator.webhooks import Reply  # noqa: E402
from tests.clusters import Cluster  # noqa: E402
from tests.conftest import SECRET_KEY, TOKEN  # noqa: E402
from tests.servers import free_port  # noqa: E402
from tests.serving.stack import Server  # noqa: E402
from tests.serving.workers import start_gunicorn, with_demo_data  # noqa: E402
from verification.secrets import CUSTOMER_PIN, keyed_hash  # noqa: E402

WORKERS = 2  # as issue 12 measured
ACCOUNT_SID = "AC" + "0" * 32
HOTLINE = "+8640012345678"
DEMO = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
TEMPLATE = next(c for c in DEMO["customers"] if c["language"] == "zh" and c.get("pin"))
ZH, CALLER_ID, ACCOUNT_MENU, FREEZE_ANSWER, AGENT = "1", "#", "1", "2", "0"
SERVERS = {  # name: gunicorn's target
    "bare TwiML": "bench.references:bare()",
    "minimal stateful": "bench.references:stateful()",
    "Hotline": "app:create_server()",
}

Request = tuple[str, bytes, str]  # path with its query, form body, signature
LATE = "Hotline, late requests"  # read-only webhooks: Recipe.late


@dataclass(frozen=True)
class Recipe:
    """One call's webhooks as the simulator sent them, and how its row ended."""

    steps: list[tuple[str, dict[str, str]]]  # path with its query, form
    call_sid: str
    phone: str
    ending: tuple[Any, ...]

    def call(self, public: str, number: int) -> list[Request]:
        """Call ``number``'s requests: the template's CallSid and phone replaced."""
        call_sid, phone = call_sid_of(number), phone_of(number)

        def fresh(text: str) -> str:
            return text.replace(self.call_sid, call_sid).replace(self.phone, phone)

        built = []
        for path, form in self.steps:
            path, form = fresh(path), {name: fresh(value) for name, value in form.items()}
            built.append((path, urlencode(form).encode(), sign(TOKEN, public + path, form)))
        return built

    def late(self, public: str, number: int) -> list[Request]:
        """Call ``number``'s answers to its prompts (their URLs carry the prompt's turn)
        sent again once the call has ended, as Twilio retries a request: Hotline
        replays the call's stage and changes nothing, the read-only webhooks."""
        return [request for request in self.call(public, number) if "turn=" in request[0]]


def call_sid_of(number: int) -> str:
    return f"CA{number:032x}"


def phone_of(number: int) -> str:
    return f"+86137{number:08d}"  # a mobile number; the demo's are +86138/+86139


def settings_of(database_url: str, folder: Path, public: str) -> dict[str, str]:
    """Hotline's settings for the run (the environment of gunicorn, upper-cased)."""
    return {
        "database_url": database_url,
        "twilio_auth_token": TOKEN,
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_api_base_url": "http://127.0.0.1:9",  # nothing here is meant to call it
        "hotline_number": HOTLINE,
        "hotline_secret_key": SECRET_KEY,
        "public_base_url": public,
        "flow_file": str(open_all_day(folder)),
        # Commits as the minimal stateful reference makes them (bench/references.py):
        # SQLite's synchronous NORMAL; PostgreSQL's cluster here commits asynchronously
        # anyway. Lockout counts still commit durably (verification.guard).
        "database_synchronous_commit": "false",
    }


def open_all_day(folder: Path) -> Path:
    """The default flow with agents' hours round the clock, so that 0 reaches the queue
    whenever the benchmark runs."""
    path = folder / "flow.yaml"
    if not path.exists():
        flow = yaml.safe_load(DEFAULT_FLOW_FILE.read_text(encoding="utf-8"))
        days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        flow["hours"] = {"weekly": {day: ["00:00-24:00"] for day in days}, "holidays": []}
        path.write_text(yaml.safe_dump(flow, allow_unicode=True), encoding="utf-8")
    return path


def prepared(database_url: str, folder: Path, public: str) -> Engine:
    """Hotline's database migrated and holding the demo data; an engine on it."""
    app = with_demo_data(Settings.model_validate(settings_of(database_url, folder, public)))
    engine: Engine = app.extensions["db"].engine
    return engine


class Recorder(Relay):
    """Keeps every webhook the switch sends, with the path Hotline sees."""

    def __init__(self, inner: FlaskTransport) -> None:
        super().__init__(inner)
        self.sent: list[tuple[str, dict[str, str]]] = []

    def send(self, method: str, url: str, params: dict[str, str], signature: str) -> Reply:
        assert method == "POST", url
        self.sent.append((url.removeprefix(self.base_url), dict(params)))
        return self.inner.send(method, url, params, signature)


def ending(engine: Engine, call_sids: list[str]) -> dict[str, tuple[Any, ...]]:
    """How each call's row ended: what the recipe's call must share with every call."""
    events = (
        select(func.count())
        .select_from(CallEvent)
        .where(CallEvent.call_id == Call.id)
        .scalar_subquery()
    )
    query = select(
        Call.call_sid,
        Call.stage,
        Call.verified,
        Call.queue,
        Call.leave_reason,
        Call.twilio_status,
        Call.caller == Customer.phone,
        events,
    ).outerjoin(Customer, Customer.id == Call.customer_id)
    found: dict[str, tuple[Any, ...]] = {}
    with engine.connect() as connection:
        for start in range(0, len(call_sids), 500):  # under any bound on parameters
            chunk = call_sids[start : start + 500]
            for row in connection.execute(query.where(Call.call_sid.in_(chunk))):
                found[row[0]] = tuple(row[1:])
    return found


def recipe(folder: Path) -> Recipe:
    """One whole call driven through the simulator into Hotline in this process, on a
    database of its own; what it sent, and how its row ended."""
    public = "http://127.0.0.1"
    engine = prepared(f"sqlite:///{folder / 'recipe.db'}", folder, public)
    app = create_server(Settings.model_validate(settings_of(str(engine.url), folder, public)))
    recorder = Recorder(FlaskTransport(app, public))
    switch = Switch(recorder, auth_token=TOKEN, numbers=hotline_numbers(HOTLINE))
    call = switch.caller(TEMPLATE["phone"]).dial().press(ZH).press(CALLER_ID)
    call.press(TEMPLATE["pin"]).press(ACCOUNT_MENU).press(FREEZE_ANSWER).press(AGENT)
    if not call.queued:
        raise SystemExit(f"the recipe's call did not reach the queue: {call.text[-300:]}")
    call.hang_up()
    ended = ending(engine, [call.call_sid])[call.call_sid]
    engine.dispose()
    return Recipe(recorder.sent, call.call_sid, TEMPLATE["phone"], ended)


def add_customers(engine: Engine, numbers: range) -> None:
    """A customer of its own for every call, with the template's PIN and language."""
    key = Settings.model_validate({"hotline_secret_key": SECRET_KEY}).secret_key_bytes()
    for start in range(0, len(numbers), 5000):
        chunk = numbers[start : start + 5000]
        customers = [
            {
                "id": f"BENCH{n:08d}",
                "name": f"Bench {n}",
                "phone": phone_of(n),
                "language": TEMPLATE["language"],
                "pin_hash": keyed_hash(key, CUSTOMER_PIN, f"BENCH{n:08d}", TEMPLATE["pin"]),
                "status": "active",
            }
            for n in chunk
        ]
        accounts = [
            {"customer_id": f"BENCH{n:08d}", "balance": "100.00", "currency": "CNY"} for n in chunk
        ]
        with engine.begin() as connection:
            connection.execute(insert(Customer), customers)
            connection.execute(insert(Account), accounts)


@dataclass(frozen=True)
class Counted:
    """What one webhook asked of the database."""

    path: str
    statements: int
    round_trips: int


def count_statements(
    database_url: str, folder: Path, recipe_: Recipe, number: int
) -> list[Counted]:
    """Call ``number`` replayed through Hotline in this process (the code a gunicorn
    worker runs, with its settings), counting each webhook's statements
    (``before_cursor_execute``: docs.sqlalchemy.org/en/20/core/events.html) and its round
    trips to PostgreSQL: the statements, plus the BEGIN psycopg sends before a
    transaction's first one (psycopg.org/psycopg3/docs/basic/transactions.html), the
    COMMIT or ROLLBACK, and the ping of a connection taken from the pool where one is
    pinged (models.db.pinging: outside webhooks, so never for the webhooks themselves). On
    SQLite nothing leaves the process: there the round trips are the statements."""
    public = "http://127.0.0.1"
    app = create_server(Settings.model_validate(settings_of(database_url, folder, public)))
    engine: Engine = app.extensions["db"].engine
    add_customers(engine, range(number, number + 1))
    remote = engine.dialect.name != "sqlite"
    counts = {"statements": 0, "round_trips": 0}

    def statement(*_: object) -> None:
        counts["statements"] += 1
        counts["round_trips"] += 1

    def transaction(*_: object) -> None:
        counts["round_trips"] += remote

    def checkout(*_: object) -> None:
        counts["round_trips"] += remote and pinging()

    event.listen(engine, "before_cursor_execute", statement)
    for name in ("begin", "commit", "rollback"):
        event.listen(engine, name, transaction)
    event.listen(engine.pool, "checkout", checkout)
    client = app.test_client()
    counted = []
    for path, body, signature in recipe_.call(public, number):
        counts.update(statements=0, round_trips=0)
        response = client.post(
            path,
            base_url=public,
            data=body,
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": signature},
        )
        if response.status_code != 200:
            raise SystemExit(f"counting: {path} answered {response.status_code}")
        counted.append(Counted(path, counts["statements"], counts["round_trips"]))
    engine.dispose()
    return counted


# --- the clients -------------------------------------------------------------------------


@dataclass
class Played:
    """What one client process saw."""

    latencies: list[float] = field(default_factory=list)
    attempted: list[str] = field(default_factory=list)  # CallSids played
    served: list[str] = field(default_factory=list)  # CallSids whose every webhook answered
    failures: list[str] = field(default_factory=list)
    began: float = 0.0
    ended: float = 0.0
    cpu: float = 0.0  # this process's CPU seconds while playing


def play_calls(
    ports: list[int],
    calls: list[tuple[str, list[Request]]],
    until: float,
    start: Barrier,
    out: Any,
) -> None:
    """Plays ``calls`` from a thread for each of ``ports``, each with its own keep-alive
    connection (http.client reconnects when gunicorn's sync worker closes it); no call
    is begun after ``until`` (time.monotonic(), the same clock in every process)."""
    played = Played()
    lock = threading.Lock()
    queue = iter(calls)  # next() on a list iterator is atomic under the GIL

    def connection_loop(port: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies, attempted, served, failures = [], [], [], []
        for call_sid, requests in queue:
            if time.monotonic() > until:
                break
            attempted.append(call_sid)
            whole = True
            for path, body, signature in requests:
                began = time.perf_counter()
                try:
                    connection.request(
                        "POST",
                        path,
                        body,
                        {
                            "Content-Type": "application/x-www-form-urlencoded",
                            "X-Twilio-Signature": signature,
                        },
                    )
                    response = connection.getresponse()
                    answer = response.read()
                except (OSError, http.client.HTTPException) as exc:
                    connection.close()
                    answer, status = str(exc).encode(), 0
                else:
                    status = response.status
                latencies.append(time.perf_counter() - began)
                if status != 200 or b"<Response" not in answer:
                    whole = False
                    failures.append(f"{path}: {status} {answer[:200]!r}")
            if whole:
                served.append(call_sid)
        with lock:
            played.latencies += latencies
            played.attempted += attempted
            played.served += served
            played.failures += failures[:5]

    threads = [threading.Thread(target=connection_loop, args=(port,)) for port in ports]
    start.wait()
    cpu, played.began = _cpu(), time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    played.ended, played.cpu = time.monotonic(), _cpu() - cpu
    out.put(played)


def _cpu() -> float:
    times = os.times()
    return times.user + times.system


@dataclass(frozen=True)
class Measured:
    name: str
    calls_per_second: float
    p50: float
    p95: float
    p99: float
    peak_rss_mb: float
    served: int
    calls: int
    client_cpu: float  # share of the machine's CPU the clients used
    failures: list[str]
    wall: float  # seconds from the first request to the last answer
    webhooks_per_second: float


def load(
    options: argparse.Namespace,
    ports: list[int],
    recipe_: Recipe,
    public: str,
    numbers: range,
    until: float = math.inf,
    late: bool = False,
) -> list[Played]:
    """Calls ``numbers`` played against the servers on ``ports`` (the connections spread
    over them in turn), from ``options.clients`` processes that start together, each
    given its calls' requests built and signed (``late``: Recipe.late's); none begun
    after ``until``."""
    build = recipe_.late if late else recipe_.call
    context = multiprocessing.get_context("fork")
    start = context.Barrier(options.clients)
    out = context.Queue()
    processes = []
    for client in range(options.clients):
        connections = range(client, options.concurrency, options.clients)
        mine = [ports[connection % len(ports)] for connection in connections]
        calls = [(call_sid_of(n), build(public, n)) for n in numbers[client :: options.clients]]
        process = context.Process(
            target=play_calls, args=(mine, calls, until, start, out), daemon=True
        )
        process.start()
        processes.append(process)
    results = [out.get(timeout=900) for _ in processes]
    for process in processes:
        process.join()
    return results


def workers_of(master: int) -> list[int]:
    """The gunicorn master's workers (its children)."""
    return [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]


def status_mb(pid: int, field_: str) -> float:
    """A size from /proc/<pid>/status (``VmHWM``, ``VmRSS``), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field_}:"):
            return int(line.split()[1]) / 1024
    raise LookupError(f"{field_} not in /proc/{pid}/status")


def peak_rss_mb(master: int) -> float:
    """The largest peak resident set (VmHWM) among the gunicorn master's workers."""
    return max([0.0, *(status_mb(worker, "VmHWM") for worker in workers_of(master))])


@contextmanager
def serving(
    name: str, database_url: str, folder: Path, servers: int = 1
) -> Iterator[tuple[list[Server], list[int], str]]:
    """``servers`` gunicorn servers of ``name``, on the same settings and database,
    started (each with its own port and folder) and stopped again; with their ports
    and the public URL they all check signatures against (as behind a balancer)."""
    own = folder / name.replace(" ", "-")
    own.mkdir(exist_ok=True)
    ports = [free_port() for _ in range(servers)]
    public = f"http://127.0.0.1:{ports[0]}"
    extra = {key.upper(): value for key, value in settings_of(database_url, folder, public).items()}
    started: list[Server] = []
    try:
        for port in ports:
            server_folder = Path(tempfile.mkdtemp(prefix="server-", dir=own))
            started.append(
                start_gunicorn(
                    server_folder,
                    database_url,
                    public,
                    port,
                    WORKERS,
                    target=SERVERS[name],
                    extra=extra,
                )
            )
        yield started, ports, public
    finally:
        for server in started:
            server.stop(signal.SIGTERM)


def summarise(
    name: str, results: list[Played], peak: float, recipe_: Recipe, check: Engine | None
) -> Measured:
    """The clients' results as one row; with ``check``, a call counts as served only
    if its row also ended as the recipe's did."""
    wall = max(r.ended for r in results) - min(r.began for r in results)
    latencies = list(itertools.chain.from_iterable(r.latencies for r in results))
    quantiles = statistics.quantiles(latencies, n=100, method="inclusive")
    sids = [call_sid for r in results for call_sid in r.attempted]
    served = [call_sid for r in results for call_sid in r.served]
    failures = list(itertools.chain.from_iterable(r.failures for r in results))
    if check is not None:
        endings = ending(check, sids)
        ended_well = {sid for sid, ended in endings.items() if ended == recipe_.ending}
        served = [call_sid for call_sid in served if call_sid in ended_well]
        wrong = [f"{sid}: {endings.get(sid)}" for sid in sids if sid not in ended_well]
        failures += [f"ended unlike the recipe {recipe_.ending}: {w}" for w in wrong[:3]]
    return Measured(
        name,
        len(sids) / wall,
        quantiles[49] * 1000,
        quantiles[94] * 1000,
        quantiles[98] * 1000,
        peak,
        len(served),
        len(sids),
        sum(r.cpu for r in results) / (wall * (os.cpu_count() or 1)),
        failures[:5],
        wall,
        len(latencies) / wall,
    )


def measure(
    name: str,
    database_url: str,
    folder: Path,
    options: argparse.Namespace,
    recipe_: Recipe,
    check: Engine | None,
) -> list[Measured]:
    """One server started under gunicorn, loaded, measured and stopped. Hotline (given
    ``check``) is then sent every call's late requests (Recipe.late), measured apart as
    LATE: served only if every call still ends as the recipe's, events and all."""
    with serving(name, database_url, folder) as (started, ports, public):
        results = load(options, ports, recipe_, public, range(options.calls))
        peak = peak_rss_mb(started[0].process.pid)
        measured = [summarise(name, results, peak, recipe_, check)]
        if check is not None:
            late = load(options, ports, recipe_, public, range(options.calls), late=True)
            peak = peak_rss_mb(started[0].process.pid)
            measured.append(summarise(LATE, late, peak, recipe_, check))
    return measured


def run_database(
    label: str, database_url: str, folder: Path, options: argparse.Namespace, recipe_: Recipe
) -> tuple[list[Measured], list[Counted]]:
    """The three servers in turn on one database, Hotline's customers added first; then
    one more call's statements counted, on the database the load left."""
    own = folder / label
    own.mkdir()
    engine = prepared(database_url, own, "http://127.0.0.1")
    try:
        add_customers(engine, range(options.calls))
        measured = []
        for name in SERVERS:
            print(f"load: {label}, {name} ...", file=sys.stderr, flush=True)
            check = engine if name == "Hotline" else None
            measured += measure(name, database_url, own, options, recipe_, check)
        return measured, count_statements(database_url, own, recipe_, options.calls)
    finally:
        engine.dispose()


@contextmanager
def databases(options: argparse.Namespace, folder: Path) -> Iterator[list[tuple[str, str]]]:
    """SQLite, and a PostgreSQL cluster of the run's own unless ``--sqlite-only``."""
    found = [("SQLite", f"sqlite:///{folder / 'hotline.db'}")]
    if options.sqlite_only:
        yield found
        return
    with Cluster.create() as cluster:
        yield [*found, ("PostgreSQL", cluster.url_of("postgres"))]


def table(results: dict[str, list[Measured]]) -> str:
    head = f"{'database':<12}{'server':<26}{'calls/s':>9}{'p50 ms':>9}{'p95 ms':>9}"
    head += f"{'p99 ms':>9}{'RSS MB':>8}{'served':>13}{'client CPU':>12}"
    lines = [head]
    for label, measured in results.items():
        named = {m.name: m for m in measured}
        for m in measured:
            if m.name != LATE:
                lines.append(_row(label, m.name, m, m.calls_per_second))
        hotline = named["Hotline"]
        for reference in measured:
            if not reference.name.startswith("Hotline"):
                lines.append(_ratio(label, "Hotline", hotline, reference, "calls_per_second"))
    lines.append(
        "read-only webhooks: each call's answers to its prompts sent again once it ended"
        " (Recipe.late), per webhook"
    )
    lines.append(head.replace("calls/s", "hooks/s"))
    for label, measured in results.items():
        named = {m.name: m for m in measured}
        bare, late = named["bare TwiML"], named[LATE]
        for m in (bare, late):
            lines.append(_row(label, m.name, m, m.webhooks_per_second))
        lines.append(_ratio(label, "late requests", late, bare, "webhooks_per_second"))
    return "\n".join(lines)


def _row(label: str, name: str, m: Measured, rate: float) -> str:
    return (
        f"{label:<12}{name:<26}{rate:>9.1f}{m.p50:>9.1f}{m.p95:>9.1f}"
        f"{m.p99:>9.1f}{m.peak_rss_mb:>8.0f}{f'{m.served}/{m.calls}':>13}"
        f"{m.client_cpu:>11.0%}"
    )


def _ratio(label: str, name: str, m: Measured, reference: Measured, rate: str) -> str:
    return (
        f"{label:<12}{name + ' / ' + reference.name:<26}"
        f"{getattr(m, rate) / getattr(reference, rate):>8.2f}x"
        f"{m.p50 / reference.p50:>8.1f}x{m.p95 / reference.p95:>8.1f}x"
        f"{m.p99 / reference.p99:>8.1f}x{m.peak_rss_mb / reference.peak_rss_mb:>7.1f}x"
    )


def statements_table(counts: dict[str, list[Counted]]) -> str:
    """Each webhook's statements and round trips, a column for each database."""
    labels = list(counts)
    lines = [f"{'webhook':<34}" + "".join(f"{label + ' stmts/trips':>24}" for label in labels)]
    for n, first in enumerate(counts[labels[0]]):
        cells = [f"{c[n].statements} / {c[n].round_trips}" for c in counts.values()]
        lines.append(f"{first.path:<34}" + "".join(f"{cell:>24}" for cell in cells))
    for label, counted in counts.items():
        statements = sum(c.statements for c in counted) / len(counted)
        trips = sum(c.round_trips for c in counted) / len(counted)
        lines.append(f"{label}: {statements:.1f} statements, {trips:.1f} round trips a webhook")
    return "\n".join(lines)


# --- several servers on one PostgreSQL (--servers), and memory over time (--minutes) -----

TICKS = os.sysconf("SC_CLK_TCK")
WAITS_EVERY = 0.1  # seconds between samples of pg_stat_activity
RSS_EVERY = 15.0  # seconds between samples of the workers' VmRSS


def cpu_seconds(pid: int, waited_children: bool = False) -> float:
    """User and system CPU time of ``pid`` from /proc/<pid>/stat (utime, stime; with
    ``waited_children`` also cutime, cstime: the children it has reaped); 0 if gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return sum(int(f) for f in fields[11 : 15 if waited_children else 13]) / TICKS


def machine_cpu() -> float:
    """CPU seconds every process on the machine has used (/proc/stat: all but idle and
    iowait): the lead's and other helpers' runs share this machine."""
    jiffies = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(jiffies[:8]) - jiffies[3] - jiffies[4]) / TICKS


def database_cpu(cluster: Cluster) -> float:
    """The cluster's CPU seconds so far: the postmaster with the backends it reaped,
    and its living children."""
    postmaster, *children = cluster.processes()
    return cpu_seconds(postmaster, waited_children=True) + sum(map(cpu_seconds, children))


@dataclass
class Usage:
    """Where a run's CPU went, and what PostgreSQL's client backends were doing."""

    workers: list[float]  # CPU seconds of each server's workers
    database: float = 0.0
    machine: float = 0.0  # every process's
    doing: Counter[str] = field(default_factory=Counter)  # backends, per sample
    samples: int = 0
    with_lock_wait: int = 0  # samples in which some backend waited for a lock


# A client backend not idle: on the CPU (active, no wait event), waiting for a lock or
# other event (wait_event_type), or inside a transaction waiting for its worker's next
# statement ("idle in transaction": a round trip).
DOING = """
SELECT CASE WHEN state = 'active' THEN coalesce(wait_event_type, 'CPU')
            ELSE 'worker (in transaction)' END
FROM pg_stat_activity
WHERE backend_type = 'client backend' AND state <> 'idle' AND pid <> pg_backend_pid()
"""


def sample_backends(url: str, usage: Usage, stop: threading.Event) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        while not stop.wait(WAITS_EVERY):
            doing = [row[0] for row in connection.execute(DOING)]
            usage.doing.update(doing)
            usage.samples += 1
            usage.with_lock_wait += "Lock" in doing


@contextmanager
def watching(servers: list[Server], cluster: Cluster) -> Iterator[Usage]:
    """The CPU seconds the servers' workers and the cluster use while the block runs,
    and samples of pg_stat_activity taken meanwhile."""

    def workers_cpu() -> list[float]:
        return [sum(map(cpu_seconds, workers_of(s.process.pid))) for s in servers]

    usage = Usage(workers_cpu())
    database, machine = database_cpu(cluster), machine_cpu()
    stop = threading.Event()
    sampler = threading.Thread(target=sample_backends, args=(cluster.url, usage, stop))
    sampler.start()
    try:
        yield usage
    finally:
        stop.set()
        sampler.join()
        usage.workers = [
            after - before for after, before in zip(workers_cpu(), usage.workers, strict=True)
        ]
        usage.database = database_cpu(cluster) - database
        usage.machine = machine_cpu() - machine


def scale_out(
    options: argparse.Namespace, folder: Path, recipe_: Recipe
) -> list[tuple[Measured, Usage]]:
    """Hotline on one server, then on ``options.servers`` (each as shipped, 2 workers),
    on one PostgreSQL database of a cluster of the run's own: each run its own calls."""
    with Cluster.create() as cluster:
        url = cluster.url_of("postgres")
        engine = prepared(url, folder, "http://127.0.0.1")
        add_customers(engine, range(2 * options.calls))
        runs = []
        try:
            for n, servers in enumerate((1, options.servers)):
                print(f"load: Hotline on {servers} server(s) ...", file=sys.stderr, flush=True)
                numbers = range(n * options.calls, (n + 1) * options.calls)
                with serving("Hotline", url, folder, servers) as (started, ports, public):
                    with watching(started, cluster) as usage:
                        results = load(options, ports, recipe_, public, numbers)
                    peak = max(peak_rss_mb(server.process.pid) for server in started)
                runs.append((summarise("Hotline", results, peak, recipe_, engine), usage))
        finally:
            engine.dispose()
    return runs


def scale_out_table(runs: list[tuple[Measured, Usage]]) -> str:
    cpus = os.cpu_count() or 1
    head = f"{'PostgreSQL':<16}{'calls/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
    head += f"{'served':>13}   CPU s: each server's workers, PostgreSQL, clients (of wall × CPUs)"
    lines = [head]
    for m, usage in runs:
        workers = " + ".join(f"{cpu:.0f}" for cpu in usage.workers)
        clients = m.client_cpu * m.wall * cpus
        lines.append(
            f"{f'{len(usage.workers)} server(s)':<16}{m.calls_per_second:>9.1f}{m.p50:>9.1f}"
            f"{m.p95:>9.1f}{m.p99:>9.1f}{f'{m.served}/{m.calls}':>13}   {workers}, "
            f"{usage.database:.0f}, {clients:.0f} (of {m.wall * cpus:.0f})"
        )
    (one, _), (many, _) = runs
    lines.append(
        f"{'two / one':<16}{many.calls_per_second / one.calls_per_second:>8.2f}x"
        f"{many.p50 / one.p50:>8.1f}x{many.p95 / one.p95:>8.1f}x{many.p99 / one.p99:>8.1f}x"
    )
    for m, usage in runs:
        shares = {
            "workers": sum(usage.workers),
            "PostgreSQL": usage.database,
            "clients": m.client_cpu * m.wall * cpus,
        }
        shares["other processes"] = usage.machine - sum(shares.values())
        used = ", ".join(f"{what} {cpu / (m.wall * cpus):.0%}" for what, cpu in shares.items())
        seen = sum(usage.doing.values()) or 1
        doing = ", ".join(f"{what} {n / seen:.0%}" for what, n in usage.doing.most_common())
        lines.append(
            f"{len(usage.workers)} server(s): the machine's CPU: {used};"
            f" PostgreSQL's busy backends ({seen / max(usage.samples, 1):.1f} on average):"
            f" {doing}; a lock wait in {usage.with_lock_wait / max(usage.samples, 1):.0%}"
            f" of {usage.samples} samples"
        )
    return "\n".join(lines)


def memory(
    options: argparse.Namespace, folder: Path, recipe_: Recipe, label: str, url: str
) -> tuple[Measured, list[tuple[float, dict[int, float]]]]:
    """Hotline loaded for ``options.minutes`` (rounds of ``options.calls`` calls, each
    with new customers), its workers' VmRSS sampled every RSS_EVERY seconds."""
    engine = prepared(url, folder, "http://127.0.0.1")
    samples: list[tuple[float, dict[int, float]]] = []
    results: list[Played] = []
    stop = threading.Event()
    try:
        with serving("Hotline", url, folder) as (started, ports, public):
            master, began = started[0].process.pid, time.monotonic()

            def sample() -> None:
                while True:
                    rss = {worker: status_mb(worker, "VmRSS") for worker in workers_of(master)}
                    samples.append((time.monotonic() - began, rss))
                    if stop.wait(RSS_EVERY):
                        return

            sampler = threading.Thread(target=sample)
            sampler.start()
            until = began + options.minutes * 60
            for round_ in itertools.count():
                if time.monotonic() >= until:
                    break
                numbers = range(round_ * options.calls, (round_ + 1) * options.calls)
                print(f"load: {label}, round {round_ + 1} ...", file=sys.stderr, flush=True)
                add_customers(engine, numbers)
                results += load(options, ports, recipe_, public, numbers, until)
            stop.set()
            sampler.join()
            peak = peak_rss_mb(master)
        return summarise("Hotline", results, peak, recipe_, engine), samples
    finally:
        stop.set()
        engine.dispose()


def memory_table(
    label: str, m: Measured, samples: list[tuple[float, dict[int, float]]], warm_up: float
) -> str:
    workers = sorted({worker for _, rss in samples for worker in rss})
    lines = [
        f"Hotline on {label}, {m.wall / 60:.1f} minutes: {m.calls} calls"
        f" ({m.calls_per_second:.1f}/s, p99 {m.p99:.0f} ms), {m.served}/{m.calls} served",
        f"{'s':>6}" + "".join(f"{f'worker {w} MB':>18}" for w in workers),
    ]
    for moment, rss in samples:
        cells = [f"{rss[w]:.1f}" if w in rss else "-" for w in workers]
        lines.append(f"{moment:>6.0f}" + "".join(f"{cell:>18}" for cell in cells))
    settled = [rss for moment, rss in samples if moment >= warm_up]
    drifts = []
    for worker in workers:
        seen = [rss[worker] for rss in settled if worker in rss]
        if len(seen) >= 2:
            largest = max((mb - seen[0] for mb in seen), key=abs) / seen[0]
            drifts.append(f"worker {worker} {seen[-1] / seen[0] - 1:+.1%} (at most {largest:+.1%})")
    lines.append(
        f"VmRSS drift from the first sample after {warm_up:.0f} s of warm-up to the last"
        f" (target within ±5 %): {', '.join(drifts) or 'too few samples'}"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="whole calls per server")
    parser.add_argument("--concurrency", type=int, default=32, help="connections at once")
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--quick", action="store_true", help="200 calls: under a minute")
    parser.add_argument("--sqlite-only", action="store_true", help="no PostgreSQL run")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--servers", type=int, default=1, help="Hotline on 1 and on this many servers (PostgreSQL)"
    )
    mode.add_argument(
        "--minutes", type=float, help="Hotline loaded this long; its workers' VmRSS every 15 s"
    )
    options = parser.parse_args()
    if options.quick:
        options.calls = 200
    options.clients = min(options.clients, options.concurrency)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        recipe_ = recipe(folder)
        if options.servers > 1:
            runs = scale_out(options, folder, recipe_)
            print(scale_out_table(runs))
            report([("PostgreSQL", m) for m, _ in runs], options, recipe_, "")
        elif options.minutes:
            with databases(options, folder) as found:
                label, url = found[-1]  # PostgreSQL, unless --sqlite-only
                measured, samples = memory(options, folder, recipe_, label, url)
            print(memory_table(label, measured, samples, warm_up=options.minutes * 60 / 5))
            report([(label, measured)], options, recipe_, "")
        else:
            results: dict[str, list[Measured]] = {}
            counts: dict[str, list[Counted]] = {}
            with databases(options, folder) as found:
                for label, url in found:
                    results[label], counts[label] = run_database(
                        label, url, folder, options, recipe_
                    )
            print(table(results))
            print(statements_table(counts))
            rows = [(label, m) for label, ms in results.items() for m in ms]
            report(rows, options, recipe_, "; RSS: the largest worker's peak (VmHWM)")


def report(
    rows: list[tuple[str, Measured]], options: argparse.Namespace, recipe_: Recipe, more: str
) -> None:
    """The run's settings and its failures, then exit 1 if any call was not served."""
    print(f"each call: {len(recipe_.steps)} signed webhooks; {WORKERS} gunicorn workers;"
          f" {options.concurrency} connections from {options.clients} client processes;"
          f" {os.cpu_count()} CPUs{more}")  # fmt: skip
    for label, m in rows:
        for failure in m.failures:
            print(f"  {label} {m.name}: {failure}")
    sys.exit(1 if any(m.served < m.calls for _, m in rows) else 0)


if __name__ == "__main__":
    main()
