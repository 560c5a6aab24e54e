"""One-time SMS codes for customers without a phone PIN: 6 digits, 5 minutes, once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Customer, OneTimeCode
from models.db import changed
from verification.secrets import SMS_CODE, keyed_hash, matches, new_sms_code

CODE_LIFETIME = timedelta(minutes=5)
# A caller who keys the number in again within this time gets no second SMS:
# the first is on its way, and nobody can make Hotline text a customer in a loop.
RESEND_AFTER = timedelta(seconds=60)


def send_code(
    session: Session,
    send: Callable[[str, str], str],
    customer: Customer,
    message: str,
    *,
    key: bytes,
    now: datetime,
) -> None:
    """Text a fresh code to the customer's registered phone, retiring older ones.

    ``message`` holds ``{code}``; ``send(to, body)`` sends the SMS and gives its SID.
    Raises ``SmsNotSent`` (telephony.sms) when no SMS went out, and then keeps no code.
    """
    recent = session.scalar(
        select(OneTimeCode.id).where(
            OneTimeCode.customer_id == customer.id,
            OneTimeCode.used_at.is_(None),
            OneTimeCode.created_at > now - RESEND_AFTER,
        )
    )
    if recent is not None:
        return
    session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.customer_id == customer.id, OneTimeCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
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
        raise


def use_code(session: Session, customer_id: str, code: str, *, key: bytes, now: datetime) -> bool:
    """True once for a live code; the conditional UPDATE makes a second use fail."""
    live = session.scalars(
        select(OneTimeCode).where(
            OneTimeCode.customer_id == customer_id,
            OneTimeCode.used_at.is_(None),
            OneTimeCode.expires_at > now,
        )
    ).all()
    for row in live:
        if matches(key, SMS_CODE, customer_id, code, row.code_hash):
            used = changed(
                session,
                update(OneTimeCode)
                .where(OneTimeCode.id == row.id, OneTimeCode.used_at.is_(None))
                .values(used_at=now)
                .execution_options(synchronize_session=False),
            )
            return used == 1
    return False
