"""The screen pop: who is calling and why, read from the call's record and the customer's.

Who: verified or not, the name (only for a verified caller), the number masked but for
its last digits, the language. Why: the branch, the path through the menus, the answers
heard, and for a verified caller their open refund tickets, recent transactions and
earlier calls with their outcomes. PINs and codes are never on a call's record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from flowfile.flow import Flow
from flowfile.vocabulary import Language
from models import Account, AgentCall, Call, CallEvent, Customer, RefundTicket, Transaction
from models.tickets import TicketStatus
from queueing.voicemails import SHOWN_DIGITS
from telephony.numbers import mask

RECENT = 5  # transactions and earlier calls shown


@dataclass(frozen=True)
class Step:
    menu: str
    choice: str  # the key, or "spoken"


@dataclass(frozen=True)
class Ticket:
    reference: str
    amount: Decimal
    created_at: datetime


@dataclass(frozen=True)
class Payment:
    created_at: datetime
    kind: str
    amount: Decimal
    status: str
    channel: str | None
    reason: str | None  # a failure reason in the agent's words


@dataclass(frozen=True)
class EarlierCall:
    started_at: datetime
    branch: str | None
    outcome: str | None
    disposition: str | None
    rating: int | None


@dataclass(frozen=True)
class Pop:
    call_id: int
    offered: bool  # still to accept or pass; else the agent is on this call
    callback: bool  # a customer Hotline calls back
    verified: bool
    name: str | None
    number: str
    language: str
    branch: str
    path: list[Step]
    heard: list[str]
    tickets: list[Ticket]
    payments: list[Payment]
    earlier: list[EarlierCall]


def screen_pop(session: Session, flow: Flow, caller: Call, offered: bool, words: Language) -> Pop:
    """What the desk shows of ``caller``, in the agent's language ``words``."""
    group = flow.agents
    callback = caller.outcome == "callback"
    # A customer called back is the customer on file, as their callback was asked for.
    customer_id = caller.customer_id or (caller.claimed_customer_id if callback else None)
    customer = session.get(Customer, customer_id) if customer_id else None
    language = group.language_names.get(caller.language or flow.default_language, {})
    branch = group.queue_names.get(caller.queue or "general", {})
    events = list(
        session.scalars(
            select(CallEvent)
            .where(CallEvent.call_id == caller.id, CallEvent.kind.in_(SHOWN_EVENTS))
            .order_by(CallEvent.id)
        )
    )
    answers = [event.data.get("answer") for event in events if event.kind == "answer.given"]
    return Pop(
        call_id=caller.id,
        offered=offered,
        callback=callback,
        verified=customer is not None,
        name=customer.name if customer else None,
        number=mask(caller.caller, last=SHOWN_DIGITS),
        language=language.get(words, caller.language or ""),
        branch=branch.get(words, caller.queue or ""),
        path=[
            Step(str(event.data.get("menu")), str(event.data.get("key") or "spoken"))
            for event in events
            if event.kind == "menu.chosen"
        ],
        heard=[
            group.answer_names[name][words]
            for name in dict.fromkeys(answers)
            if isinstance(name, str) and name in group.answer_names
        ],
        tickets=_tickets(session, customer) if customer else [],
        payments=_payments(session, flow, customer, words) if customer else [],
        earlier=_earlier(session, flow, customer, caller, words) if customer else [],
    )


SHOWN_EVENTS = ("menu.chosen", "answer.given")


def _tickets(session: Session, customer: Customer) -> list[Ticket]:
    rows = session.scalars(
        select(RefundTicket)
        .where(RefundTicket.customer_id == customer.id, RefundTicket.status == TicketStatus.OPEN)
        .order_by(RefundTicket.created_at.desc())
    )
    return [Ticket(row.reference, row.amount, row.created_at) for row in rows]


def _payments(session: Session, flow: Flow, customer: Customer, words: Language) -> list[Payment]:
    rows = session.scalars(
        select(Transaction)
        .join(Account, Account.id == Transaction.account_id)
        .where(Account.customer_id == customer.id)
        .order_by(Transaction.created_at.desc())
        .limit(RECENT)
    )
    return [
        Payment(
            row.created_at,
            row.kind,
            row.amount,
            row.status,
            row.channel,
            _reason(flow, row.failure_reason, words),
        )
        for row in rows
    ]


def _reason(flow: Flow, reason: str | None, words: Language) -> str | None:
    """A reason kept as a flow file code in the agent's words; free text as written."""
    if reason is None:
        return None
    return flow.reasons[reason][words] if reason in flow.reasons else reason


def _earlier(
    session: Session, flow: Flow, customer: Customer, caller: Call, words: Language
) -> list[EarlierCall]:
    calls = session.scalars(
        select(Call)
        .where(Call.customer_id == customer.id, Call.id != caller.id)
        .order_by(Call.started_at.desc(), Call.id.desc())
        .limit(RECENT)
    )
    earlier = []
    for call in calls:
        disposition = session.scalar(
            select(AgentCall.disposition)
            .where(AgentCall.caller_call_id == call.id, AgentCall.disposition.is_not(None))
            .order_by(AgentCall.id.desc())
            .limit(1)
        )
        names = flow.agents.dispositions.get(disposition or "", {})
        branch = flow.agents.queue_names.get(call.queue or "", {})
        earlier.append(
            EarlierCall(
                call.started_at,
                branch.get(words, call.queue) if call.queue else None,
                call.outcome,
                names.get(words, disposition) if disposition else None,
                call.rating,
            )
        )
    return earlier
