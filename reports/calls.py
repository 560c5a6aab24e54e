"""Finding calls for the console: by local date (the flow's time zone), outcome, branch,
customer and the last digits of the caller's number, newest first, a page at a time.

A call's *branch* is the queue it waited in, else the queue its last menu leads to
(key 0 there: ``Flow.menu_queue``); a call that reached no menu has none. Numbers are
shown masked but for their last four digits, never in full.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from flowfile.flow import Flow
from flowfile.vocabulary import Language
from models import Agent, Call
from queueing.voicemails import SHOWN_DIGITS
from telephony.numbers import mask

PAGE_SIZE = 50
# How a call ended (``Call.outcome``, set along the journey), in an operator's words.
OUTCOMES = {
    "self_served": "self-served",
    "agent": "talked to an agent",
    "abandoned": "hung up while waiting",
    "left_queue": "left the queue",
    "overflow": "put through to the duty team",
    "callback": "callback",
    "voicemail": "voicemail",
    "hung_up": "hung up",
}
# The console speaks English; the flow file names queues, answers and dispositions in it.
WORDS: Language = "en"
# Digits of a caller's number one may search by: enough to find a call, not to dial it.
MIN_DIGITS, MAX_DIGITS = 2, SHOWN_DIGITS


@dataclass(frozen=True)
class CallQuery:
    """What to look for; None (or empty) matches anything."""

    first_day: date | None = None  # local dates, both included
    last_day: date | None = None
    outcome: str | None = None
    branch: str | None = None
    customer_id: str | None = None
    digits: str | None = None  # the last 2-4 digits of the caller's number
    page: int = 1

    def __post_init__(self) -> None:
        digits = self.digits
        if digits is not None and not (
            digits.isdigit() and MIN_DIGITS <= len(digits) <= MAX_DIGITS
        ):
            raise ValueError(f"search by the last {MIN_DIGITS} to {MAX_DIGITS} digits")


@dataclass(frozen=True)
class FoundCall:
    id: int
    started_at: datetime  # local
    number: str  # masked
    customer_id: str | None  # verified, or only claimed (``verified`` False)
    verified: bool
    branch: str | None  # the queue's name in the console's words
    outcome: str | None  # in the console's words; None while it runs
    seconds: int | None  # the call's length, as Twilio reported it
    agent: str | None  # the name of the agent who took it


@dataclass(frozen=True)
class Found:
    calls: list[FoundCall]
    page: int
    more: bool  # another page follows


def branch_of(flow: Flow, call: Call) -> str | None:
    """The queue the call waited in, else the one its last menu leads to, else None."""
    if call.queue is not None:
        return call.queue
    return flow.menu_queue(call.menu) if call.menu in flow.menus else None


def branch_name(flow: Flow, queue: str | None) -> str | None:
    if queue is None:
        return None
    return flow.agents.queue_names.get(queue, {}).get(WORDS, queue)


def search(session: Session, flow: Flow, query: CallQuery) -> Found:
    conditions = _conditions(flow, query)
    rows = session.execute(
        select(Call, Agent.name)
        .outerjoin(Agent, Agent.id == Call.agent_id)
        .where(*conditions)
        .order_by(Call.started_at.desc(), Call.id.desc())
        .offset((query.page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    zone = ZoneInfo(flow.timezone)
    calls = [_found(flow, call, agent, zone) for call, agent in rows[:PAGE_SIZE]]
    return Found(calls, query.page, more=len(rows) > PAGE_SIZE)


def found_call(session: Session, flow: Flow, call: Call) -> FoundCall:
    agent = session.get(Agent, call.agent_id) if call.agent_id else None
    return _found(flow, call, agent.name if agent else None, ZoneInfo(flow.timezone))


def _found(flow: Flow, call: Call, agent: str | None, zone: ZoneInfo) -> FoundCall:
    return FoundCall(
        id=call.id,
        started_at=call.started_at.astimezone(zone),
        number=mask(call.caller, last=SHOWN_DIGITS),
        customer_id=call.customer_id or call.claimed_customer_id,
        verified=call.customer_id is not None,
        branch=branch_name(flow, branch_of(flow, call)),
        outcome=OUTCOMES.get(call.outcome, call.outcome) if call.outcome else None,
        seconds=call.duration_seconds,
        agent=agent,
    )


def _conditions(flow: Flow, query: CallQuery) -> list[ColumnElement[bool]]:
    zone = ZoneInfo(flow.timezone)
    conditions: list[ColumnElement[bool]] = []
    if query.first_day is not None:
        conditions.append(Call.started_at >= _midnight(query.first_day, zone))
    if query.last_day is not None:
        conditions.append(Call.started_at < _midnight(query.last_day + timedelta(days=1), zone))
    if query.outcome:
        conditions.append(Call.outcome == query.outcome)
    if query.branch:
        menus = [name for name in flow.menus if flow.menu_queue(name) == query.branch]
        conditions.append(
            or_(Call.queue == query.branch, and_(Call.queue.is_(None), Call.menu.in_(menus)))
        )
    if query.customer_id:
        customer = query.customer_id
        conditions.append(or_(Call.customer_id == customer, Call.claimed_customer_id == customer))
    if query.digits:
        # Digits only (CallQuery checks), so nothing in them is a LIKE wildcard.
        conditions.append(Call.caller.like(f"%{query.digits}"))
    return conditions


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone).astimezone(UTC)
