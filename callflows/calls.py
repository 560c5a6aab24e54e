"""The call record behind every webhook: opened on first sight, found by CallSid."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from callflows.flow import Flow
from models import Call, CallEvent, Customer
from settings import Settings
from telephony.params import VoiceParams
from telephony.rest import TwilioGateway
from verification.numbers import to_e164


class NoCallSid(Exception):
    """A webhook without a CallSid cannot be tied to a call."""


@dataclass
class CallContext:
    """What one webhook needs to decide and answer, for one call."""

    session: Session
    call: Call
    flow: Flow
    settings: Settings
    twilio: TwilioGateway
    now: datetime  # the app's clock at this request (tests set it)

    @property
    def language(self) -> str:
        return self.call.language or self.flow.default_language

    def record(self, kind: str, **data: Any) -> None:
        """Add a step to the call's history (never a PIN, code or full number)."""
        self.session.add(CallEvent(call=self.call, kind=kind, data=data))

    def customer(self, customer_id: str | None) -> Customer | None:
        return self.session.get(Customer, customer_id) if customer_id else None


def find_or_open_call(session: Session, params: VoiceParams, region: str) -> Call:
    """The call's record, opened (and the caller ID looked up) if this is its first webhook.

    Any webhook may be the first one this database sees of a call (out of order,
    or after a restore), so every route comes through here.
    """
    if not params.call_sid:
        raise NoCallSid
    call = session.scalars(select(Call).where(Call.call_sid == params.call_sid)).one_or_none()
    if call is not None:
        return call
    caller = to_e164(params.from_, region)
    # Column defaults apply only at INSERT: set what the steps read before then.
    call = Call(
        call_sid=params.call_sid,
        caller=caller,
        called=to_e164(params.to, region),
        stage="language",
        verified=False,
        verification_failures=0,
        menu_misses=0,
        claimed_by_caller_id=False,
        turn=0,
    )
    if caller is not None:
        # Only a claim: caller ID can be spoofed, so it never verifies anyone.
        customer_id = session.scalars(select(Customer.id).where(Customer.phone == caller)).first()
        call.claimed_customer_id = customer_id
        call.claimed_by_caller_id = customer_id is not None
    identified = "known" if call.claimed_by_caller_id else "unknown" if caller else "withheld"
    session.add(call)
    session.add(CallEvent(call=call, kind="call.started", data={"caller_id": identified}))
    session.flush()
    return call
