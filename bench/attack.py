"""The attack classes of issue 11 against a real Hotline, and a table of what held.

Starts Hotline as deployed (gunicorn with the shipped gunicorn.conf.py, 3 sync
workers, signatures checked) on a fresh migrated SQLite file with the demo data, or
on ``--database-url`` (an empty PostgreSQL database), its REST requests going to the
phone simulator's Twilio stand-in started here. Then runs, each in turn:

- fuzz: ``--requests`` signed requests over every webhook, values Twilio would never
  send (NULs, 400-digit numbers, bad SIDs, foreign URLs), from several threads at once.
  A failure: not 200, not a well-formed ``<Response>``, slower than 5 s, or a demo
  customer's name or balance in the answer to a call nobody verified;
- forgery: every webhook unsigned, signed with another token, signed for another URL.
  A failure: any answer but 403, or a call or event written;
- replay: whole calls whose every webhook arrives twice. A failure: a call whose events
  or verification attempts differ in number from the same call sent once;
- guessing: calls from many caller IDs guessing one customer's PIN at once. A failure:
  each PIN checked beyond VERIFICATION_LOCKOUT_FAILURES (one lock period);
- pumping: calls asking for SMS codes for one customer from many caller IDs, and from
  one caller ID for every customer. A failure: each text beyond the daily caps (and
  beyond one code in flight per customer);
- timing: the number step and the PIN step for registered numbers (with a PIN, without
  one, locked) and an unknown one, ``--timing-tries`` interleaved tries each, answer
  times as a caller's phone sees them. A failure: a kind slower or faster than the
  unknown number with a chance further from a coin toss (Mann-Whitney) than
  tests.timing.bound allows at that many tries (0.18 at 100, 0.11 at 300, 0.06 at
  1,000), a statistical bound, not a time.

    .venv/bin/python bench/attack.py [--requests 10000] [--timing-tries 100]
                                     [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import requests
from sqlalchemy import Engine, create_engine, func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import create_server  # noqa: E402
from models import Call, CallEvent, VerificationAttempt  # noqa: E402
from models.verification import AttemptOutcome  # noqa: E402
from ops.commands import DEMO_FILE  # noqa: E402
from settings import Settings  # noqa: E402
from telephony.simulator import (  # noqa: E402
    HttpTransport,
    Leg,
    Relay,
    RestStandIn,
    Switch,
    hotline_numbers,
    sign,
)
from telephony.simulator.webhooks import Reply  # noqa: E402
from tests.servers import free_port, wait_for_port  # noqa: E402
from tests.timing import bound, superiority  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "attack-auth-token"
ACCOUNT_SID = "AC" + "b2" * 16
HOTLINE = "+8640012345678"
SECRET_KEY = "attack-secret-key-not-secret-but-long-enough"
WORKERS = 3  # as in the attack run of issue 11
THREADS = 6  # clients at once: twice the workers, so that requests queue
SLOW = 5.0  # seconds: an answer slower than this is a failure
DEMO = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
SETTINGS = Settings.model_validate({})  # the defaults: the caps and the lock
ZH, EN = "1", "2"  # the language menu's keys

# What a signer could send and Twilio never would, and what Twilio does send.
HOSTILE = [
    "", "0", "1", "9", "*", "#", "1#", "-1", "0.2", "abc", "冻结", "\x00", "1\x00",
    "9" * 400, str(10**30), "1e400", "nan", "QU" + "0" * 200, "CF" + "f" * 300,
    "javascript:alert(1)", "file:///etc/passwd", "https://evil.example/x.wav", "x" * 5000,
    "<Say>hi</Say>", "]]>&amp;", "completed", "busy", "no-answer", "failed", "canceled",
    "in-progress", "hangup", "leave", "queue-full", "system-error", "participant-join",
    "conference-end", "outbound-api", "inbound", "https://api.twilio.com/2010-04-01/x",
]  # fmt: skip
PARAMETERS = [
    "Digits", "SpeechResult", "Confidence", "CallStatus", "CallDuration", "QueueResult",
    "QueueTime", "QueueSid", "DialCallStatus", "DialCallDuration", "RecordingUrl",
    "RecordingSid", "RecordingDuration", "StatusCallbackEvent", "ConferenceSid",
    "FriendlyName", "Timestamp", "ErrorCode", "ErrorUrl", "Direction", "AvgQueueTime",
    "CallerName", "ParentCallSid", "AccountSid", "Called", "Caller",
]  # fmt: skip
SIDS = ["", "\x00", "CA" + "f" * 300, "CA" + "g" * 32, "CA" + "e" * 32]
QUERIES = ["", "?turn=1", "?turn=999", "?turn=" + "9" * 50, "?caller=1", "?caller=x"]


def account_data() -> list[str]:
    """What an unverified call must never hear: the demo customers' names and balances."""
    found = []
    for customer in DEMO["customers"]:
        found.append(customer["name"])
        whole, _, cents = customer["balance"].partition(".")
        found.append(customer["balance"])
        if len(whole) > 2:  # short ones would match prompts' own numbers
            found.append(f"{whole}.{cents.rstrip('0')}" if cents.rstrip("0") else whole + ".")
    return found


ACCOUNT_DATA = account_data()
WITH_PIN = [c for c in DEMO["customers"] if c.get("pin")]
GUESSED = WITH_PIN[-1]  # the guessing class's victim: no other class touches their PIN


@dataclass
class Tally:
    """One attack class's line of the table."""

    name: str
    tried: int = 0
    failures: int = 0
    worst: float = 0.0
    note: str = ""  # what the class did, so that a reader sees it reached its target
    examples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, seconds: float, problem: str | None = None) -> None:
        with self.lock:
            self.tried += 1
            self.worst = max(self.worst, seconds)
            if problem:
                self.fail(problem)

    def fail(self, problem: str, count: int = 1) -> None:
        self.failures += count
        if len(self.examples) < 3:
            self.examples.append(problem[:300])


@dataclass
class Hotline:
    """A running server: where to reach it, its database, and the Twilio stand-in."""

    url: str
    engine: Engine
    twilio: RestStandIn
    paths: list[str]

    def switch(self, relay: Callable[[HttpTransport], Relay] | None = None) -> Switch:
        transport = HttpTransport(self.url)
        switch = Switch(
            relay(transport) if relay else transport,
            account_sid=ACCOUNT_SID,
            auth_token=TOKEN,
            numbers=hotline_numbers(HOTLINE),
            strict=False,  # what Twilio would log is counted here, not raised
        )
        self.twilio.connect(switch)
        return switch

    def count(self, what: object, *where: object) -> int:
        with self.engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(what).where(*where)))  # type: ignore[arg-type]


@contextmanager
def hotline(database_url: str | None, folder: Path) -> Iterator[Hotline]:
    database_url = database_url or f"sqlite:///{folder / 'attack.db'}"
    twilio = RestStandIn().start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {
        "DATABASE_URL": database_url,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_API_BASE_URL": twilio.base_url,
        "HOTLINE_NUMBER": HOTLINE,
        "HOTLINE_SECRET_KEY": SECRET_KEY,
        "TWILIO_VALIDATE_SIGNATURES": "true",
        "PUBLIC_BASE_URL": url,
        "SPOOL_DIR": str(folder / "spool"),
        "PROMETHEUS_MULTIPROC_DIR": str(folder / "prometheus"),
    }
    settings = Settings.model_validate({k.lower(): v for k, v in environment.items()})
    app = create_server(settings)  # migrates the schema
    result = app.test_cli_runner().invoke(args=["import-data", str(DEMO_FILE)])
    if result.exit_code != 0:
        raise SystemExit(f"import-data failed: {result.output}")
    paths = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and rule.rule.startswith(("/voice", "/agents"))
    )
    command = [sys.executable, "-m", "gunicorn", "-w", str(WORKERS), "-b", f"127.0.0.1:{port}"]
    command += ["--no-control-socket", "app:create_server()"]
    with (folder / "gunicorn.log").open("wb") as log:
        server = subprocess.Popen(
            command, cwd=ROOT, env=os.environ | environment, stdout=log, stderr=subprocess.STDOUT
        )
    engine = create_engine(database_url)
    try:
        wait_for_port(port, "gunicorn", seconds=60)
        yield Hotline(url, engine, twilio, paths)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        engine.dispose()
        twilio.stop()


def post(
    session: requests.Session, url: str, form: dict[str, str], signature: str | None
) -> tuple[requests.Response | None, float, str]:
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    started = time.perf_counter()
    try:
        response = session.post(url, data=form, headers=headers, timeout=2 * SLOW)
    except requests.RequestException as exc:
        return None, time.perf_counter() - started, str(exc)
    return response, time.perf_counter() - started, ""


def twiml_problem(response: requests.Response | None, error: str) -> str | None:
    if response is None:
        return f"no answer: {error}"
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    try:
        root = ElementTree.fromstring(response.content)
    except ElementTree.ParseError as exc:
        return f"not XML: {exc}"
    return None if root.tag == "Response" else f"root <{root.tag}>"


# --- the classes ------------------------------------------------------------------------


def fuzz(server: Hotline, count: int) -> Tally:
    tally = Tally("signed fuzzing")
    rng = random.Random(11)
    switch = server.switch()
    # Calls alive in the server, so that fuzzed requests meet calls mid-way: one verified
    # (its answers may speak its account), others not.
    wang = next(c for c in DEMO["customers"] if c["language"] == "zh" and c.get("pin"))
    verified = switch.caller(wang["phone"]).dial().press(ZH).press("#").press(wang["pin"])
    unverified = [
        switch.caller(wang["phone"]).dial().press(ZH).press("#"),
        switch.caller("+8613012345678").dial(),
        switch.caller(wang["phone"]).dial(),
    ]
    live: list[Leg | None] = [verified, *unverified, None, None, None]
    jobs = []
    for _ in range(count):
        path = rng.choice(server.paths)
        form = {name: rng.choice(HOSTILE) for name in rng.sample(PARAMETERS, rng.randint(0, 8))}
        leg = rng.choice(live)
        form["CallSid"] = leg.call_sid if leg else rng.choice(SIDS)
        form["From"] = leg.caller if leg else rng.choice([wang["phone"], "anonymous", "\x00"])
        form["To"] = HOTLINE
        url = server.url + path + rng.choice(QUERIES)
        jobs.append((url, form, leg is verified))
    local = threading.local()

    def send(job: tuple[str, dict[str, str], bool]) -> None:
        url, form, may_hear_account = job
        if not hasattr(local, "session"):
            local.session = requests.Session()
        response, seconds, error = post(local.session, url, form, sign(TOKEN, url, form))
        problem = twiml_problem(response, error)
        if problem is None and seconds > SLOW:
            problem = f"answered after {seconds:.1f} s"
        if problem is None and response is not None and not may_hear_account:
            if heard := [data for data in ACCOUNT_DATA if data in response.text]:
                problem = f"account data {heard} to an unverified call"
        tally.answer(seconds, problem and f"{url} {form!r}: {problem}")

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(send, jobs))
    return tally


def forgery(server: Hotline) -> Tally:
    tally = Tally("forged signatures")
    written = server.count(Call), server.count(CallEvent)
    session = requests.Session()
    for path in server.paths:
        url = server.url + path
        form = {"CallSid": "CA" + "d" * 32, "From": "+8613012345678", "To": HOTLINE}
        other = server.url + ("/voice" if path != "/voice" else "/agents") + "?turn=1"
        for signature in (None, sign("not-the-token", url, form), sign(TOKEN, other, form)):
            response, seconds, error = post(session, url, form, signature)
            status = response.status_code if response is not None else error
            tally.answer(seconds, None if status == 403 else f"{path}: {status}")
    if (server.count(Call), server.count(CallEvent)) != written:
        tally.fail("forged requests wrote calls or events")
    return tally


class Twice(Relay):
    """Every webhook delivered twice, as Twilio does when an answer is lost; the
    second answer is the one the call follows."""

    def send(self, method: str, url: str, params: dict[str, str], signature: str) -> Reply:
        self.inner.send(method, url, params, signature)
        return self.inner.send(method, url, params, signature)


def rows_of(server: Hotline, leg: Leg) -> tuple[int, int]:
    call = select(Call.id).where(Call.call_sid == leg.call_sid).scalar_subquery()
    return (
        server.count(CallEvent, CallEvent.call_id == call),
        server.count(VerificationAttempt, VerificationAttempt.call_id == call),
    )


def replay(server: Hotline, calls: int = 6) -> Tally:
    tally = Tally("replayed webhooks")
    customers = WITH_PIN[:-1]

    def walk(switch: Switch, n: int) -> Leg:
        who = customers[n % len(customers)]
        call = switch.caller(who["phone"]).dial().press(ZH).press("#")
        call.press("0" * len(who["pin"]) if n % 2 else who["pin"])  # wrong, or right
        call.press("2").press("1")
        call.hang_up()
        return call

    for n in range(calls):
        started = time.perf_counter()
        twice = walk(server.switch(Twice), n)
        seconds = time.perf_counter() - started
        once = walk(server.switch(), n)
        doubled, single = rows_of(server, twice), rows_of(server, once)
        tally.answer(seconds, None if doubled == single else f"rows {doubled} != {single}")
        tally.note = f"events and attempts of the last call: {single}, sent once or twice"
    return tally


def pins_checked(server: Hotline, customer_id: str) -> int:
    return server.count(
        VerificationAttempt,
        VerificationAttempt.customer_id == customer_id,
        VerificationAttempt.outcome.in_([AttemptOutcome.FAILURE, AttemptOutcome.SUCCESS]),
    )


def guessing(server: Hotline, calls: int = 20) -> Tally:
    tally = Tally("parallel PIN guessing")
    victim = GUESSED
    before = pins_checked(server, victim["id"])
    switch = server.switch()
    legs = [
        switch.caller(f"+861390000{n:04d}").dial().press(ZH) for n in range(calls)
    ]  # many caller IDs, as a spoofer has
    start = threading.Barrier(calls)

    def guess(leg: Leg) -> None:
        start.wait()
        for attempt in range(SETTINGS.verification_attempts_per_call):
            began = time.perf_counter()
            leg.press(victim["phone"][3:])  # the number as a mainland caller keys it
            leg.press(f"{attempt:06d}" if victim["pin"] != f"{attempt:06d}" else "999999")
            tally.answer(time.perf_counter() - began)

    threads = [threading.Thread(target=guess, args=(leg,)) for leg in legs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    checked = pins_checked(server, victim["id"]) - before
    tally.note = f"{checked} PINs checked of {calls} calls' {len(legs) * 3} guesses"
    beyond = checked - SETTINGS.verification_lockout_failures
    if beyond > 0:
        tally.fail(f"{checked} PINs checked in one lock period", beyond)
    return tally


def pumping(server: Hotline, calls: int = 15) -> Tally:
    tally = Tally("SMS pumping")
    customers = DEMO["customers"]
    victim, others = customers[0], customers[1:]
    switch = server.switch()
    earlier = len(server.twilio.messages())  # any the fuzzing caused

    def ask(caller: str, number: str) -> None:
        began = time.perf_counter()
        switch.caller(caller).dial().press(ZH).press(number).press("*").hang_up()
        tally.answer(time.perf_counter() - began)

    for n in range(calls):  # one customer, many caller IDs
        ask(f"+861370000{n:04d}", victim["phone"][3:])
    pumper = "+8613600000000"
    for n in range(calls):  # one caller ID, every other customer in turn
        ask(pumper, others[n % len(others)]["phone"][3:])
    time.sleep(1)  # the texts go after the answers
    sent = server.twilio.messages()[earlier:]
    to_victim = sum(m["To"] == victim["phone"] for m in sent)
    by_pumper = len(sent) - to_victim
    over = max(0, to_victim - SETTINGS.sms_codes_per_customer_per_day)
    over += max(0, by_pumper - SETTINGS.sms_codes_per_caller_per_day)
    for customer in others:
        over += max(0, sum(m["To"] == customer["phone"] for m in sent) - 1)  # one in flight
    tally.note = f"{len(sent)} texts: {to_victim} to one customer, {by_pumper} by one caller"
    if over:
        tally.fail("texts beyond the caps", over)
    return tally


def timing(server: Hotline, tries: int) -> Tally:
    """The number step and the PIN step, for registered numbers (with a PIN, without,
    locked) and one that is nobody's, interleaved in a shuffled order each round."""
    tally = Tally("enumeration by timing")
    kinds = {"with a PIN": WITH_PIN[0]["phone"], "locked": GUESSED["phone"]}
    kinds["without a PIN"] = next(c for c in DEMO["customers"] if not c.get("pin"))["phone"]
    kinds["unknown"] = "+8613012345678"
    steps: dict[tuple[str, str], list[float]] = {}
    rng = random.Random(11)
    switch = server.switch()
    for n in range(tries):
        order = list(kinds)
        rng.shuffle(order)
        for kind in order:
            call = switch.caller(f"+86135{n:04d}{len(steps):04d}").dial().press(ZH)
            for step, keys in (("number", kinds[kind][3:]), ("PIN", "000000")):
                began = time.perf_counter()
                call.press(keys)
                seconds = time.perf_counter() - began
                steps.setdefault((step, kind), []).append(seconds)
                tally.answer(seconds)
            call.hang_up()
    worst, allowed = 0.5, bound(tries)
    for step in ("number", "PIN"):
        for kind in ("with a PIN", "without a PIN", "locked"):
            chance = superiority(steps[step, kind], steps[step, "unknown"])
            if abs(chance - 0.5) > abs(worst - 0.5):
                worst = chance
            if abs(chance - 0.5) > allowed:
                tally.fail(f"{step} step, {kind} slower than unknown with chance {chance:.2f}")
    tally.note = f"furthest from a coin toss: {worst:.2f} (bound 0.5 ± {allowed:.2f})"
    return tally


def table(tallies: list[Tally]) -> str:
    lines = [f"{'class':<24}{'tried':>8}{'failures':>10}{'worst answer':>14}"]
    for tally in tallies:
        lines.append(
            f"{tally.name:<24}{tally.tried:>8}{tally.failures:>10}{tally.worst * 1000:>11.0f} ms"
        )
        lines += [f"    {line}" for line in [tally.note, *tally.examples] if line]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000, help="signed fuzzed requests")
    parser.add_argument("--timing-tries", type=int, default=100, help="tries per kind")
    parser.add_argument("--database-url", help="an empty database to use instead of SQLite")
    options = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as folder,
        hotline(options.database_url, Path(folder)) as server,
    ):
        tallies = [
            fuzz(server, options.requests),
            forgery(server),
            replay(server),
            guessing(server),
            pumping(server),
            timing(server, options.timing_tries),  # last: its wrong PINs lock a customer
        ]
    print(table(tallies))
    sys.exit(1 if any(tally.failures for tally in tallies) else 0)


if __name__ == "__main__":
    main()
