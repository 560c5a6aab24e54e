"""Self-service answers from the verified caller's own account (SPEC §4).

Each answer returns the lines to speak, as flow texts with the values to fill
in; answers that act (a refund ticket, a protective freeze) record what they did.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from sqlalchemy import select

from calls.context import CallContext
from calls.spoken import digits, money, when
from calls.twiml import Line
from flowfile.vocabulary import Text
from models import Account, Customer, RefundTicket, Transaction
from models.customers import CustomerStatus, TransactionKind, TransactionStatus
from models.tickets import TicketStatus


class NotVerified(RuntimeError):
    """An answer from account data was asked for a call that is not verified."""


def give(ctx: CallContext, name: str) -> list[Line]:
    # A check, not an assert: python -O must not strip the guard on account data.
    customer = ctx.customer(ctx.call.customer_id) if ctx.call.verified else None
    if customer is None:
        raise NotVerified(f"answer {name!r} asked for unverified call {ctx.call.id}")
    return ANSWERS[name](ctx, customer)


def freeze_reason(ctx: CallContext, customer: Customer) -> list[Line]:
    texts = ctx.flow.answers
    if customer.status != CustomerStatus.FROZEN:
        return [(texts.account_active, {})]
    return [(texts.account_frozen, {"reason": customer.freeze_reason or "-"})]


def latest_funds(ctx: CallContext, customer: Customer) -> list[Line]:
    texts = ctx.flow.answers
    return _latest_report(
        ctx,
        customer,
        texts.no_funds_movement,
        texts.funds_movement,
        kinds=(TransactionKind.TOPUP, TransactionKind.WITHDRAWAL),
    )


def latest_transaction(ctx: CallContext, customer: Customer) -> list[Line]:
    texts = ctx.flow.answers
    return _latest_report(ctx, customer, texts.no_transaction, texts.transaction)


def refund_request(ctx: CallContext, customer: Customer) -> list[Line]:
    """A ticket for the latest transaction, if it is a completed payment; once per transaction."""
    texts = ctx.flow.answers
    latest = _latest(ctx, customer)
    if (
        latest is None
        or latest.kind != TransactionKind.PAYMENT
        or latest.status != TransactionStatus.COMPLETED
    ):
        ctx.record("refund.refused", transaction=latest.id if latest else None)
        return [(texts.refund_not_possible, {})]
    ticket = ctx.session.scalars(
        select(RefundTicket).where(RefundTicket.transaction_id == latest.id)
    ).one_or_none()
    if ticket is None:
        ticket = RefundTicket(
            reference=_new_reference(ctx),
            customer_id=customer.id,
            transaction_id=latest.id,
            call_id=ctx.call.id,
            amount=latest.amount,
            status=TicketStatus.OPEN,
            created_at=ctx.now,
        )
        ctx.session.add(ticket)
        ctx.session.flush()
    ctx.record("refund.requested", reference=ticket.reference, transaction=latest.id)
    amount = money(ticket.amount, latest.account.currency, ctx.language)
    return [(texts.refund_recorded, {"reference": digits(ticket.reference), "amount": amount})]


def protective_freeze(ctx: CallContext, customer: Customer) -> list[Line]:
    """Freeze at once, on the verified customer's word; an agent follows up urgently."""
    texts = ctx.flow.answers
    customer.status = CustomerStatus.FROZEN
    customer.freeze_reason = texts.freeze_note[customer.language]
    ctx.record("account.frozen", by="caller")
    return [(texts.freeze_done, {})]


# The self-service answers a flow file may name (``do: answer``); the flow file is
# checked against this table when it is loaded, so adding one is one entry here.
ANSWERS: dict[str, Callable[[CallContext, Customer], list[Line]]] = {
    "freeze_reason": freeze_reason,
    "latest_funds": latest_funds,
    "latest_transaction": latest_transaction,
    "refund_request": refund_request,
    "protective_freeze": protective_freeze,
}


def _latest_report(
    ctx: CallContext,
    customer: Customer,
    nothing: Text,
    found: Text,
    kinds: tuple[TransactionKind, ...] | None = None,
) -> list[Line]:
    """The latest transaction (of ``kinds``): what, when, how much, its status, and when
    it should arrive if pending, or why it failed."""
    texts = ctx.flow.answers
    latest = _latest(ctx, customer, kinds)
    if latest is None:
        return [(nothing, {})]
    lines: list[Line] = [(found, _described(ctx, latest))]
    if latest.status == TransactionStatus.PENDING and latest.expected_at is not None:
        arrival = when(latest.expected_at, ctx.language, ctx.flow.timezone)
        lines.append((texts.expected_arrival, {"when": arrival}))
    if latest.status == TransactionStatus.FAILED and latest.failure_reason:
        lines.append((texts.failure_reason, {"reason": latest.failure_reason}))
    return lines


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
