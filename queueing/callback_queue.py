"""Callbacks waiting for agents (SPEC §6, issue 9): a callback keeps its caller's place
among live callers, is offered to the agents who could have taken the call, and is
claimed by one agent at a time, however many servers answer webhooks.

Its place is the caller's: urgent first, then when the caller first queued (as
``routing.IN_TURN``; a caller who never queued, outside hours, from when they asked).
A callback is *due* when it is open, its next attempt's time has come, it is not
reserved for another agent, and agents answer: within the flow's business hours,
except the urgent queue's, which is open around the clock (SPEC §6) and so are its
callbacks: a stolen account is called back at night by the agents on duty.

Each attempt is a row of ``callback_attempts``; a conditional UPDATE moves a callback
from open to calling, and the database allows one open attempt per callback.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session

from calls.context import Context
from flowfile.vocabulary import Language
from models import Agent, Call, CallbackAttempt, CallbackRequest, CallEvent
from models.base import UTCDateTime
from models.db import changed
from models.queueing import IN_TURN as IN_TURN  # served as live callers are, off an index
from models.queueing import PLACE, CallbackStatus
from queueing.hours import is_open
from queueing.matching import URGENT, Profile, callbacks_for_any, profiles
from queueing.passes import not_passed_by
from queueing.routing import (
    AGENT_ID,
    NOW,
    OFFER_HOLDS,
    OFFERS_LAPSED,
    PASSES_SINCE,
    asking,
    callers_before,
    next_caller,
)

# How an attempt ends that does not reach the customer and counts against
# CALLBACK_ATTEMPTS: Twilio's final CallStatus values, and no key after the announcement.
NOT_REACHED = ("no-answer", "busy", "failed", "canceled", "no_key")
# Reached: they talked to the agent, or pressed 1 (an attempt's result while it is open,
# kept if they then hung up before the agent).
REACHED = ("talked", "answered")
# Neither: the agent left, or Twilio refused to place the call; tried again at once.
NOT_TRIED = ("agent_left", "not_placed")

_NEVER = datetime.max.replace(tzinfo=UTC)


def hours_open(ctx: Context) -> bool:
    """Whether agents answer now (the flow's hours): callbacks are tried only then."""
    return is_open(ctx.flow.hours, ctx.flow.timezone, ctx.now)


def due(now: datetime | ColumnElement[datetime], hours_open: bool) -> ColumnElement[bool]:
    """Open, its time come, and within hours (the urgent queue's at any hour)."""
    return and_(
        CallbackRequest.status == CallbackStatus.OPEN,
        or_(CallbackRequest.due_at.is_(None), CallbackRequest.due_at <= now),
        CallbackRequest.topic == URGENT if not hours_open else true(),
    )


def _free_for(
    agent_id: str | ColumnElement[str], lapsed: datetime | ColumnElement[datetime]
) -> ColumnElement[bool]:
    """Not reserved for another agent, or offered to them at ``lapsed`` or before."""
    return or_(
        CallbackRequest.offered_agent_id.is_(None),
        CallbackRequest.offered_agent_id == agent_id,
        CallbackRequest.offered_at <= lapsed,
    )


@lru_cache(maxsize=64)
def _in_turn_for(of: tuple[Profile, ...], hours_open: bool) -> Select[CallbackRequest]:
    """The callbacks an agent of the profiles ``of`` could take, in turn; run with the
    values ``routing.asking`` gives."""
    query = select(CallbackRequest).where(
        due(NOW, hours_open),
        _free_for(AGENT_ID, OFFERS_LAPSED),
        callbacks_for_any(of),
        not_passed_by(AGENT_ID, PASSES_SINCE, CallbackRequest.call_id),
    )
    return query.order_by(*IN_TURN)


@lru_cache(maxsize=64)
def _next_for(of: tuple[Profile, ...], hours_open: bool) -> Select[CallbackRequest]:
    return _in_turn_for(of, hours_open).limit(1).with_for_update(skip_locked=True)


def due_for(
    session: Session, agent: Agent, now: datetime, hours_open: bool
) -> list[CallbackRequest]:
    """The callbacks ``agent`` could take now, in turn."""
    query = _in_turn_for(profiles([agent]), hours_open)
    return list(session.scalars(query, asking(agent.id, now)))


def next_callback(
    session: Session, agent: Agent, now: datetime, hours_open: bool
) -> CallbackRequest | None:
    """The first callback ``agent`` could take now, locked until the transaction ends."""
    query = _next_for(profiles([agent]), hours_open)
    return session.scalars(query, asking(agent.id, now)).first()


def comes_before(callback: CallbackRequest, caller: Call) -> bool:
    """Whether agents serve ``callback`` before the live ``caller`` (``IN_TURN``); at the
    same moment, the callback (its caller asked first)."""
    mine = (callback.topic != URGENT, callback.queued_at or callback.created_at)
    theirs = (caller.queue != URGENT, caller.queued_at or _NEVER)
    return mine <= theirs


def next_work(
    session: Session, agent: Agent, now: datetime, hours_open: bool
) -> Call | CallbackRequest | None:
    """What ``agent`` should hear about next: a waiting live caller or a due callback,
    whichever comes first in turn."""
    caller = next_caller(session, agent, now)
    callback = next_callback(session, agent, now, hours_open)
    if callback is not None and (caller is None or comes_before(callback, caller)):
        return callback
    return caller


def ahead_of(
    session: Session, caller: Call, agent: Agent, now: datetime, hours_open: bool
) -> CallbackRequest | None:
    """A due callback ``agent`` could take that comes before ``caller``."""
    callback = next_callback(session, agent, now, hours_open)
    return callback if callback is not None and comes_before(callback, caller) else None


def work_ahead(
    session: Session, caller: Call, agents: Sequence[Agent], now: datetime, hours_open: bool
) -> int:
    """Waiting callers and due callbacks that agents serve before ``caller`` (``IN_TURN``,
    ``comes_before``) and that one of ``agents``, those who could take ``caller``, could
    take instead: callbacks keep their callers' places. One statement, built once for
    each kind of caller and set of agents; each caller only runs it."""
    if not agents or caller.queued_at is None:
        return 0
    query = _work_ahead(profiles(agents), caller.queue == URGENT, hours_open)
    params = {"caller_id": caller.id, "queued_at": caller.queued_at, "now": now}
    callers, callbacks = session.execute(query, params).one()
    return callers + callbacks


@lru_cache(maxsize=64)
def _work_ahead(of: tuple[Profile, ...], urgent: bool, hours_open: bool) -> Select[int, int]:
    queued_at = bindparam("queued_at", type_=UTCDateTime)
    earlier = PLACE <= queued_at
    before = (
        and_(CallbackRequest.topic == URGENT, earlier)
        if urgent
        else or_(CallbackRequest.topic == URGENT, earlier)
    )
    callbacks = (
        select(func.count())
        .select_from(CallbackRequest)
        .where(due(NOW, hours_open), before, callbacks_for_any(of))
        .scalar_subquery()
    )
    return select(
        callers_before(of, urgent, bindparam("caller_id", type_=Integer), queued_at), callbacks
    )


def new_request(
    session: Session, call: Call, number: str, language: Language, topic: str, now: datetime
) -> CallbackRequest:
    """A callback for the caller of ``call`` (asked for while waiting, or made from their
    voicemail on the desk), keeping their place among live callers: when they first
    queued."""
    callback = CallbackRequest(
        call_id=call.id,
        customer_id=call.customer_id,
        number=number,
        language=language,
        topic=topic,
        status=CallbackStatus.OPEN,
        created_at=now,
        queued_at=call.queued_at,
        attempts=0,
    )
    session.add(callback)
    return callback


def is_reserved_for(callback: CallbackRequest, agent_id: str, now: datetime) -> bool:
    return (
        callback.status == CallbackStatus.OPEN
        and callback.offered_agent_id == agent_id
        and callback.offered_at is not None
        and callback.offered_at > now - OFFER_HOLDS
    )


def reserve(session: Session, callback: CallbackRequest, agent_id: str, now: datetime) -> bool:
    """Keep ``callback`` for ``agent_id`` to hear about (and accept or pass), if nobody
    else has it: the conditional UPDATE settles two servers offering it at once."""
    reserved = changed(
        session,
        update(CallbackRequest)
        .where(
            CallbackRequest.id == callback.id,
            CallbackRequest.status == CallbackStatus.OPEN,
            _free_for(agent_id, now - OFFER_HOLDS),
        )
        .values(offered_agent_id=agent_id, offered_at=now)
        .execution_options(synchronize_session=False),
    )
    session.refresh(callback)
    return reserved == 1


def release(session: Session, callback: CallbackRequest, agent_id: str) -> None:
    """The agent passed or left: the callback may be offered to someone else."""
    session.execute(
        update(CallbackRequest)
        .where(
            CallbackRequest.id == callback.id,
            CallbackRequest.offered_agent_id == agent_id,
            CallbackRequest.status == CallbackStatus.OPEN,
        )
        .values(offered_agent_id=None, offered_at=None)
        .execution_options(synchronize_session=False)
    )
    session.refresh(callback)


def claim(
    session: Session, callback: CallbackRequest, agent_id: str, now: datetime, hours_open: bool
) -> CallbackAttempt | None:
    """The agent accepted: theirs only if it is still due and still theirs; the attempt
    starts now. Of two servers, one moves it to calling; a second open attempt of one
    callback is refused by the database whatever the path to it."""
    claimed = changed(
        session,
        update(CallbackRequest)
        .where(
            CallbackRequest.id == callback.id,
            CallbackRequest.offered_agent_id == agent_id,
            due(now, hours_open),
        )
        .values(
            status=CallbackStatus.CALLING, agent_id=agent_id, offered_agent_id=None, offered_at=None
        )
        .execution_options(synchronize_session=False),
    )
    session.refresh(callback)
    if claimed != 1:
        return None
    attempt = CallbackAttempt(callback_id=callback.id, agent_id=agent_id, started_at=now)
    session.add(attempt)
    session.flush()
    return attempt


def close(session: Session, callback_id: int, operator: str, now: datetime) -> bool:
    """An operator marks a callback done (the customer was reached another way): only
    while it is open, never once an agent has claimed it to call. A claim racing this
    finds it no longer due, and loses (an agent rung for it hears it is gone); so does
    this, if the claim came first. The step naming the operator goes on the call that
    asked for the callback. True if this closed it."""
    closed = changed(
        session,
        update(CallbackRequest)
        .where(CallbackRequest.id == callback_id, CallbackRequest.status == CallbackStatus.OPEN)
        .values(status=CallbackStatus.DONE, closed_at=now, offered_agent_id=None, offered_at=None)
        .execution_options(synchronize_session=False),
    )
    if closed != 1:
        return False
    closed_call = select(CallbackRequest.call_id).where(CallbackRequest.id == callback_id)
    call_id = session.scalar(closed_call)
    data = {"callback": callback_id, "operator": operator}
    session.add(CallEvent(call_id=call_id, kind="callback.closed", data=data, at=now))
    return True


def placed_for(session: Session, call_sid: str) -> CallbackRequest | None:
    """The callback whose customer call this is (placed by Hotline), whatever became of
    the attempt; None for any other call."""
    query = (
        select(CallbackRequest).join(CallbackAttempt).where(CallbackAttempt.call_sid == call_sid)
    )
    return session.scalars(query).first()


# Asked at every end of a call Hotline placed: built once.
OPEN_ATTEMPT = select(CallbackAttempt).where(
    CallbackAttempt.call_sid == bindparam("call_sid"), CallbackAttempt.ended_at.is_(None)
)


def open_attempt(session: Session, call_sid: str) -> CallbackAttempt | None:
    """The attempt whose customer call this is, while it is open."""
    return session.scalars(OPEN_ATTEMPT, {"call_sid": call_sid}).first()


def finish(ctx: Context, attempt: CallbackAttempt, result: str) -> bool:
    """Record how ``attempt`` ended, once (the key, the status callback, the agent's
    hang-up and the room may all report it, on any server), and what follows for its
    callback: done, tried again after ``CALLBACK_RETRY_MINUTES``, or unreachable after
    ``CALLBACK_ATTEMPTS`` misses."""
    session, now = ctx.session, ctx.now
    ended = changed(
        session,
        update(CallbackAttempt)
        .where(CallbackAttempt.id == attempt.id, CallbackAttempt.ended_at.is_(None))
        .values(result=result, ended_at=now)
        .execution_options(synchronize_session=False),
    )
    session.refresh(attempt)
    if ended != 1:
        return False
    callback = session.get(CallbackRequest, attempt.callback_id)
    if callback is None:
        return True
    callback.agent_id = None
    if result in REACHED:
        callback.status, callback.closed_at = CallbackStatus.DONE, now
    elif result in NOT_TRIED:
        callback.status, callback.due_at = CallbackStatus.OPEN, None
    else:
        callback.attempts += 1
        if callback.attempts >= ctx.settings.callback_attempts:
            callback.status, callback.closed_at = CallbackStatus.UNREACHABLE, now
        else:
            retry = timedelta(minutes=ctx.settings.callback_retry_minutes)
            callback.status, callback.due_at = CallbackStatus.OPEN, now + retry
    return True
