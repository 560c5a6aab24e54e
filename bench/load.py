"""Whole calls per second through Hotline under gunicorn, next to two references.

Each database (SQLite, then a PostgreSQL cluster the run creates) gets, on the same
gunicorn settings (the shipped gunicorn.conf.py, 2 sync workers): the bare app
answering fixed TwiML after checking the signature, the minimal stateful webhook
(bench/references.py: signature, read, update, insert, commit through the raw driver)
and Hotline, started together and loaded by turns, each mix in ``--rounds`` rounds of
its calls (``by_turns``), so that the machine's busier moments fall on all of them
alike. Each is sent the same signed requests by ``--concurrency`` threads spread
over ``--clients`` processes, each request on a connection of its own, half-closed once
sent, as a proxy would send it (``exchange``): ``--calls`` whole calls, the sequence
of issue 12 (greeting, language, caller ID, PIN, two menus to an account answer, 0, the
queue's wait document, hang-up in the queue, status callback), each call its own CallSid
and its own customer (generated and bulk-inserted, with PINs). The recipe of those
requests is one call driven through the phone simulator into Hotline in this process,
replayed with fresh CallSids and phone numbers (bench/calls.py); every request is built
and signed before the clock starts, so that the clients spend their time waiting on the
server. Then the second mix, ``--bridged-calls`` bridged calls (bench/bridge.py: the caller rung
through to an agent, the agent's wrap-up, the caller's rating; 25 webhooks), with as many
agents as connections; against Hotline the clients take the rings Hotline asks Twilio's
REST API for (a stand-in here) and play the agents' legs, building and signing those
requests as they go.

Prints for each server calls per second, webhook latency p50/p95/p99 and the peak RSS of
its workers (VmHWM in /proc), then Hotline's as a ratio to each reference; and the
clients' own share of the machine's CPU (near 100 % would mean the clients, not the
server, set the pace). A Hotline call counts as served when every webhook answered 200
with TwiML and the call's row ended as the recipe's did (verified, in the queue, left
by hanging up, completed, with as many events; bridged: put through, rated, completed).
Then Hotline is sent each whole call's answers to its prompts again, as Twilio retries
a request (Recipe.late): read-only webhooks, measured per webhook against the bare
app's, and served only if every call still ends as before. The machine's speed cancels
out of the ratios: compare ratios between runs, not times. Then the statements and
round trips each webhook of one more call of each mix costs, replayed through Hotline
in this process on the database the load left (count_statements says what a round trip
is).

``--ladder`` adds, for whole calls, the rest of issue 12's ladder: the minimal stateful
webhook through SQLAlchemy Core and through its ORM (bench/ladder.py), each on the
same settings, and Hotline's ratio to each.

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
        [--bridged-calls N] [--rounds 5] [--quick] [--sqlite-only] [--ladder]
        [--servers 2 | --minutes 5]
"""

from __future__ import annotations

import argparse
import itertools
import math
import multiprocessing
import os
import signal
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine, event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_server  # noqa: E402
from bench.bridge import (  # noqa: E402
    RING_WAIT_SECONDS,
    BridgedRecipe,
    Rings,
    Send,
    add_agents,
    bridged_recipe,
    play_agent_side,
    ring_taker,
)
from bench.calls import (  # noqa: E402
    Recipe,
    Request,
    add_customers,
    call_sid_of,
    ending,
    post,
    prepared,
    recipe,
    settings_of,
)
from models.db import pinging  # noqa: E402
from settings import Settings  # noqa: E402
from tests.clusters import Cluster  # noqa: E402
from tests.servers import free_port  # noqa: E402
from tests.serving.stack import Server  # noqa: E402
from tests.serving.workers import start_gunicorn  # noqa: E402

WORKERS = 2  # as issue 12 measured
SERVERS = {  # name: gunicorn's target
    "bare TwiML": "bench.references:bare()",
    "minimal stateful": "bench.references:stateful()",
    "Hotline": "app:create_server()",
}
# The rest of issue 12's ladder (--ladder): the minimal stateful webhook through
# SQLAlchemy Core, and through its ORM; whole calls only.
LADDER = {
    "minimal Core": "bench.ladder:stateful_core()",
    "minimal ORM": "bench.ladder:stateful_orm()",
}

LATE = "Hotline, late requests"  # read-only webhooks: Recipe.late
BRIDGED = ", bridged"  # the second mix's rows: bench.bridge


@dataclass(frozen=True)
class Counted:
    """What one webhook asked of the database."""

    path: str
    statements: int
    round_trips: int


def count_statements(
    database_url: str,
    folder: Path,
    number: int,
    play: Callable[[Send, str], None],
    twilio_api: str,
) -> list[Counted]:
    """One more call, ``play``ed through Hotline in this process (the code a gunicorn
    worker runs, with its settings) as call ``number``, counting each webhook's
    statements (``before_cursor_execute``: docs.sqlalchemy.org/en/20/core/events.html)
    and its round trips to PostgreSQL: the statements, plus the BEGIN Hotline sends just
    before a step's first write and the COMMIT or ROLLBACK that ends it (none where the
    step only read: models.db runs reads outside a transaction), and the ping of a
    connection taken from the pool where one is pinged (models.db.pinging: outside
    webhooks, so never for the webhooks themselves). On SQLite nothing leaves the
    process: there the round trips are the statements."""
    public = "http://127.0.0.1"
    settings = settings_of(database_url, folder, public, twilio_api)
    app = create_server(Settings.model_validate(settings))
    engine: Engine = app.extensions["db"].engine
    add_customers(engine, range(number, number + 1))
    remote = engine.dialect.name != "sqlite"
    counts = {"statements": 0, "round_trips": 0}

    def statement(*_: object) -> None:
        counts["statements"] += 1
        counts["round_trips"] += 1

    def transaction(connection: Connection) -> None:
        # A COMMIT or ROLLBACK is sent, and a BEGIN was, only if a transaction is open:
        # psycopg sends nothing for one in AUTOCOMMIT otherwise.
        driver = connection.connection.driver_connection
        if remote and driver.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            counts["round_trips"] += 2

    def checkout(*_: object) -> None:
        counts["round_trips"] += remote and pinging()

    event.listen(engine, "before_cursor_execute", statement)
    for name in ("commit", "rollback"):
        event.listen(engine, name, transaction)
    event.listen(engine.pool, "checkout", checkout)
    client = app.test_client()
    counted = []

    def send(request: Request) -> bytes:
        path = request[0]
        counts.update(statements=0, round_trips=0)
        response = post(client, public, request)
        if response.status_code != 200:
            raise SystemExit(f"counting: {path} answered {response.status_code}")
        counted.append(Counted(path, counts["statements"], counts["round_trips"]))
        return response.get_data()

    play(send, public)
    engine.dispose()
    return counted


# --- the clients -------------------------------------------------------------------------


@dataclass
class Played:
    """What one client process saw."""

    latencies: list[float] = field(default_factory=list)
    attempted: list[str] = field(default_factory=list)  # CallSids played
    broken: list[str] = field(default_factory=list)  # CallSids with a webhook that failed
    failures: list[str] = field(default_factory=list)
    began: float = 0.0
    ended: float = 0.0
    cpu: float = 0.0  # this process's CPU seconds while playing


@dataclass(frozen=True)
class AgentSide:
    """The bridged mix against Hotline (bench.bridge): once a call's caller has queued,
    the client takes the next ring from the stand-in on ``port`` and plays that agent's
    side, and the bridged part of the caller the agent was given."""

    recipe: BridgedRecipe
    public: str
    port: int


def exchange(port: int, request: Request) -> tuple[int, bytes]:
    """``request`` POSTed to gunicorn on ``port`` on a connection of its own, as its sync
    worker serves one request a connection: the answer's status and body.

    The request goes out whole in one write, and the connection is half-closed at once:
    the worker, once it has answered, closes lingering until the client's FIN
    (gunicorn.util.close_graceful; RFC 9112 section 9.6), and clients sharing the cores
    with it sent that FIN late and held every server's workers (1.1-1.3x fewer webhooks
    a second). A proxy in front, as deployed, sends it at once. Nothing more is parsed
    than the status line: with http.client's requests and header parsing, the clients
    took twice the share of the machine they take now (23 % against the bare app, not
    11-14 %), CPU the servers measured did not have."""
    path, body, signature = request
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nX-Twilio-Signature: {signature}\r\n"
        "Connection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(head.encode() + body)
        connection.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    answer = b"".join(chunks)
    status_line, _, rest = answer.partition(b"\r\n")
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        return 0, answer[:200]
    return int(parts[1]), rest.partition(b"\r\n\r\n")[2]


def play_calls(
    ports: list[int],
    calls: list[tuple[str, list[Request]]],
    until: float,
    start: Barrier,
    out: Any,
    agents: AgentSide | None,
) -> None:
    """Plays ``calls`` from a thread for each of ``ports``, one request at a time
    (``exchange``), each call followed by an agent's side if ``agents``; no call is
    begun after ``until`` (time.monotonic(), the same clock in every process)."""
    played = Played()
    lock = threading.Lock()
    queue = iter(calls)  # next() on a list iterator is atomic under the GIL

    def connection_loop(port: int) -> None:
        take_ring = ring_taker(agents.port) if agents else None
        latencies: list[float] = []
        attempted: list[str] = []
        broken: list[str] = []
        failures: list[str] = []

        def send(request: Request) -> bytes | None:
            began = time.perf_counter()
            try:
                status, answer = exchange(port, request)
            except OSError as exc:
                status, answer = 0, str(exc).encode()
            latencies.append(time.perf_counter() - began)
            if status != 200 or b"<Response" not in answer:
                failures.append(f"{request[0]}: {status} {answer[:200]!r}")
                return None
            return answer

        for call_sid, requests in queue:
            if time.monotonic() > until:
                break
            attempted.append(call_sid)
            if None in [send(request) for request in requests]:  # each one sent
                broken.append(call_sid)
            if agents is None or take_ring is None:
                continue
            ring = take_ring()
            if ring is None:
                failures.append(f"no agent was rung within {RING_WAIT_SECONDS} s of {call_sid}")
                continue
            given, whole = play_agent_side(agents.recipe, agents.public, ring, send)
            if given is None:
                failures.append(f"the agent of {ring['CallSid']} was given no caller")
            elif not whole:
                broken.append(given)
        with lock:
            played.latencies += latencies
            played.attempted += attempted
            played.broken += broken
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
    build: Callable[[str, int], list[Request]],
    public: str,
    numbers: range,
    until: float = math.inf,
    agents: AgentSide | None = None,
) -> list[Played]:
    """Calls ``numbers`` played against the servers on ``ports`` (the connections spread
    over them in turn), from ``options.clients`` processes that start together, each
    given its calls' requests ``build``t and signed before the clock starts; none begun
    after ``until``."""
    context = multiprocessing.get_context("fork")
    start = context.Barrier(options.clients)
    out = context.Queue()
    processes = []
    for client in range(options.clients):
        connections = range(client, options.concurrency, options.clients)
        mine = [ports[connection % len(ports)] for connection in connections]
        calls = [(call_sid_of(n), build(public, n)) for n in numbers[client :: options.clients]]
        process = context.Process(
            target=play_calls, args=(mine, calls, until, start, out, agents), daemon=True
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
    name: str, database_url: str, folder: Path, servers: int = 1, twilio_api: str | None = None
) -> Iterator[tuple[list[Server], list[int], str]]:
    """``servers`` gunicorn servers of ``name``, on the same settings and database
    (Twilio's REST API at ``twilio_api``, if any), started (each with its own port and
    folder) and stopped again; with their ports and the public URL they all check
    signatures against (as behind a balancer)."""
    own = folder / name.replace(" ", "-")
    own.mkdir(exist_ok=True)
    ports = [free_port() for _ in range(servers)]
    public = f"http://127.0.0.1:{ports[0]}"
    settings = settings_of(database_url, folder, public, *([twilio_api] if twilio_api else []))
    extra = {key.upper(): value for key, value in settings.items()}
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
                    target={**SERVERS, **LADDER}[name],
                    extra=extra,
                )
            )
        yield started, ports, public
    finally:
        for server in started:
            server.stop(signal.SIGTERM)


def summarise(
    name: str,
    rounds: list[list[Played]],
    peak: float,
    ended_as: tuple[Any, ...],
    check: Engine | None,
) -> Measured:
    """The clients' results, of one ``load`` or of several (rounds: their times added),
    as one row: a call is served when each of its webhooks answered with TwiML; with
    ``check``, only if its row also ended ``ended_as`` (the recipe's call did)."""
    wall = sum(max(r.ended for r in one) - min(r.began for r in one) for one in rounds)
    results = list(itertools.chain.from_iterable(rounds))
    latencies = list(itertools.chain.from_iterable(r.latencies for r in results))
    quantiles = statistics.quantiles(latencies, n=100, method="inclusive")
    sids = [call_sid for r in results for call_sid in r.attempted]
    broken = {call_sid for r in results for call_sid in r.broken}
    served = [call_sid for call_sid in sids if call_sid not in broken]
    failures = list(itertools.chain.from_iterable(r.failures for r in results))
    if check is not None:
        endings = ending(check, sids)
        ended_well = {sid for sid, ended in endings.items() if ended == ended_as}
        served = [call_sid for call_sid in served if call_sid in ended_well]
        wrong = [f"{sid}: {endings.get(sid)}" for sid in sids if sid not in ended_well]
        failures += [f"ended unlike the recipe {ended_as}: {w}" for w in wrong[:3]]
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


def by_turns(
    names: list[str],
    database_url: str,
    folder: Path,
    options: argparse.Namespace,
    label: str,
    numbers: range,
    play: Callable[[str, list[int], str, range], dict[str, list[Played]]],
    twilio_api: str | None = None,
) -> tuple[dict[str, list[list[Played]]], dict[str, float]]:
    """The servers ``names`` started together, each under gunicorn, and loaded by turns:
    in each round every one is ``play``ed its next share of ``numbers`` (the first of
    them another every round), so that a busier moment of the machine falls on all of
    them alike (these shared machines are noisy: played one after the other, two runs
    of the same code differed by up to a third). Each row ``play`` returned, by round;
    and each server's peak RSS."""
    count = rounds_of(options, numbers)
    chunks = [numbers[n::count] for n in range(count)]
    played: dict[str, list[list[Played]]] = {}
    with ExitStack() as stack:
        servers = {
            name: stack.enter_context(serving(name, database_url, folder, twilio_api=twilio_api))
            for name in names
        }
        for number, chunk in enumerate(chunks):
            turn = number % len(names)
            for name in names[turn:] + names[:turn]:
                print(
                    f"load: {label}, round {number + 1} of {len(chunks)}, {name} ...",
                    file=sys.stderr,
                    flush=True,
                )
                _, ports, public = servers[name]
                for row, results in play(name, ports, public, chunk).items():
                    played.setdefault(row, []).append(results)
        peaks = {
            name: peak_rss_mb(started[0].process.pid) for name, (started, _, _) in servers.items()
        }
    return played, peaks


def rounds_of(options: argparse.Namespace, numbers: range) -> int:
    """``--rounds``, or fewer: a round with under 4 calls a connection would measure
    mostly its start and its tail."""
    return max(1, min(options.rounds, len(numbers) // (4 * options.concurrency)))


def measure(
    names: list[str],
    database_url: str,
    folder: Path,
    options: argparse.Namespace,
    recipe_: Recipe,
    check: Engine,
    label: str,
) -> list[Measured]:
    """The whole calls against ``names`` by turns (``by_turns``). After each of its
    rounds Hotline (checked against ``check``) is sent those calls' late requests
    (Recipe.late), measured apart as LATE: served only if every call still ends as the
    recipe's, events and all."""

    def play(name: str, ports: list[int], public: str, chunk: range) -> dict[str, list[Played]]:
        played = {name: load(options, ports, recipe_.call, public, chunk)}
        if name == "Hotline":
            played[LATE] = load(options, ports, recipe_.late, public, chunk)
        return played

    numbers = range(options.calls)
    played, peaks = by_turns(names, database_url, folder, options, label, numbers, play)
    peaks[LATE] = peaks["Hotline"]
    checked = {"Hotline", LATE}
    return [
        summarise(row, rounds_, peaks[row], recipe_.ending, check if row in checked else None)
        for row, rounds_ in played.items()
    ]


def measure_bridged(
    database_url: str,
    folder: Path,
    options: argparse.Namespace,
    bridged: BridgedRecipe,
    rings: Rings,
    check: Engine,
    label: str,
) -> list[Measured]:
    """The bridged mix (bench.bridge) against SERVERS by turns (``by_turns``), on calls
    of its own: Hotline (checked against ``check``) rings the run's agents through
    ``rings`` and is played as Twilio would play it; the references, which ring nobody,
    are sent each call as recorded."""

    def play(name: str, ports: list[int], public: str, chunk: range) -> dict[str, list[Played]]:
        if name == "Hotline":
            agents = AgentSide(bridged, public, rings.port)
            results = load(options, ports, bridged.caller_part, public, chunk, agents=agents)
        else:
            results = load(options, ports, bridged.call, public, chunk)
        return {name + BRIDGED: results}

    numbers = range(options.calls, options.calls + options.bridged_calls)
    played, peaks = by_turns(
        list(SERVERS), database_url, folder, options, label, numbers, play, rings.base_url
    )
    return [
        summarise(
            row,
            rounds_,
            peaks[row.removesuffix(BRIDGED)],
            bridged.ending,
            check if row == "Hotline" + BRIDGED else None,
        )
        for row, rounds_ in played.items()
    ]


def run_database(
    label: str,
    database_url: str,
    folder: Path,
    options: argparse.Namespace,
    recipes: tuple[Recipe, BridgedRecipe],
    rings: Rings,
) -> tuple[list[Measured], list[list[Counted]]]:
    """The servers by turns on one database, each call's customer added first: the whole
    calls (and Hotline's late requests), then the bridged mix, with as many agents as
    connections; then one more call of each mix has its statements counted, on the
    database the load left."""
    recipe_, bridged = recipes
    own = folder / label
    own.mkdir()
    engine = prepared(database_url, own, "http://127.0.0.1")
    try:
        add_customers(engine, range(options.calls + options.bridged_calls))
        names = [*SERVERS, *(LADDER if options.ladder else ())]
        measured = measure(names, database_url, own, options, recipe_, engine, label)
        number = options.calls + options.bridged_calls

        def whole(send: Send, public: str) -> None:
            for request in recipe_.call(public, number):
                send(request)

        def put_through(send: Send, public: str) -> None:
            for request in bridged.caller_part(public, number + 1):
                send(request)
            ring = rings.next()
            if ring is None:
                raise SystemExit("counting: no agent was rung for the bridged call")
            if play_agent_side(bridged, public, ring, send)[0] is None:
                raise SystemExit("counting: the agent was given no caller")

        # Before there are agents: a whole call waits in the queue, and rings nobody.
        counts = [count_statements(database_url, own, number, whole, rings.base_url)]
        add_agents(engine, options.concurrency)  # a ring for each caller, at once
        mix = f"{label}, bridged"
        measured += measure_bridged(database_url, own, options, bridged, rings, engine, mix)
        counts.append(count_statements(database_url, own, number + 1, put_through, rings.base_url))
        return measured, counts
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
    head = f"{'database':<12}{'server':<30}{'calls/s':>9}{'p50 ms':>9}{'p95 ms':>9}"
    head += f"{'p99 ms':>9}{'RSS MB':>8}{'served':>13}{'client CPU':>12}"
    lines = [head]
    for suffix in ("", BRIDGED):
        if suffix:
            lines.append(
                "bridged mix (bench/bridge.py): a caller rung through to an agent, the"
                " agent's wrap-up, the caller's rating; per call"
            )
        for label, measured in results.items():
            named = {m.name: m for m in measured}
            *references, hotline = [named[name + suffix] for name in SERVERS]
            # The ladder's rungs (--ladder): whole calls only.
            references += [named[name] for name in LADDER if not suffix and name in named]
            lines += [_row(label, m.name, m, m.calls_per_second) for m in [*references, hotline]]
            for reference in references:
                name = "bridged" if suffix else "Hotline"
                lines.append(_ratio(label, name, hotline, reference, "calls_per_second"))
    lines.append(
        "read-only webhooks: each whole call's answers to its prompts sent again once it"
        " ended (Recipe.late), per webhook"
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
        f"{label:<12}{name:<30}{rate:>9.1f}{m.p50:>9.1f}{m.p95:>9.1f}"
        f"{m.p99:>9.1f}{m.peak_rss_mb:>8.0f}{f'{m.served}/{m.calls}':>13}"
        f"{m.client_cpu:>11.0%}"
    )


def _ratio(label: str, name: str, m: Measured, reference: Measured, rate: str) -> str:
    return (
        f"{label:<12}{name + ' / ' + reference.name.removesuffix(BRIDGED):<30}"
        f"{getattr(m, rate) / getattr(reference, rate):>8.2f}x"
        f"{m.p50 / reference.p50:>8.1f}x{m.p95 / reference.p95:>8.1f}x"
        f"{m.p99 / reference.p99:>8.1f}x{m.peak_rss_mb / reference.peak_rss_mb:>7.1f}x"
    )


def statements_table(title: str, counts: dict[str, list[Counted]]) -> str:
    """Each webhook's statements and round trips, a column for each database."""
    labels = list(counts)
    lines = [f"{title:<34}" + "".join(f"{label + ' stmts/trips':>24}" for label in labels)]
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
                        results = load(options, ports, recipe_.call, public, numbers)
                    peak = max(peak_rss_mb(server.process.pid) for server in started)
                runs.append((summarise("Hotline", [results], peak, recipe_.ending, engine), usage))
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
                results += load(options, ports, recipe_.call, public, numbers, until)
            stop.set()
            sampler.join()
            peak = peak_rss_mb(master)
        return summarise("Hotline", [results], peak, recipe_.ending, engine), samples
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
    parser.add_argument(
        "--bridged-calls", type=int, help="bridged calls per server (default: as --calls)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="each mix played in this many rounds, the servers by turns (fewer where a"
        " round would have under 4 calls a connection)",
    )
    parser.add_argument("--quick", action="store_true", help="100 calls and 50 bridged")
    parser.add_argument("--sqlite-only", action="store_true", help="no PostgreSQL run")
    parser.add_argument(
        "--ladder",
        action="store_true",
        help="the minimal stateful webhook through SQLAlchemy Core and its ORM too",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--servers", type=int, default=1, help="Hotline on 1 and on this many servers (PostgreSQL)"
    )
    mode.add_argument(
        "--minutes", type=float, help="Hotline loaded this long; its workers' VmRSS every 15 s"
    )
    options = parser.parse_args()
    if options.quick:
        options.calls, options.bridged_calls = 100, 50
    options.bridged_calls = options.bridged_calls or options.calls
    options.clients = min(options.clients, options.concurrency)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        recipe_ = recipe(folder)
        rings = Rings()  # Twilio's REST API, for the bridged mix
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
            recipes = (recipe_, bridged_recipe(folder))
            results: dict[str, list[Measured]] = {}
            counts: dict[str, list[list[Counted]]] = {}
            with databases(options, folder) as found:
                for label, url in found:
                    results[label], counts[label] = run_database(
                        label, url, folder, options, recipes, rings
                    )
            print(table(results))
            for n, title in enumerate(("whole call's webhook", "bridged call's webhook")):
                print(statements_table(title, {label: c[n] for label, c in counts.items()}))
            rows = [(label, m) for label, ms in results.items() for m in ms]
            more = f", a bridged call {len(recipes[1].steps)}"
            more += "; RSS: the largest worker's peak (VmHWM)"
            report(rows, options, recipe_, more, rings.unexpected)


def report(
    rows: list[tuple[str, Measured]],
    options: argparse.Namespace,
    recipe_: Recipe,
    more: str,
    unexpected: list[str] | None = None,
) -> None:
    """The run's settings and its failures, then exit 1 if any call was not served or
    Hotline asked the REST stand-in for anything ``unexpected``."""
    print(f"each call: {len(recipe_.steps)} signed webhooks; {WORKERS} gunicorn workers;"
          f" {options.concurrency} connections from {options.clients} client processes;"
          f" {os.cpu_count()} CPUs{more}")  # fmt: skip
    for label, m in rows:
        for failure in m.failures:
            print(f"  {label} {m.name}: {failure}")
    for request in (unexpected or [])[:5]:
        print(f"  Hotline asked the bench's REST stand-in for {request}")
    sys.exit(1 if unexpected or any(m.served < m.calls for _, m in rows) else 0)


if __name__ == "__main__":
    main()
