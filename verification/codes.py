"""One-time SMS codes (SPEC §5): 6 digits, 5 minutes, once; and when one may be sent.

A code goes only to a registered, unlocked customer, never while another of theirs is
live (the one in flight still works: it is not resent, so asking again texts nobody),
and at most so many a day per customer and per caller ID (settings). The caller hears
the same words whether or not a text went.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, func, select, update
from sqlalchemy.orm import QueryableAttribute, Session

from models import Call, CallEvent, Customer, OneTimeCode
from models.calls import SMS_SENT_ONLY
from models.db import changed
from verification import guard
from verification.secrets import SMS_CODE, keyed_hash, matches, new_sms_code

CODE_LIFETIME = timedelta(minutes=5)
DAY = timedelta(days=1)


class Withheld(enum.Enum):
    """Why no code was texted (for the call's history, never for the caller)."""

    UNREGISTERED = "unregistered"
    LOCKED = "locked"
    CUSTOMER_CAP = "customer_cap"
    CALLER_CAP = "caller_cap"
    IN_FLIGHT = "in_flight"


@dataclass(frozen=True)
class Limits:
    per_customer: int  # codes per customer per day
    per_caller: int  # codes per caller ID per day (withheld numbers count as one)


def withheld(
    session: Session,
    customer: Customer | None,
    caller: str | None,
    limits: Limits,
    now: datetime,
) -> Withheld | None:
    """Why no code may go to ``customer`` for a call from ``caller`` now, or None (and
    then this call holds the customer's one code in flight: ``send_code`` next)."""
    if customer is None:
        return Withheld.UNREGISTERED
    if guard.is_locked(session, guard.customer(customer.id), now):
        return Withheld.LOCKED
    sent_to_customer = session.scalar(
        select(func.count(OneTimeCode.id)).where(
            OneTimeCode.customer_id == customer.id, OneTimeCode.created_at > now - DAY
        )
    )
    if (sent_to_customer or 0) >= limits.per_customer:
        return Withheld.CUSTOMER_CAP
    if (session.scalar(texted_for(caller, now)) or 0) >= limits.per_caller:
        return Withheld.CALLER_CAP
    if not guard.hold(session, guard.sms_code(customer.id), until=now + CODE_LIFETIME, now=now):
        return Withheld.IN_FLIGHT
    return None


def texted_for(caller: str | None, now: datetime) -> Select[int]:
    """How many codes calls from ``caller`` (None: withheld numbers) had texted in the
    day before ``now``: counted off the index of texted codes (models.calls)."""
    same_caller = Call.caller.is_(None) if caller is None else Call.caller == caller
    return (
        select(func.count(CallEvent.id))
        .join(Call, CallEvent.call_id == Call.id)
        .where(SMS_SENT_ONLY, CallEvent.at > now - DAY, same_caller)
    )


def send_code(
    session: Session,
    send: Callable[[str, str], str],
    customer: Customer,
    message: str,
    *,
    key: bytes,
    now: datetime,
) -> None:
    """Text a fresh code to the customer's registered phone (``withheld`` said it may).

    ``message`` holds ``{code}``; ``send(to, body)`` sends the SMS and gives its SID.
    Raises ``SmsNotSent`` (telephony.sms) when no SMS went out, and then keeps no code
    and gives the hold back.
    """
    code = new_sms_code()
    row = OneTimeCode(
        customer_id=customer.id,
        code_hash=keyed_hash(key, SMS_CODE, customer.id, code),
        created_at=now,
        expires_at=now + CODE_LIFETIME,
    )
    session.add(row)
    session.flush()
    try:
        row.message_sid = send(customer.phone, message.format(code=code))
    except Exception:
        session.delete(row)
        guard.clear(session, guard.sms_code(customer.id))
        raise


def live(customer_id: QueryableAttribute[str], now: ColumnElement[datetime]) -> ColumnElement[bool]:
    """Which codes are the customer's and live at ``now``: unused and unexpired."""
    return and_(
        OneTimeCode.customer_id == customer_id,
        OneTimeCode.used_at.is_(None),
        OneTimeCode.expires_at > now,
    )


def matching_code(
    customer_id: str, code: str, live: Iterable[tuple[int, str]], *, key: bytes
) -> int | None:
    """The id of the code among ``live`` (the ids and hashes of the customer's live
    codes, read for a locked customer too, so that their attempt takes as long as any
    other) that ``code`` is, if any."""
    for code_id, code_hash in live:
        if matches(key, SMS_CODE, customer_id, code, code_hash):
            return code_id
    return None


def use_code(session: Session, customer_id: str, code_id: int, *, now: datetime) -> bool:
    """True once for a live code; the conditional UPDATE makes a second use fail. A used
    code frees the customer for another one."""
    used = changed(
        session,
        update(OneTimeCode)
        .where(OneTimeCode.id == code_id, OneTimeCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False),
    )
    if used == 1:
        guard.clear(session, guard.sms_code(customer_id))
    return used == 1
