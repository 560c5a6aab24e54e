"""The attack classes of issue 11 against a real Hotline, and a table of what held.

Starts Hotline as deployed: the shipped nginx site (https, a certificate of the run's
own) in front of gunicorn with the shipped gunicorn.conf.py, 3 sync workers, signatures
checked; on a fresh migrated SQLite file with the demo data, on ``--database-url`` (an
empty PostgreSQL database), or on ``--private-postgres``, a PostgreSQL cluster the run
creates (initdb) and can therefore shut down and freeze. Its REST requests go to the
phone simulator's Twilio stand-in started here. Then runs, each in turn:

- fuzz: ``--requests`` signed requests over every webhook, values Twilio would never
  send (NULs, 400-digit numbers, bad SIDs, foreign URLs), from several threads at once.
  A failure: not 200, not a well-formed ``<Response>``, slower than 5 s, or a demo
  customer's name or balance in the answer to a call nobody verified;
- forgery: every webhook unsigned, signed with another token, signed for another URL.
  A failure: any answer but 403, or a call or event written;
- replay: whole calls whose every webhook arrives twice. A failure: a call whose events
  or verification attempts differ in number from the same call sent once;
- guessing: calls from many caller IDs guessing one customer's PIN at once, and calls
  from an agent's phone guessing the agent's. A failure: each PIN checked beyond
  VERIFICATION_LOCKOUT_FAILURES (one lock period), or the right one taken after;
- pumping: calls asking for SMS codes for one customer from many caller IDs, and from
  one caller ID for every customer. A failure: each text beyond the daily caps (and
  beyond one code in flight per customer);
- slow clients: verified calls while more connections than workers send a byte a
  second. A failure: a webhook refused, not TwiML, or slower than 5 s;
- database refused and hung (``--private-postgres`` only): the cluster shut down for
  ``--refused-seconds``, then every process of it SIGSTOPped for ``--hung-seconds``,
  while calls in progress and new calls come in from several threads. A failure: a
  webhook as above, a caller not asked for a message, a message not a voicemail after,
  or no verified call 15 s after the database is back;
- timing: the number step and the PIN step for registered numbers (with a PIN, without
  one, locked) and an unknown one, ``--timing-tries`` interleaved tries each, answer
  times as a caller's phone sees them. A failure: a kind slower or faster than the
  unknown number with a chance further from a coin toss (Mann-Whitney) than
  tests.timing.bound allows at that many tries (0.18 at 100, 0.11 at 300, 0.06 at
  1,000), a statistical bound, not a time;
- consistency: afterwards, every check of ``flask check-data`` (ops.consistency) on
  the attacked database and its spool. A failure: a check that finds rows.

    .venv/bin/python bench/attack.py [--requests 10000] [--timing-tries 100]
        [--database-url URL | --private-postgres [--refused-seconds 10]
                                                 [--hung-seconds 40]]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import requests
from sqlalchemy import Engine, create_engine, func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models import (  # noqa: E402
    AgentCall,
    Call,
    CallEvent,
    VerificationAttempt,
    VerificationGuard,
    Voicemail,
)
from models.verification import AttemptOutcome  # noqa: E402
from ops.commands import DEMO_FILE  # noqa: E402
from ops.consistency import examine  # noqa: E402
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
from telephony.simulator.webhooks import problem as twilio_refuses  # noqa: E402
from tests.clusters import Cluster  # noqa: E402
from tests.conftest import SECRET_KEY, TOKEN  # noqa: E402
from tests.servers import free_port  # noqa: E402
from tests.serving.stack import Proxy, SlowClients, nginx_in_front  # noqa: E402
from tests.serving.workers import start_gunicorn, with_demo_data  # noqa: E402
from tests.timing import bound, superiority  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT_SID = "AC" + "b2" * 16
HOTLINE = "+8640012345678"
WORKERS = 3  # as in the attack run of issue 11
THREADS = 6  # clients at once: twice the workers, so that requests queue
SLOW = 5.0  # seconds: an answer slower than this is a failure
RECOVERY = 15  # seconds after the database is back by which calls must be served again
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
AGENT_GUESSED = DEMO["agents"][-1]
AGENT_LINE = "/agents/incoming"


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

    engine: Engine
    twilio: RestStandIn
    paths: list[str]
    proxy: Proxy
    database_url: str
    spool: Path

    @property
    def url(self) -> str:
        return self.proxy.public

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
    """Hotline as deployed: gunicorn with the shipped gunicorn.conf.py behind the shipped
    nginx site (https, its own certificate, which this process's requests trust)."""
    database_url = database_url or f"sqlite:///{folder / 'attack.db'}"
    twilio = RestStandIn().start()
    upstream = free_port()
    with nginx_in_front(folder, upstream) as proxy:
        settings = {
            "twilio_account_sid": ACCOUNT_SID,
            "twilio_api_base_url": twilio.base_url,
            "hotline_number": HOTLINE,
        }
        app = with_demo_data(
            Settings.model_validate(
                settings
                | {"database_url": database_url, "twilio_auth_token": TOKEN}
                | {"hotline_secret_key": SECRET_KEY, "public_base_url": proxy.public}
            )
        )
        paths = sorted(
            rule.rule
            for rule in app.url_map.iter_rules()
            if "POST" in (rule.methods or ()) and rule.rule.startswith(("/voice", "/agents"))
        )
        extra = {name.upper(): value for name, value in settings.items()}
        gunicorn = start_gunicorn(
            folder, database_url, proxy.public, upstream, WORKERS, extra=extra
        )
        os.environ["REQUESTS_CA_BUNDLE"] = str(proxy.certificate)  # requests' own setting
        engine = create_engine(database_url, pool_pre_ping=True)  # it outlives restarts
        try:
            yield Hotline(engine, twilio, paths, proxy, database_url, folder / "spool")
        finally:
            gunicorn.stop(signal.SIGTERM)
            engine.dispose()
            twilio.stop()


class Watched(Relay):
    """Every webhook of a class's calls, timed and checked into its tally: what Twilio
    would refuse (no answer, not 2xx, a prompt's answer not TwiML), or slower than 5 s."""

    def __init__(self, inner: HttpTransport, tally: Tally) -> None:
        super().__init__(inner)
        self.tally = tally

    def send(self, method: str, url: str, params: dict[str, str], signature: str) -> Reply:
        began = time.perf_counter()
        reply = self.inner.send(method, url, params, signature)
        seconds = time.perf_counter() - began
        # A status callback may answer nothing; anything else Hotline answers is TwiML.
        issue = twilio_refuses(reply, twiml=bool(reply.body.strip()))
        if issue is None and seconds > SLOW:
            issue = f"{url} answered after {seconds:.1f} s"
        self.tally.answer(seconds, issue)
        return reply


def watched(tally: Tally) -> Callable[[HttpTransport], Relay]:
    return lambda transport: Watched(transport, tally)


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
    """Many calls at once guessing one customer's PIN (from many caller IDs, keying the
    customer's number), and as many guessing one agent's (from the agent's own phone, as
    a spoofer would): each gets no more PINs checked than one lock period allows."""
    tally = Tally("parallel PIN guessing")
    customer, agent = GUESSED, AGENT_GUESSED
    before = pins_checked(server, customer["id"])
    switch = server.switch()
    # Three tries a call (VERIFICATION_ATTEMPTS_PER_CALL), keyed as a caller keys them.
    customers = [switch.caller(f"+861390000{n:04d}").dial().press(ZH) for n in range(calls)]
    agents = [switch.caller(agent["phone"]).dial(AGENT_LINE) for _ in range(calls)]
    start = threading.Barrier(2 * calls)

    def wrong(pin: str, attempt: int) -> str:
        return f"{attempt:0{len(pin)}d}" if pin != f"{attempt:0{len(pin)}d}" else "9" * len(pin)

    def guess(leg: Leg, keys: list[str], pin: str) -> None:
        start.wait()
        for attempt in range(SETTINGS.verification_attempts_per_call):
            began = time.perf_counter()
            for key in keys:
                leg.press(key)
            leg.press(wrong(pin, attempt))
            tally.answer(time.perf_counter() - began)

    threads = [
        threading.Thread(target=guess, args=(leg, [customer["phone"][3:]], customer["pin"]))
        for leg in customers
    ] + [threading.Thread(target=guess, args=(leg, [], agent["pin"])) for leg in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    checked = pins_checked(server, customer["id"]) - before
    limit = SETTINGS.verification_lockout_failures
    if checked > limit:
        tally.fail(f"{checked} of a customer's PINs checked in one lock period", checked - limit)
    with server.engine.connect() as connection:
        guard = connection.execute(
            select(VerificationGuard.consecutive_failures, VerificationGuard.locked_until).where(
                VerificationGuard.subject == f"agent:{agent['id']}"
            )
        ).one_or_none()
    agent_checked = guard.consecutive_failures if guard else 0
    if guard is None or guard.locked_until is None or agent_checked > limit:
        tally.fail(f"an agent's PINs: {agent_checked} checked, lock {guard}")
    right = switch.caller(agent["phone"]).dial(AGENT_LINE).press(agent["pin"])
    if server.count(AgentCall, AgentCall.call_sid == right.call_sid, AgentCall.confirmed):
        tally.fail("the agent's right PIN was taken while locked")
    guesses = calls * SETTINGS.verification_attempts_per_call
    tally.note = (
        f"{checked} customer PINs and {agent_checked} agent PINs checked"
        f" of {guesses} guesses at each, from {calls} calls at once"
    )
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


def slow_clients(server: Hotline, calls: int = 6) -> Tally:
    """Verified calls while connections that send a byte a second hold more sockets
    than gunicorn has workers (nginx reads each request whole before a worker sees it)."""
    tally = Tally("slow clients")
    switch = server.switch(watched(tally))
    holding = 4 * WORKERS
    with SlowClients(server.proxy.connect, holding):
        time.sleep(2)  # they are all mid-request before the first call
        for n in range(calls):
            who = WITH_PIN[n % (len(WITH_PIN) - 1)]
            switch.caller(who["phone"]).dial().press(ZH).press("#").press(who["pin"]).hang_up()
    tally.note = f"{calls} verified calls while {holding} clients each sent a byte a second"
    return tally


def messages_kept(server: Hotline) -> int:
    return server.count(Voicemail)


def serving_again(server: Hotline, switch: Switch, leave: Callable[[Leg], None]) -> float | None:
    """Seconds until a verified call is served again after the database is back (each
    server process waits a moment before it tries a database that hung: models.deadline);
    a caller who meanwhile hears the failure path leaves a message. None if never."""
    who, began = WITH_PIN[0], time.monotonic()
    while time.monotonic() - began < RECOVERY:
        call = switch.caller(who["phone"]).dial()
        if call.record_action is not None:
            leave(call)
            time.sleep(0.5)
            continue
        call.press(ZH).press("#").press(who["pin"])
        verified = server.count(Call, Call.call_sid == call.call_sid, Call.verified)
        call.hang_up()
        if verified:
            return time.monotonic() - began
    return None


def database_fault(server: Hotline, cluster: Cluster, kind: str, seconds: float) -> Tally:
    """Calls while the database is gone for ``seconds``: ``refused`` (its server shut
    down, the port closed) or ``hung`` (every process of it SIGSTOPped: connections are
    accepted and acknowledged, and nothing answers). Calls in progress press a key and
    new calls come in, from several threads, for the whole time; each hears the failure
    path's apology and leaves a message. Afterwards a verified call is served again, and
    every message left meanwhile is a voicemail once the spool is replayed."""
    tally = Tally(f"database {kind}")
    switch = server.switch(watched(tally))
    kept = messages_kept(server)
    who = WITH_PIN[0]
    in_progress = [switch.caller(f"+861350000{n:04d}").dial().press(ZH) for n in range(THREADS)]
    messages: list[Leg] = []
    lock = threading.Lock()

    def leave(call: Leg) -> None:
        if call.record_action is None:
            tally.fail(f"a caller heard no message prompt: {call.text[-200:]!r}")
            return
        call.leave_message(duration=10)
        with lock:
            messages.append(call)

    def caller(n: int, until: float) -> None:
        leave(in_progress[n].press("1"))
        tries = 0
        while time.monotonic() < until:
            tries += 1
            leave(switch.caller(f"+86136{n:02d}{tries:06d}").dial())

    (cluster.stop if kind == "refused" else cluster.freeze)()
    began = time.monotonic()
    try:
        threads = [
            threading.Thread(target=caller, args=(n, began + seconds)) for n in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        if kind == "refused":
            cluster.start()
        else:
            cluster.thaw()
    gone = time.monotonic() - began
    back = serving_again(server, switch, leave)
    if back is None:
        tally.fail(f"no verified call {RECOVERY} s after the database came back")
    for _ in range(len(messages)):  # each webhook that reaches the database replays a few
        if messages_kept(server) - kept >= len(messages):
            break
        switch.caller(who["phone"]).dial().hang_up()
    lost = len(messages) - (messages_kept(server) - kept)
    if lost:
        tally.fail("messages left while the database was gone are not voicemails", lost)
    tally.note = (
        f"{gone:.0f} s gone, calls verified again {back or 0:.1f} s after;"
        f" {len(messages)} messages left, {lost} lost"
    )
    return tally


def consistency(server: Hotline) -> Tally:
    """After everything else: every check of ``flask check-data`` on the attacked
    database and its spool (ops.consistency)."""
    tally = Tally("consistency checks")
    for result in examine(server.database_url, server.spool, SETTINGS):
        problem = None if result.ok else f"{result.check.name}: {result.offenders[:3]}"
        tally.answer(0.0, problem)
    tally.note = f"{tally.tried} checks of the database and its spool"
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


def run(name: str, attack: Callable[..., Tally], *arguments: object) -> Tally:
    print(f"attack: {name} ...", file=sys.stderr, flush=True)  # a long run shows progress
    began = time.monotonic()
    tally = attack(*arguments)
    print(f"attack: {name}: {tally.failures} failures in {time.monotonic() - began:.0f} s",
          file=sys.stderr, flush=True)  # fmt: skip
    return tally


def attacks(server: Hotline, options: argparse.Namespace, cluster: Cluster | None) -> list[Tally]:
    tallies = [
        run("signed fuzzing", fuzz, server, options.requests),
        run("forged signatures", forgery, server),
        run("replayed webhooks", replay, server),
        run("parallel PIN guessing", guessing, server),
        run("SMS pumping", pumping, server),
        run("slow clients", slow_clients, server),
    ]
    if cluster is not None:
        for kind, seconds in (("refused", options.refused_seconds), ("hung", options.hung_seconds)):
            tallies.append(run(f"database {kind}", database_fault, server, cluster, kind, seconds))
    # Last: its wrong PINs lock a customer.
    tallies.append(run("enumeration by timing", timing, server, options.timing_tries))
    tallies.append(run("consistency checks", consistency, server))
    return tallies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000, help="signed fuzzed requests")
    parser.add_argument("--timing-tries", type=int, default=100, help="tries per kind")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--database-url", help="an empty database to use instead of SQLite")
    where.add_argument(
        "--private-postgres",
        action="store_true",
        help="a PostgreSQL cluster of the run's own (initdb; PostgreSQL's server programs"
        " must be installed), which adds the classes database refused and database hung",
    )
    parser.add_argument("--refused-seconds", type=float, default=10, help="database shut down")
    parser.add_argument("--hung-seconds", type=float, default=40, help="database SIGSTOPped")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        cluster, url = None, options.database_url
        if options.private_postgres:
            cluster = stack.enter_context(Cluster.create())
            url = cluster.url_of("postgres")
        server = stack.enter_context(hotline(url, Path(folder)))
        tallies = attacks(server, options, cluster)
    print(table(tallies))
    sys.exit(1 if any(tally.failures for tally in tallies) else 0)


if __name__ == "__main__":
    main()
