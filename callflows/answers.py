"""Self-service answers from the verified caller's own account (SPEC §4).

Each answer gives the lines to speak, as flow texts with the values to fill in
(and whether what it found needs a person, when the answer then offers an
agent). Answers that act (a refund ticket, a protective freeze) are ``Action``s: what they
would do is read back first, and only a confirmation carries them out (SPEC §4).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from calls.context import CallContext
from calls.spoken import money, reference, when
from calls.twiml import Line, Verbatim
from flowfile.texts import FROZEN_BY_CALLER, reason_code
from flowfile.vocabulary import Text
from models import Account, Customer, RefundTicket, Transaction
from models.customers import CustomerStatus, TransactionKind, TransactionStatus
from models.tickets import TicketStatus


class NotVerified(RuntimeError):
    """An answer from account data was asked for a call that is not verified."""


class NotConfirmed(RuntimeError):
    """An answer that acts was asked for as if it were only information."""


@dataclass(frozen=True)
class Given:
    """What an answer says; ``offer_agent`` when what it found needs a person (money
    overdue), so that it ends with the offer of an agent whatever the option's ``then``."""

    lines: list[Line] = field(default_factory=list)
    offer_agent: bool = False


@dataclass(frozen=True)
class Proposal:
    """What an acting answer would act on, kept on the call until the caller confirms:
    a transaction's id, or None for the account itself."""

    subject: str | None = None


Give = Callable[[CallContext, Customer], Given]
Acting = Callable[[CallContext, Customer, str | None], list[Line]]


@dataclass(frozen=True)
class Action:
    """An answer that changes something. ``propose`` finds what it would act on, or the
    lines saying there is nothing to do; ``read_back`` says what would happen and asks
    for the confirm key; ``carry_out`` does it, and does nothing more when run again
    (a repeat of its answer, or a replayed confirmation)."""

    propose: Callable[[CallContext, Customer], Proposal | list[Line]]
    read_back: Acting
    carry_out: Acting


def give(ctx: CallContext, name: str) -> Given:
    answer = ANSWERS[name]
    if isinstance(answer, Action):
        raise NotConfirmed(f"answer {name!r} acts: propose it, then carry it out")
    return answer(ctx, _verified(ctx, name))


def propose(ctx: CallContext, name: str) -> Proposal | list[Line]:
    return _action(name).propose(ctx, _verified(ctx, name))


def read_back(ctx: CallContext, name: str, subject: str | None) -> list[Line]:
    return _action(name).read_back(ctx, _verified(ctx, name), subject)


def carry_out(ctx: CallContext, name: str, subject: str | None) -> list[Line]:
    return _action(name).carry_out(ctx, _verified(ctx, name), subject)


def _verified(ctx: CallContext, name: str) -> Customer:
    # A check, not an assert: python -O must not strip the guard on account data.
    customer = ctx.customer(ctx.call.customer_id) if ctx.call.verified else None
    if customer is None:
        raise NotVerified(f"answer {name!r} asked for unverified call {ctx.call.id}")
    return customer


def _action(name: str) -> Action:
    action = ANSWERS[name]
    if not isinstance(action, Action):
        raise LookupError(f"answer {name!r} does not act")
    return action


def freeze_reason(ctx: CallContext, customer: Customer) -> Given:
    texts = ctx.flow.answers
    if customer.status != CustomerStatus.FROZEN:
        return Given([(texts.account_active, {})])
    return Given([(texts.account_frozen, {"reason": _reason(ctx, customer.freeze_reason)})])


def latest_funds(ctx: CallContext, customer: Customer) -> Given:
    texts = ctx.flow.answers
    return _latest_report(
        ctx,
        customer,
        texts.no_funds_movement,
        texts.funds_movement,
        kinds=(TransactionKind.TOPUP, TransactionKind.WITHDRAWAL),
    )


def latest_transaction(ctx: CallContext, customer: Customer) -> Given:
    texts = ctx.flow.answers
    return _latest_report(ctx, customer, texts.no_transaction, texts.transaction)


def propose_refund(ctx: CallContext, customer: Customer) -> Proposal | list[Line]:
    """The latest transaction, if it is a completed payment with no refund asked yet."""
    latest = _latest(ctx, customer)
    if latest is None or not _refundable(latest):
        ctx.record("refund.refused", transaction=latest.id if latest else None)
        return [(ctx.flow.answers.refund_not_possible, {})]
    ticket = _ticket(ctx, latest.id)
    if ticket is not None:  # asked before: nothing to confirm, the same reference
        return _recorded(ctx, ticket)
    return Proposal(latest.id)


def read_back_refund(ctx: CallContext, customer: Customer, subject: str | None) -> list[Line]:
    item = _own(ctx, customer, subject)
    if item is None:
        return [(ctx.flow.answers.refund_not_possible, {})]
    return [(ctx.flow.answers.confirm_refund, _described(ctx, item))]


def refund_request(ctx: CallContext, customer: Customer, subject: str | None) -> list[Line]:
    """A ticket for the payment read back; once per transaction, whoever asks again."""
    item = _own(ctx, customer, subject)
    if item is None or not _refundable(item):
        ctx.record("refund.refused", transaction=subject)
        return [(ctx.flow.answers.refund_not_possible, {})]
    ticket = _ticket(ctx, item.id)
    if ticket is None:
        ticket = RefundTicket(
            reference=_new_reference(ctx),
            customer_id=customer.id,
            transaction_id=item.id,
            call_id=ctx.call.id,
            amount=item.amount,
            status=TicketStatus.OPEN,
            created_at=ctx.now,
        )
        ctx.session.add(ticket)
        ctx.session.flush()
        ctx.record("refund.requested", reference=ticket.reference, transaction=item.id)
    return _recorded(ctx, ticket)


def refund_reference(ctx: CallContext, customer: Customer) -> Given:
    """The latest refund ticket's reference again, asked for in this call or a later one."""
    texts = ctx.flow.answers
    ticket = ctx.session.scalars(
        select(RefundTicket)
        .where(RefundTicket.customer_id == customer.id)
        .order_by(RefundTicket.created_at.desc(), RefundTicket.id.desc())
        .limit(1)
    ).first()
    if ticket is None:
        return Given([(texts.no_refund_ticket, {})])
    return Given([(texts.refund_reference, _ticket_values(ctx, ticket))])


def read_back_freeze(ctx: CallContext, customer: Customer, subject: str | None) -> list[Line]:
    return [(ctx.flow.answers.confirm_freeze, {})]


def protective_freeze(ctx: CallContext, customer: Customer, subject: str | None) -> list[Line]:
    """Freeze, on the verified customer's confirmed word; an agent follows up urgently.
    An account frozen already keeps the reason it has."""
    texts = ctx.flow.answers
    if customer.status != CustomerStatus.FROZEN:
        customer.status = CustomerStatus.FROZEN
        customer.freeze_reason = FROZEN_BY_CALLER  # a code: said in whichever language asks
        ctx.record("account.frozen", by="caller")
    return [(texts.freeze_done, {})]


# The self-service answers a flow file may name (``do: answer``); the flow file is
# checked against this table when it is loaded, so adding one is one entry here.
ANSWERS: dict[str, Give | Action] = {
    "freeze_reason": freeze_reason,
    "latest_funds": latest_funds,
    "latest_transaction": latest_transaction,
    "refund_request": Action(propose_refund, read_back_refund, refund_request),
    "refund_reference": refund_reference,
    "protective_freeze": Action(lambda *_: Proposal(), read_back_freeze, protective_freeze),
}
# The answers that change something: the engine has them confirmed first.
ACTING = frozenset(name for name, answer in ANSWERS.items() if isinstance(answer, Action))


def _latest_report(
    ctx: CallContext,
    customer: Customer,
    nothing: Text,
    found: Text,
    kinds: tuple[TransactionKind, ...] | None = None,
) -> Given:
    """The latest transaction (of ``kinds``): what, when, how much, its status, and when
    it should arrive if pending (or that it is overdue, with an agent offered), or why
    it failed."""
    texts = ctx.flow.answers
    latest = _latest(ctx, customer, kinds)
    if latest is None:
        return Given([(nothing, {})])
    described = _described(ctx, latest)
    lines: list[Line] = [(found, described)]
    if latest.status == TransactionStatus.PENDING and latest.expected_at is not None:
        arrival = when(latest.expected_at, ctx.language, ctx.flow.timezone)
        if latest.expected_at < ctx.now:
            lines.append((texts.overdue, {"kind": described["kind"], "when": arrival}))
            return Given(lines, offer_agent=True)
        lines.append((texts.expected_arrival, {"when": arrival}))
    if latest.status == TransactionStatus.FAILED and latest.failure_reason:
        lines.append((texts.failure_reason, {"reason": _reason(ctx, latest.failure_reason)}))
    return Given(lines)


def _reason(ctx: CallContext, stored: str | None) -> Text | Verbatim:
    """A reason on file: its code's words in the caller's language, else the free text
    as it was written, read by the voice of its own script."""
    if not stored:
        return Verbatim("-")
    code = reason_code(stored, ctx.flow.reasons)
    return ctx.flow.reasons.get(code) or Verbatim(stored)


def _latest(
    ctx: CallContext, customer: Customer, kinds: tuple[TransactionKind, ...] | None = None
) -> Transaction | None:
    query = (
        select(Transaction)
        .join(Account)
        .where(Account.customer_id == customer.id)
        .order_by(Transaction.created_at.desc(), Transaction.id.desc())
        .limit(1)
    )
    if kinds is not None:
        query = query.where(Transaction.kind.in_(kinds))
    return ctx.session.scalars(query).first()


def _own(ctx: CallContext, customer: Customer, subject: str | None) -> Transaction | None:
    """The transaction kept on the call, if it is still this customer's."""
    item = ctx.session.get(Transaction, subject) if subject else None
    return item if item is not None and item.account.customer_id == customer.id else None


def _refundable(item: Transaction) -> bool:
    return item.kind == TransactionKind.PAYMENT and item.status == TransactionStatus.COMPLETED


def _ticket(ctx: CallContext, transaction_id: str) -> RefundTicket | None:
    query = select(RefundTicket).where(RefundTicket.transaction_id == transaction_id)
    return ctx.session.scalars(query).one_or_none()


def _recorded(ctx: CallContext, ticket: RefundTicket) -> list[Line]:
    return [(ctx.flow.answers.refund_recorded, _ticket_values(ctx, ticket))]


def _ticket_values(ctx: CallContext, ticket: RefundTicket) -> dict[str, str]:
    """A ticket's amount, and its reference in short groups (the texts say it twice)."""
    currency = ctx.session.scalars(
        select(Account.currency).join(Transaction).where(Transaction.id == ticket.transaction_id)
    ).one()
    return {
        "amount": money(ticket.amount, currency, ctx.language),
        "reference": reference(ticket.reference, ctx.language),
    }


def _described(ctx: CallContext, item: Transaction) -> dict[str, str]:
    words = ctx.flow.words
    return {
        "kind": getattr(words, item.kind)[ctx.language],
        "status": getattr(words, item.status)[ctx.language],
        "amount": money(item.amount, item.account.currency, ctx.language),
        "when": when(item.created_at, ctx.language, ctx.flow.timezone),
    }


def _new_reference(ctx: CallContext) -> str:
    """Eight digits, easy to read out and key in; unique, checked against the tickets."""
    while True:
        reference = f"{secrets.randbelow(10**8):08d}"
        taken = ctx.session.scalar(
            select(RefundTicket.id).where(RefundTicket.reference == reference)
        )
        if taken is None:
            return reference
