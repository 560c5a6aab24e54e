"""The hotline now, for the wallboard: queues and agents at this moment, and today's
figures since midnight in the flow's time zone. Reads only; a handful of queries, since
the board asks every few seconds.

The figures are measured as Amazon Connect measures a contact centre ("Metric
definitions in Amazon Connect", its Administrator Guide), each one a small function
below whose docstring says what it counts; README "The wallboard" says them in full.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select, true
from sqlalchemy.orm import Session

from flowfile.flow import Flow
from models import (
    Agent,
    Call,
    CallbackRequest,
    CallEvent,
    Customer,
    VerificationAttempt,
)
from models.agents import AgentStatus
from models.calls import CallStage
from models.queueing import CallbackStatus
from models.verification import AttemptOutcome
from queueing.matching import URGENT
from queueing.routing import OFFER_HOLDS
from reports import sql
from reports.figures import SHORT_ABANDON_SECONDS
from reports.sql import count_if
from telephony.numbers import mask

# A caller still waiting for an agent: in the queue (being offered to one, too), or on
# the way back to it from an agent's room the agent never came to.
WAITING_STAGES = (CallStage.QUEUED, CallStage.RETURNING)
PENDING_CALLBACKS = (CallbackStatus.OPEN, CallbackStatus.CALLING)
DIGITS_SHOWN = 4


@dataclass(frozen=True)
class QueueNow:
    name: str
    waiting: int  # callers waiting now
    offered: int  # of those, being offered to an agent (rung, or hearing the whisper)
    oldest_wait: int | None  # seconds the longest-waiting caller has waited
    callbacks: int  # callback requests not yet done: waiting their turn, or being made


@dataclass(frozen=True)
class AgentNow:
    id: str
    name: str
    status: AgentStatus
    seconds_in_status: int
    caller: str | None  # who they are on or hearing about: a verified name, else masked
    topic: str | None  # the queue that caller came from
    offered: bool  # hearing about the caller, not yet talking


@dataclass(frozen=True)
class Wait:
    """One caller queued today, as far as the wait is concerned."""

    queued_at: datetime
    answered_at: datetime | None  # when an agent took them, if they talked
    ended_at: datetime | None  # when the call ended, if it has
    abandoned: bool  # hung up while waiting (Call.outcome "abandoned")
    waiting: bool  # still waiting now


@dataclass(frozen=True)
class Today:
    since: datetime  # local midnight
    calls: int  # calls that came in (customers called back aside)
    queued: int
    handled: int  # queued callers who talked to an agent
    answered_within: int
    service_level: float | None
    abandoned: int
    short_abandoned: int
    abandonment: float | None
    average_speed_of_answer: float | None  # seconds
    reached_menu: int
    contained: int
    containment: float | None
    verification_tried: int
    verified: int
    verification_success: float | None
    lockouts: int
    ratings: int
    average_rating: float | None


@dataclass(frozen=True)
class Board:
    now: datetime
    service_level_seconds: int
    short_abandon_seconds: int
    queues: list[QueueNow]
    agents: list[AgentNow]
    today: Today


def snapshot(session: Session, flow: Flow, now: datetime, service_level_seconds: int) -> Board:
    """Everything the wallboard shows at ``now`` (the app's clock)."""
    return Board(
        now=now,
        service_level_seconds=service_level_seconds,
        short_abandon_seconds=SHORT_ABANDON_SECONDS,
        queues=queues(session, flow, now),
        agents=agents(session, now),
        today=today(session, flow, now, service_level_seconds),
    )


# --- now -----------------------------------------------------------------------------------


def queues(session: Session, flow: Flow, now: datetime) -> list[QueueNow]:
    """Each of the flow's queues, urgent first, then as the flow file lists them (and any
    the flow no longer has that still holds someone)."""
    waiting = {
        name: (count, offered, oldest)
        for name, count, offered, oldest in session.execute(
            select(Call.queue, func.count(), count_if(_offered(now)), func.min(Call.queued_at))
            .where(Call.stage.in_(WAITING_STAGES), Call.queue.is_not(None))
            .group_by(Call.queue)
        )
    }
    callbacks: dict[str, int] = {
        topic: count
        for topic, count in session.execute(
            select(CallbackRequest.topic, func.count())
            .where(CallbackRequest.status.in_(PENDING_CALLBACKS))
            .group_by(CallbackRequest.topic)
        )
    }
    names = [*flow.queues]
    names += sorted({str(name) for name in (*waiting, *callbacks)} - set(names))
    names.sort(key=lambda name: name != URGENT)  # stable: the rest keep their order
    board = []
    for name in names:
        count, offered, oldest = waiting.get(name, (0, 0, None))
        board.append(
            QueueNow(
                name=name,
                waiting=count,
                offered=offered,
                oldest_wait=None if oldest is None else _seconds(now - oldest),
                callbacks=callbacks.get(name, 0),
            )
        )
    return board


def agents(session: Session, now: datetime) -> list[AgentNow]:
    """Every agent by status (on a call first, offline last), then by how long they have
    been so; with the caller each is talking to, calling back or hearing about."""
    on = _callers_of_agents(session, now)
    board = [
        AgentNow(
            id=agent.id,
            name=agent.name,
            status=agent.status,
            seconds_in_status=_seconds(now - agent.status_since),
            **asdict(on.get(agent.id, NOBODY)),
        )
        for agent in session.scalars(select(Agent))
    ]
    board.sort(key=lambda a: (_status_rank(a.status), -a.seconds_in_status, a.id))
    return board


@dataclass(frozen=True)
class _Caller:
    caller: str | None
    topic: str | None
    offered: bool


NOBODY = _Caller(None, None, False)


def _callers_of_agents(session: Session, now: datetime) -> dict[str, _Caller]:
    """Agent id -> the caller they are on: talking to (or on the way to), calling back,
    or hearing about (a caller or a callback offered to them, while the offer holds)."""
    talking = Call.stage.in_((CallStage.CONNECTED, CallStage.CALLBACK))
    # A customer called back was verified when they asked; their call only claims them.
    named = func.coalesce(
        Call.customer_id, case((Call.stage == CallStage.CALLBACK, Call.claimed_customer_id))
    )
    calls = session.execute(
        select(
            case((talking, Call.agent_id), else_=Call.offered_agent_id),
            Customer.name,
            Call.caller,
            Call.queue,
            ~talking,
        )
        .outerjoin(Customer, Customer.id == named)
        .where(or_(and_(talking, Call.agent_id.is_not(None)), _offered(now)))
        .order_by(Call.id)
    )
    callbacks = session.execute(
        select(
            CallbackRequest.offered_agent_id,
            Customer.name,
            CallbackRequest.number,
            CallbackRequest.topic,
            true(),
        )
        .outerjoin(Customer, Customer.id == CallbackRequest.customer_id)
        .where(
            CallbackRequest.status == CallbackStatus.OPEN,
            CallbackRequest.offered_agent_id.is_not(None),
            CallbackRequest.offered_at > now - OFFER_HOLDS,
        )
    )
    found: dict[str, _Caller] = {}
    # Offers first, so that a caller being talked to wins over one being offered.
    rows = sorted([*callbacks, *calls], key=lambda row: not row[4])
    for agent_id, name, number, topic, offered in rows:
        if agent_id is not None:
            found[agent_id] = _Caller(name or mask(number, DIGITS_SHOWN), topic, bool(offered))
    return found


def _offered(now: datetime) -> ColumnElement[bool]:
    """A waiting caller kept for an agent to accept or pass, while the offer holds
    (queueing.routing)."""
    return and_(
        Call.stage == CallStage.QUEUED,
        Call.offered_agent_id.is_not(None),
        Call.offered_at > now - OFFER_HOLDS,
    )


def _status_rank(status: AgentStatus) -> int:
    order = (AgentStatus.BUSY, AgentStatus.WRAP_UP, AgentStatus.AVAILABLE, AgentStatus.BREAK)
    return order.index(status) if status in order else len(order)


# --- today ---------------------------------------------------------------------------------


def local_midnight(now: datetime, timezone: str) -> datetime:
    """The start of ``now``'s day in the flow's time zone."""
    zone = ZoneInfo(timezone)
    return datetime.combine(now.astimezone(zone).date(), time(), tzinfo=zone)


def today(session: Session, flow: Flow, now: datetime, service_level_seconds: int) -> Today:
    """The day so far: calls that began since local midnight."""
    since = local_midnight(now, flow.timezone)
    called_in = sql.called_in()
    reached_menu = and_(called_in, Call.menu.is_not(None))
    answered = sql.given_an_answer()
    keyed = exists(
        select(VerificationAttempt.id).where(
            VerificationAttempt.call_id == Call.id,
            VerificationAttempt.outcome != AttemptOutcome.NO_INPUT,
        )
    )
    calls, menu, contained, tried, verified, rated, rating = session.execute(
        select(
            count_if(called_in),
            count_if(reached_menu),
            count_if(and_(reached_menu, Call.queue.is_(None), answered)),
            count_if(and_(called_in, keyed)),
            count_if(and_(called_in, keyed, Call.verified)),
            func.count(Call.rating),
            func.avg(Call.rating),
        ).where(Call.started_at >= since)
    ).one()
    lockouts = session.scalar(
        select(func.count())
        .select_from(CallEvent)
        .where(CallEvent.kind == "verification.locked", CallEvent.at >= since)
    )
    waits = _waits(session, since, called_in)
    threshold = service_level_seconds
    handled = [w for w in waits if w.answered_at is not None]
    return Today(
        since=since,
        calls=calls,
        queued=len(waits),
        handled=len(handled),
        answered_within=sum(1 for w in handled if answered_within(w, threshold)),
        service_level=service_level(waits, threshold),
        abandoned=sum(1 for w in waits if w.abandoned and not short_abandon(w)),
        short_abandoned=sum(1 for w in waits if short_abandon(w)),
        abandonment=abandonment(waits),
        average_speed_of_answer=average_speed_of_answer(waits),
        reached_menu=menu,
        contained=contained,
        containment=containment(contained, menu),
        verification_tried=tried,
        verified=verified,
        verification_success=verification_success(verified, tried),
        lockouts=lockouts or 0,
        ratings=rated,
        average_rating=None if rating is None else float(rating),
    )


def _waits(session: Session, since: datetime, called_in: ColumnElement[bool]) -> list[Wait]:
    """Every caller queued today, one small row each (the day's queue, not its events)."""
    talked = sql.talked()
    rows = session.execute(
        select(
            Call.queued_at,
            case((talked, Call.answered_at)),
            Call.ended_at,
            Call.outcome == "abandoned",
            or_(Call.stage.in_(WAITING_STAGES), and_(Call.stage == CallStage.CONNECTED, ~talked)),
        ).where(Call.started_at >= since, Call.queued_at.is_not(None), called_in)
    )
    return [
        Wait(queued_at, answered_at, ended_at, bool(abandoned), bool(waiting))
        for queued_at, answered_at, ended_at, abandoned, waiting in rows
        if queued_at is not None
    ]


# --- the definitions -------------------------------------------------------------------------


def short_abandon(wait: Wait) -> bool:
    """Hung up while waiting, less than ``SHORT_ABANDON_SECONDS`` after queuing (Connect's
    "contacts abandoned in X seconds"): most likely a caller who never meant to wait."""
    if not wait.abandoned or wait.ended_at is None:
        return False
    return (wait.ended_at - wait.queued_at).total_seconds() < SHORT_ABANDON_SECONDS


def answered_within(wait: Wait, threshold: int) -> bool:
    """Talked to an agent who took them at most ``threshold`` seconds after they queued."""
    speed = speed_of_answer(wait)
    return speed is not None and speed <= threshold


def speed_of_answer(wait: Wait) -> float | None:
    """Seconds from queuing to the agent taking the caller, for a caller who then talked
    to that agent (Connect's "queue answer time")."""
    if wait.answered_at is None:
        return None
    return max(0.0, (wait.answered_at - wait.queued_at).total_seconds())


def counted(waits: Iterable[Wait]) -> list[Wait]:
    """The waits a rate is taken over: those over by now (answered, hung up, or left for a
    callback, a voicemail or the maximum wait), short abandons aside. A caller still
    waiting counts once their wait ends, as in Connect's real-time service level."""
    return [w for w in waits if not w.waiting and not short_abandon(w)]


def service_level(waits: Sequence[Wait], threshold: int) -> float | None:
    """Service level: the share of counted waits (``counted``) answered within
    ``threshold`` seconds (SERVICE_LEVEL_SECONDS)."""
    over = counted(waits)
    return _share(sum(1 for w in over if answered_within(w, threshold)), len(over))


def abandonment(waits: Sequence[Wait]) -> float | None:
    """Abandonment rate: the share of counted waits (``counted``) that ended with the
    caller hanging up while waiting."""
    over = counted(waits)
    return _share(sum(1 for w in over if w.abandoned), len(over))


def average_speed_of_answer(waits: Sequence[Wait]) -> float | None:
    """Average speed of answer: the mean ``speed_of_answer`` of the callers who talked to
    an agent (Connect's "average queue answer time")."""
    speeds = [s for s in map(speed_of_answer, waits) if s is not None]
    return _share(sum(speeds), len(speeds))


def containment(contained: int, reached_menu: int) -> float | None:
    """Self-service containment: of the calls that reached a topic menu, the share that
    heard an answer there and never queued for an agent (nor asked for a callback or
    left a voicemail, which pass through a queue)."""
    return _share(contained, reached_menu)


def verification_success(verified: int, tried: int) -> float | None:
    """Of the calls that keyed a PIN or SMS code at least once (refused by a lockout
    too), the share verified."""
    return _share(verified, tried)


def _share(part: float, whole: int) -> float | None:
    return part / whole if whole else None


def _seconds(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds()))
