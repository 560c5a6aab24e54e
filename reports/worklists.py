"""The work callers left for agents, as the console lists it: callbacks and voicemails
with their state and who has them. Open ones in the order agents take them (urgent
first, then the longest waiting); all of them newest first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from flowfile.flow import Flow
from models import Agent, Call, CallbackAttempt, CallbackRequest, CallEvent, Voicemail
from models.queueing import VOICEMAILS_IN_TURN, CallbackStatus, FollowUpStatus
from queueing import callback_queue
from queueing.routing import OFFER_HOLDS
from queueing.voicemails import SHOWN_DIGITS
from reports.calls import branch_name
from telephony.numbers import mask

LIMIT = 200  # rows a list shows: the open ones in turn, or the newest
OPEN_CALLBACKS = (CallbackStatus.OPEN, CallbackStatus.CALLING)


@dataclass(frozen=True)
class CallbackItem:
    id: int
    call_id: int
    asked_at: datetime  # local
    topic: str
    number: str  # masked
    status: CallbackStatus
    agent: str | None  # calling it now, ringing for it, or the last who tried
    attempts: int  # that did not reach the customer
    closed_at: datetime | None  # local
    closed_by: str | None  # the operator who marked it done
    closable: bool  # open and nobody calling it: an operator may mark it done


@dataclass(frozen=True)
class VoicemailItem:
    id: int
    call_id: int
    left_at: datetime  # local
    topic: str
    number: str  # masked
    verified: bool
    seconds: int | None
    status: FollowUpStatus
    taken_by: str | None  # an agent's name
    done_by: str | None  # an agent's name, or "operator NAME"
    done_at: datetime | None  # local


def callback_list(
    session: Session, flow: Flow, now: datetime, *, only_open: bool
) -> list[CallbackItem]:
    """Callbacks with who has them: the open ones in turn, or all, newest first."""
    offered = aliased(Agent)
    calling = aliased(Agent)
    query = (
        select(CallbackRequest, calling.name, offered.name)
        .outerjoin(calling, calling.id == CallbackRequest.agent_id)
        .outerjoin(offered, offered.id == CallbackRequest.offered_agent_id)
        .limit(LIMIT)
    )
    if only_open:
        query = query.where(CallbackRequest.status.in_(OPEN_CALLBACKS)).order_by(
            *callback_queue.IN_TURN
        )
    else:
        query = query.order_by(CallbackRequest.created_at.desc(), CallbackRequest.id.desc())
    rows = session.execute(query).all()
    ids = [callback.id for callback, _, _ in rows]
    last_tried = _last_tried(session, ids)
    closed_by = _closed_by(session, "callback", (callback.call_id for callback, _, _ in rows))
    zone = ZoneInfo(flow.timezone)
    items = []
    for callback, calling_name, offered_name in rows:
        ringing = offered_name if _offer_holds(callback, now) else None
        items.append(
            CallbackItem(
                id=callback.id,
                call_id=callback.call_id,
                asked_at=callback.created_at.astimezone(zone),
                topic=branch_name(flow, callback.topic) or callback.topic,
                number=mask(callback.number, last=SHOWN_DIGITS),
                status=callback.status,
                agent=calling_name or ringing or last_tried.get(callback.id),
                attempts=callback.attempts,
                closed_at=callback.closed_at.astimezone(zone) if callback.closed_at else None,
                closed_by=closed_by.get(callback.id),
                closable=callback.status == CallbackStatus.OPEN,
            )
        )
    return items


def voicemail_list(session: Session, flow: Flow, *, only_open: bool) -> list[VoicemailItem]:
    """Voicemails with who took them and who marked them done: open ones in turn, or
    all, newest first."""
    taker = aliased(Agent)
    doer = aliased(Agent)
    query = (
        select(Voicemail, Call.caller, taker.name, doer.name)
        .join(Call, Call.id == Voicemail.call_id)
        .outerjoin(taker, taker.id == Voicemail.taken_by)
        .outerjoin(doer, doer.id == Voicemail.done_by)
        .limit(LIMIT)
    )
    if only_open:
        query = query.where(Voicemail.status == FollowUpStatus.OPEN).order_by(*VOICEMAILS_IN_TURN)
    else:
        query = query.order_by(Voicemail.created_at.desc(), Voicemail.id.desc())
    rows = session.execute(query).all()
    closed_by = _closed_by(session, "voicemail", (row[0].call_id for row in rows))
    zone = ZoneInfo(flow.timezone)
    return [
        VoicemailItem(
            id=voicemail.id,
            call_id=voicemail.call_id,
            left_at=voicemail.created_at.astimezone(zone),
            topic=branch_name(flow, voicemail.topic) or voicemail.topic,
            number=mask(caller, last=SHOWN_DIGITS),
            verified=voicemail.customer_id is not None,
            seconds=voicemail.duration_seconds,
            status=voicemail.status,
            taken_by=taker_name,
            done_by=doer_name or _operator(closed_by.get(voicemail.id)),
            done_at=voicemail.done_at.astimezone(zone) if voicemail.done_at else None,
        )
        for voicemail, caller, taker_name, doer_name in rows
    ]


def _offer_holds(callback: CallbackRequest, now: datetime) -> bool:
    return callback.offered_at is not None and callback.offered_at > now - OFFER_HOLDS


def _last_tried(session: Session, callback_ids: list[int]) -> dict[int, str]:
    """The agent of each callback's latest attempt."""
    rows = session.execute(
        select(CallbackAttempt.callback_id, Agent.name)
        .join(Agent, Agent.id == CallbackAttempt.agent_id)
        .where(CallbackAttempt.callback_id.in_(callback_ids))
        .order_by(CallbackAttempt.id)
    )
    return {callback_id: name for callback_id, name in rows}


def _closed_by(session: Session, what: str, call_ids: Iterable[int]) -> dict[int, str]:
    """The operator who marked each callback or voicemail done, by its id: the
    ``{what}.closed`` steps on the callers' calls."""
    events = session.scalars(
        select(CallEvent).where(
            CallEvent.kind == f"{what}.closed", CallEvent.call_id.in_(set(call_ids))
        )
    )
    return {int(event.data[what]): str(event.data["operator"]) for event in events}


def _operator(name: str | None) -> str | None:
    return f"operator {name}" if name else None
