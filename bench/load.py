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
by hanging up, completed, with as many events). The machine's speed cancels out of the
ratios: compare ratios between runs, not times. Then the statements and round trips
each webhook of one more call costs, replayed through Hotline in this process on the
database the load left (count_statements says what a round trip is).

    .venv/bin/python bench/load.py [--calls 2000] [--concurrency 32] [--clients 4]
        [--quick] [--sqlite-only]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import multiprocessing
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml
from sqlalchemy import Engine, event, func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_server  # noqa: E402
from models import Account, Call, CallEvent, Customer  # noqa: E402
from ops.commands import DEMO_FILE  # noqa: E402
from settings import DEFAULT_FLOW_FILE, Settings  # noqa: E402
from telephony.simulator import FlaskTransport, Relay, Switch, hotline_numbers, sign  # noqa: E402
from telephony.simulator.webhooks import Reply  # noqa: E402
from tests.clusters import Cluster  # noqa: E402
from tests.conftest import SECRET_KEY, TOKEN  # noqa: E402
from tests.servers import free_port  # noqa: E402
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
    COMMIT or ROLLBACK, and the ``pool_pre_ping`` on each checkout
    (docs.sqlalchemy.org/en/20/core/pooling.html#disconnect-handling-pessimistic). On
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

    event.listen(engine, "before_cursor_execute", statement)
    for name in ("begin", "commit", "rollback"):
        event.listen(engine, name, transaction)
    event.listen(engine.pool, "checkout", transaction)  # the pre-ping
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
    served: list[str] = field(default_factory=list)  # CallSids whose every webhook answered
    failures: list[str] = field(default_factory=list)
    began: float = 0.0
    ended: float = 0.0
    cpu: float = 0.0  # this process's CPU seconds while playing


def play_calls(
    port: int, calls: list[tuple[str, list[Request]]], connections: int, start: Barrier, out: Any
) -> None:
    """Plays ``calls`` from ``connections`` threads, each with its own keep-alive
    connection (http.client reconnects when gunicorn's sync worker closes it)."""
    played = Played()
    lock = threading.Lock()
    queue = iter(calls)  # next() on a list iterator is atomic under the GIL

    def connection_loop() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies, served, failures = [], [], []
        for call_sid, requests in queue:
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
            played.served += served
            played.failures += failures[:5]

    threads = [threading.Thread(target=connection_loop) for _ in range(connections)]
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


def load(options: argparse.Namespace, port: int, recipe_: Recipe, public: str) -> list[Played]:
    """Every call played against the server on ``port``, from ``options.clients``
    processes that start together, each given its calls' requests built and signed."""
    context = multiprocessing.get_context("fork")
    start = context.Barrier(options.clients)
    out = context.Queue()
    processes = []
    for client in range(options.clients):
        numbers = range(client, options.calls, options.clients)
        connections = len(range(client, options.concurrency, options.clients))
        calls = [(call_sid_of(n), recipe_.call(public, n)) for n in numbers]
        process = context.Process(
            target=play_calls, args=(port, calls, connections, start, out), daemon=True
        )
        process.start()
        processes.append(process)
    results = [out.get(timeout=900) for _ in processes]
    for process in processes:
        process.join()
    return results


def peak_rss_mb(master: int) -> float:
    """The largest peak resident set (VmHWM) among the gunicorn master's workers."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    peaks = [0.0]
    for child in children:
        for line in Path(f"/proc/{child}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return max(peaks)


def measure(
    name: str,
    database_url: str,
    folder: Path,
    options: argparse.Namespace,
    recipe_: Recipe,
    check: Engine | None,
) -> Measured:
    """One server started under gunicorn, loaded, measured and stopped; with ``check``,
    a call counts as served only if its row also ended as the recipe's did."""
    own = folder / name.replace(" ", "-")
    own.mkdir()
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    extra = {key.upper(): value for key, value in settings_of(database_url, folder, public).items()}
    server = start_gunicorn(
        own, database_url, public, port, WORKERS, target=SERVERS[name], extra=extra
    )
    try:
        results = load(options, port, recipe_, public)
        peak = peak_rss_mb(server.process.pid)
    finally:
        server.stop(signal.SIGTERM)
    wall = max(r.ended for r in results) - min(r.began for r in results)
    latencies = list(itertools.chain.from_iterable(r.latencies for r in results))
    quantiles = statistics.quantiles(latencies, n=100, method="inclusive")
    served = [call_sid for r in results for call_sid in r.served]
    failures = list(itertools.chain.from_iterable(r.failures for r in results))
    if check is not None:
        sids = [call_sid_of(n) for n in range(options.calls)]
        endings = ending(check, sids)
        ended_well = {sid for sid, ended in endings.items() if ended == recipe_.ending}
        served = [call_sid for call_sid in served if call_sid in ended_well]
        wrong = [f"{sid}: {endings.get(sid)}" for sid in sids if sid not in ended_well]
        failures += [f"ended unlike the recipe {recipe_.ending}: {w}" for w in wrong[:3]]
    return Measured(
        name,
        options.calls / wall,
        quantiles[49] * 1000,
        quantiles[94] * 1000,
        quantiles[98] * 1000,
        peak,
        len(served),
        options.calls,
        sum(r.cpu for r in results) / (wall * (os.cpu_count() or 1)),
        failures[:5],
    )


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
            measured.append(measure(name, database_url, own, options, recipe_, check))
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
        for m in measured:
            lines.append(
                f"{label:<12}{m.name:<26}{m.calls_per_second:>9.1f}{m.p50:>9.1f}{m.p95:>9.1f}"
                f"{m.p99:>9.1f}{m.peak_rss_mb:>8.0f}{f'{m.served}/{m.calls}':>13}"
                f"{m.client_cpu:>11.0%}"
            )
        hotline = measured[-1]
        for reference in measured[:-1]:
            lines.append(
                f"{label:<12}{'Hotline / ' + reference.name:<26}"
                f"{hotline.calls_per_second / reference.calls_per_second:>8.2f}x"
                f"{hotline.p50 / reference.p50:>8.1f}x{hotline.p95 / reference.p95:>8.1f}x"
                f"{hotline.p99 / reference.p99:>8.1f}x"
                f"{hotline.peak_rss_mb / reference.peak_rss_mb:>7.1f}x"
            )
    return "\n".join(lines)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="whole calls per server")
    parser.add_argument("--concurrency", type=int, default=32, help="connections at once")
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--quick", action="store_true", help="200 calls: under a minute")
    parser.add_argument("--sqlite-only", action="store_true", help="no PostgreSQL run")
    options = parser.parse_args()
    if options.quick:
        options.calls = 200
    options.clients = min(options.clients, options.concurrency)
    results: dict[str, list[Measured]] = {}
    counts: dict[str, list[Counted]] = {}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        recipe_ = recipe(folder)
        with databases(options, folder) as found:
            for label, url in found:
                results[label], counts[label] = run_database(label, url, folder, options, recipe_)
    print(table(results))
    print(statements_table(counts))
    print(f"each call: {len(recipe_.steps)} signed webhooks; {WORKERS} gunicorn workers;"
          f" {options.concurrency} connections from {options.clients} client processes;"
          f" {os.cpu_count()} CPUs; RSS: the largest worker's peak (VmHWM)")  # fmt: skip
    problems = [f"{label} {m.name}: {failure}" for label, ms in results.items()
                for m in ms for failure in m.failures]  # fmt: skip
    for problem in problems:
        print(f"  {problem}")
    sys.exit(1 if any(m.served < m.calls for ms in results.values() for m in ms) else 0)


if __name__ == "__main__":
    main()
