"""Whether the data is whole: the promises the data model and the call flow keep, each
a named check that finds the rows breaking it (``flask --app app check-data``).

Each promise holds at every commit, whatever webhooks Twilio sends, repeats, sends out
of order or never sends, and whatever a signer sends instead: a check that fails is a
fault of Hotline's (or a hand that wrote to the database), never of the network. So
none checks that calls end: a status callback lost while the database was down leaves
a call unfinished for good, and with it an agent still "on" it, a caller still
"waiting", a callback still "calling". Nor do checks compare rows with settings that an
operator may have changed since (the daily SMS caps), or with what only Twilio's good
faith promises (one recording per call): a signed fuzzer may send anything.

The rows are named by their ids, never by a phone number or a secret. Every query is
an aggregate, a lookup by key or index, or one pass over a table; all of them read one
snapshot (``Database.reading``), so rows of two tables are compared as they stood
together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Select, and_, exists, func, not_, or_, select, text
from sqlalchemy.orm import Session, aliased

from calls.spool import Spool, SpooledRecording
from logs import mask_digit_runs
from models import (
    Account,
    Agent,
    AgentCall,
    AgentStatusChange,
    Call,
    CallbackAttempt,
    CallbackRequest,
    CallEvent,
    Customer,
    OneTimeCode,
    RefundTicket,
    Transaction,
    VerificationAttempt,
    VerificationGuard,
    Voicemail,
)
from models.agents import AgentStage, AgentStatus
from models.calls import CallStage
from models.db import Database
from models.queueing import CallbackStatus, FollowUpStatus
from models.verification import AttemptOutcome
from queueing.callback_queue import NOT_TRIED, REACHED
from reports.sql import seconds_between
from settings import Settings
from telephony.params import TwilioRecording
from verification.codes import CODE_LIFETIME

# A check's statements may each take this long on PostgreSQL (a webhook's: 3 s): some
# pass over a whole table, and nothing waits on them.
CHECK_SECONDS = 120
# Of the rows breaking a promise, this many are named; all are counted.
SHOWN = 10
_RECORDING = TypeAdapter(TwilioRecording)


@dataclass(frozen=True)
class Data:
    """What the checks look at: one snapshot of the database, the setting rows are held
    to, and the spool beside the database."""

    session: Session
    lockout_failures: int  # VERIFICATION_LOCKOUT_FAILURES
    spool: Spool


Finder = Callable[[Data], list[str]]


@dataclass(frozen=True)
class Check:
    name: str
    promise: str  # what holds, as an operator reads it
    find: Finder  # the rows that break it, named
    only_on: str | None = None  # the one database it applies to; the other sees to it


@dataclass(frozen=True)
class Result:
    check: Check
    offenders: list[str]

    @property
    def ok(self) -> bool:
        return not self.offenders


CHECKS: list[Check] = []


def check(promise: str, *, only_on: str | None = None) -> Callable[[Finder], Finder]:
    """Register a finder as the check of ``promise``, named after the function."""

    def register(find: Finder) -> Finder:
        CHECKS.append(Check(find.__name__.replace("_", "-"), promise, find, only_on))
        return find

    return register


def run(data: Data) -> list[Result]:
    """Every check that applies to this database, in order."""
    dialect = data.session.get_bind().dialect.name
    return [Result(each, each.find(data)) for each in CHECKS if each.only_on in (None, dialect)]


def examine(database_url: str, spool_dir: Path, settings: Settings | None = None) -> list[Result]:
    """Every check on the database at ``database_url`` and the spool in ``spool_dir``,
    for a program outside the app (bench/attack.py); ``settings`` give the lockout limit
    (the defaults when None)."""
    limit = (settings or Settings.model_validate({})).verification_lockout_failures
    database = Database(database_url)
    try:
        with database.reading(CHECK_SECONDS) as session:
            return run(Data(session, limit, Spool(spool_dir)))
    finally:
        database.engine.dispose()


def _named(data: Data, noun: str, query: Select[int] | Select[str]) -> list[str]:
    return [f"{noun} {key}" for key in data.session.scalars(query)]


# --- the database as such ------------------------------------------------------------


@check(
    "The SQLite file is sound, and its rows keep the schema's constraints (stages, statuses)",
    only_on="sqlite",
)
def sqlite_file(data: Data) -> list[str]:
    # integrity_check less UNIQUE constraints and indexes against their tables: one
    # pass over the file, O(N) not O(N log N) (sqlite.org/pragma.html#pragma_quick_check).
    found = data.session.execute(text("PRAGMA quick_check")).scalars()
    return [str(line) for line in found if line != "ok"]


@check("Every row's references name rows that exist", only_on="sqlite")
def foreign_keys(data: Data) -> list[str]:
    # PostgreSQL refuses such rows; SQLite only while PRAGMA foreign_keys is on, which
    # another tool writing to the file may not have set (sqlite.org/foreignkeys.html).
    found = data.session.execute(text("PRAGMA foreign_key_check"))
    return [f"{table} row {rowid} names a missing {parent}" for table, rowid, parent, _ in found]


# --- calls ----------------------------------------------------------------------------


@check("A call Twilio said has ended stays at its end")
def ended_calls(data: Data) -> list[str]:
    query = select(Call.id).where(Call.ended_at.is_not(None), Call.stage != CallStage.ENDED)
    return _named(data, "call", query.order_by(Call.id))


@check("A waiting caller has a queue and a place in it (when they queued)")
def waiting_callers(data: Data) -> list[str]:
    placeless = or_(Call.queue.is_(None), Call.queued_at.is_(None))
    query = select(Call.id).where(Call.stage == CallStage.QUEUED, placeless)
    return _named(data, "call", query.order_by(Call.id))


@check("A caller has an agent while connected to one, and none while waiting for one")
def callers_agents(data: Data) -> list[str]:
    waiting = Call.stage.in_([CallStage.QUEUED, CallStage.RETURNING])
    query = select(Call.id).where(
        or_(
            and_(waiting, Call.agent_id.is_not(None)),
            and_(Call.stage == CallStage.CONNECTED, Call.agent_id.is_(None)),
        )
    )
    return _named(data, "call", query.order_by(Call.id))


@check("A call names a customer only once verified, by a PIN or code of theirs on that call")
def verified_calls(data: Data) -> list[str]:
    proven = exists().where(
        VerificationAttempt.call_id == Call.id,
        VerificationAttempt.customer_id == Call.customer_id,
        VerificationAttempt.outcome == AttemptOutcome.SUCCESS,
    )
    query = select(Call.id).where(
        or_(
            and_(Call.verified.is_(True), or_(Call.customer_id.is_(None), ~proven)),
            and_(Call.verified.is_(False), Call.customer_id.is_not(None)),
        )
    )
    return _named(data, "call", query.order_by(Call.id))


@check("What callers said or keyed is kept with digit runs masked (a PIN said at a menu)")
def heard_digits(data: Data) -> list[str]:
    # Only the events that hold what was heard (calls.context.HEARD); the masking itself
    # is the one the app records with, so the two cannot drift apart.
    heard = [CallEvent.data[name].as_string() for name in ("speech", "key")]
    query = select(CallEvent.id, *heard).where(or_(*(value.is_not(None) for value in heard)))
    return [
        f"call event {event_id}"
        for event_id, *values in data.session.execute(query.order_by(CallEvent.id))
        if any(value is not None and mask_digit_runs(str(value)) != str(value) for value in values)
    ]


# --- verification ----------------------------------------------------------------------


@check("No run of failures reaches the lockout limit without locking its subject")
def lockout_guards(data: Data) -> list[str]:
    # The attempt that reaches the limit locks in the same statement (verification.guard).
    # A limit lowered since leaves longer runs unlocked until their subject's next
    # attempt, which locks it for one period: they are listed until then.
    failures = VerificationGuard.consecutive_failures
    query = select(VerificationGuard.subject).where(
        or_(
            failures < 0,
            and_(failures >= data.lockout_failures, VerificationGuard.locked_until.is_(None)),
        )
    )
    return _named(data, "guard", query.order_by(VerificationGuard.subject))


@check(
    "A customer has one SMS code in flight at a time, and a code lives"
    f" {int(CODE_LIFETIME.total_seconds() // 60)} minutes at most"
)
def sms_codes(data: Data) -> list[str]:
    # A code is in flight from its creation until it is used or expires.
    earlier, later = aliased(OneTimeCode), aliased(OneTimeCode)
    overlapping = (
        select(later.id)
        .join(earlier, and_(earlier.customer_id == later.customer_id, earlier.id < later.id))
        .where(
            later.created_at < func.coalesce(earlier.used_at, earlier.expires_at),
            earlier.created_at < func.coalesce(later.used_at, later.expires_at),
        )
    )
    # A second of slack: SQLite's julianday() rounds to a few microseconds.
    lifetime = CODE_LIFETIME.total_seconds() + 1
    long_lived = select(OneTimeCode.id).where(
        seconds_between(OneTimeCode.expires_at, OneTimeCode.created_at) > lifetime
    )
    found = set(data.session.scalars(overlapping)) | set(data.session.scalars(long_lived))
    return [f"code {code_id}" for code_id in sorted(found)]


# --- agents ----------------------------------------------------------------------------


@check(
    "An agent's call past the PIN is a confirmed agent's, and one ringing for, whispering"
    " or connected to a caller names that caller or callback"
)
def agent_calls(data: Data) -> list[str]:
    past_pin = AgentCall.stage.not_in([AgentStage.PIN, AgentStage.ENDED])
    about = AgentCall.stage.in_([AgentStage.RING, AgentStage.WHISPER, AgentStage.CONNECTED])
    query = select(AgentCall.id).where(
        or_(
            and_(past_pin, or_(AgentCall.confirmed.is_(False), AgentCall.agent_id.is_(None))),
            and_(about, AgentCall.caller_call_id.is_(None), AgentCall.callback_id.is_(None)),
        )
    )
    return _named(data, "agent call", query.order_by(AgentCall.id))


@check("An agent's status is the last one written in their history (none: offline)")
def agent_statuses(data: Data) -> list[str]:
    # The last row by id: one agent's changes are written in turn, each behind the
    # UPDATE of their row (queueing.status_log), whatever the servers' clocks say.
    change = aliased(AgentStatusChange)
    last = select(func.max(change.id)).where(change.agent_id == Agent.id).scalar_subquery()
    query = (
        select(Agent.id)
        .outerjoin(AgentStatusChange, AgentStatusChange.id == last)
        .where(
            or_(
                and_(AgentStatusChange.id.is_(None), Agent.status != AgentStatus.OFFLINE),
                AgentStatusChange.status != Agent.status,
                AgentStatusChange.at != Agent.status_since,
            )
        )
    )
    return _named(data, "agent", query.order_by(Agent.id))


# --- what callers leave for agents -------------------------------------------------------


@check(
    "A callback is being called exactly while it has an open attempt and an agent;"
    " only an open one is offered; it is closed exactly when done or unreachable"
)
def callback_states(data: Data) -> list[str]:
    calling = CallbackRequest.status == CallbackStatus.CALLING
    closed = CallbackRequest.status.in_([CallbackStatus.DONE, CallbackStatus.UNREACHABLE])
    attempting = exists().where(
        CallbackAttempt.callback_id == CallbackRequest.id, CallbackAttempt.ended_at.is_(None)
    )
    query = select(CallbackRequest.id).where(
        or_(
            and_(calling, or_(~attempting, CallbackRequest.agent_id.is_(None))),
            and_(not_(calling), or_(attempting, CallbackRequest.agent_id.is_not(None))),
            and_(
                CallbackRequest.status != CallbackStatus.OPEN,
                CallbackRequest.offered_agent_id.is_not(None),
            ),
            and_(closed, CallbackRequest.closed_at.is_(None)),
            and_(not_(closed), CallbackRequest.closed_at.is_not(None)),
        )
    )
    return _named(data, "callback", query.order_by(CallbackRequest.id))


@check("A callback's count of attempts is its ended attempts that did not reach the customer")
def callback_attempts(data: Data) -> list[str]:
    missed = (
        select(func.count(CallbackAttempt.id))
        .where(
            CallbackAttempt.callback_id == CallbackRequest.id,
            CallbackAttempt.ended_at.is_not(None),
            CallbackAttempt.result.not_in([*REACHED, *NOT_TRIED]),
        )
        .scalar_subquery()
    )
    query = select(CallbackRequest.id).where(CallbackRequest.attempts != missed)
    return _named(data, "callback", query.order_by(CallbackRequest.id))


@check("A voicemail is done exactly when it has a time done, and taken by whom since when")
def voicemail_states(data: Data) -> list[str]:
    done = Voicemail.status == FollowUpStatus.DONE
    query = select(Voicemail.id).where(
        or_(
            and_(done, Voicemail.done_at.is_(None)),
            and_(not_(done), or_(Voicemail.done_at.is_not(None), Voicemail.done_by.is_not(None))),
            and_(Voicemail.taken_by.is_(None), Voicemail.taken_at.is_not(None)),
            and_(Voicemail.taken_by.is_not(None), Voicemail.taken_at.is_(None)),
        )
    )
    return _named(data, "voicemail", query.order_by(Voicemail.id))


@check("A voicemail's recording is an https URL on Twilio's API, as <Record> gives it")
def voicemail_recordings(data: Data) -> list[str]:
    query = select(Voicemail.id, Voicemail.recording_url).order_by(Voicemail.id)
    return [
        f"voicemail {voicemail_id}"
        for voicemail_id, url in data.session.execute(query)
        if not _on_twilio(url)
    ]


def _on_twilio(url: str) -> bool:
    """The rule the webhooks take a RecordingUrl by (telephony.params): anything else
    comes out of it empty."""
    return bool(_RECORDING.validate_python(url) == url)


@check("A voicemail or callback names a customer only if its call was verified as them")
def follow_up_customers(data: Data) -> list[str]:
    found: list[str] = []
    for noun, model in (("voicemail", Voicemail), ("callback", CallbackRequest)):
        query = (
            select(model.id)
            .join(Call, Call.id == model.call_id)
            .where(
                model.customer_id.is_not(None), model.customer_id.is_distinct_from(Call.customer_id)
            )
        )
        found += _named(data, noun, query.order_by(model.id))
    return found


# --- customers ---------------------------------------------------------------------------


@check("Every customer has an account (the importer makes one)")
def customer_accounts(data: Data) -> list[str]:
    query = select(Customer.id).where(~exists().where(Account.customer_id == Customer.id))
    return _named(data, "customer", query.order_by(Customer.id))


@check("A refund is of its customer's own transaction, asked on a call verified as them")
def refund_tickets(data: Data) -> list[str]:
    query = (
        select(RefundTicket.id)
        .join(Transaction, Transaction.id == RefundTicket.transaction_id)
        .join(Account, Account.id == Transaction.account_id)
        .outerjoin(Call, Call.id == RefundTicket.call_id)
        .where(
            or_(
                Account.customer_id != RefundTicket.customer_id,
                and_(
                    Call.id.is_not(None),
                    Call.customer_id.is_distinct_from(RefundTicket.customer_id),
                ),
            )
        )
    )
    return _named(data, "refund ticket", query.order_by(RefundTicket.id))


# --- beside the database -------------------------------------------------------------------


@check("No recording waits in the spool: kept while the database was down, it is a voicemail now")
def spool(data: Data) -> list[str]:
    waiting = [_waiting(data.session, entry) for entry in data.spool.pending()]
    folder = data.spool.directory
    set_aside = sorted(folder.glob("*.rejected")) if folder.is_dir() else []
    return [entry for entry in waiting if entry is not None] + [
        f"spool file {path.name}: set aside, not a recording (calls.spool)" for path in set_aside
    ]


def _waiting(session: Session, entry: Path) -> str | None:
    try:
        recording = SpooledRecording.model_validate_json(entry.read_bytes())
    except FileNotFoundError:
        return None  # replayed by a server just now
    except ValidationError:
        return f"spool file {entry.name}: not a recording (the next replay sets it aside)"
    stored = select(Voicemail.id).where(Voicemail.recording_sid == recording.recording_sid)
    voicemail = session.scalar(stored)
    if voicemail is None:
        return f"spool file {entry.name}: not in the database yet (flask spool replay)"
    return f"spool file {entry.name}: voicemail {voicemail} already (the next replay removes it)"


def described(results: Iterable[Result]) -> str:
    """The results as an operator reads them: one line a check, its offending rows."""
    lines = []
    for result in results:
        mark = "ok  " if result.ok else "FAIL"
        lines.append(f"{mark}  {result.check.name}: {result.check.promise}")
        shown = result.offenders[:SHOWN]
        more = len(result.offenders) - len(shown)
        lines += [f"        {row}" for row in shown]
        if more:
            lines.append(f"        and {more} more")
    return "\n".join(lines)
