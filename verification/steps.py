"""The verification steps of a call (SPEC §5), each returning what to play or a verdict.

Verification decides; the call flow (callflows.journey) decides what follows a verdict.
"""

from __future__ import annotations

import enum
import logging
from datetime import timedelta
from typing import TypeAlias

from sqlalchemy import select

from calls.context import CallContext
from calls.twiml import Document
from flowfile.vocabulary import Text
from models import Customer, VerificationAttempt
from models.calls import CallStage
from models.verification import AttemptMethod, AttemptOutcome
from telephony.numbers import keyed_in_number, mask
from telephony.rest import TwilioUnavailable
from telephony.urls import webhook_url
from verification import codes, guard
from verification.secrets import CUSTOMER_PIN, matches

log = logging.getLogger(__name__)


class Verdict(enum.Enum):
    VERIFIED = "verified"
    UNVERIFIED = "unverified"  # the attempts of this call are used up
    LOCKED = "locked"  # the caller-ID customer is locked out
    SMS_FAILED = "sms_failed"  # the caller-ID customer needs a code we could not send


Step: TypeAlias = Document | Verdict


def begin(ctx: CallContext) -> Step:
    """Ask for the PIN (or SMS code) of the caller-ID customer, else for a number."""
    customer = ctx.customer(ctx.call.claimed_customer_id) if ctx.call.claimed_by_caller_id else None
    if customer is None:
        return _ask_number(ctx, [])
    if guard.is_locked(ctx.session, guard.customer(customer.id), ctx.now):
        ctx.record("verification.locked")
        return Verdict.LOCKED
    if customer.pin_hash is None:
        try:
            _send_code(ctx, customer)
        except TwilioUnavailable as exc:
            log.error("SMS code for %s not sent: %s", mask(customer.phone), exc)
            ctx.record("verification.sms_failed")
            return Verdict.SMS_FAILED
    return _ask_secret(ctx, [])


def submit_number(ctx: CallContext, digits: str) -> Step:
    if not digits:
        return _no_input(ctx) or _ask_number(ctx, [ctx.flow.prompts.no_input])
    number = keyed_in_number(digits.rstrip("#"), ctx.settings.default_region)
    customer = None
    if number is not None:
        customer = ctx.session.scalars(select(Customer).where(Customer.phone == number)).first()
    ctx.call.claimed_customer_id = customer.id if customer else None
    ctx.call.claimed_by_caller_id = False
    ctx.record("verification.number_entered", registered=customer is not None)
    if customer is not None and customer.pin_hash is None:
        try:
            _send_code(ctx, customer)
        except TwilioUnavailable as exc:
            # Said nothing about it: the caller must not learn the number is registered.
            log.error("SMS code for %s not sent: %s", mask(customer.phone), exc)
            ctx.record("verification.sms_failed")
    return _ask_secret(ctx, [])


def submit_secret(ctx: CallContext, digits: str) -> Step:
    if not digits:
        return _no_input(ctx) or _ask_secret(ctx, [ctx.flow.prompts.no_input])
    secret = digits.rstrip("#")
    customer = ctx.customer(ctx.call.claimed_customer_id)
    method = (
        AttemptMethod.SMS_CODE
        if customer is not None and customer.pin_hash is None
        else AttemptMethod.PIN
    )
    if customer is None:
        # Hash anyway, so an unregistered number costs the same work as a wrong PIN.
        matches(ctx.settings.secret_key_bytes(), CUSTOMER_PIN, "", secret, None)
        return _failed(ctx, None, method)
    settings = ctx.settings
    if not guard.reserve_attempt(
        ctx.session,
        guard.customer(customer.id),
        limit=settings.verification_lockout_failures,
        lock_for=timedelta(minutes=settings.verification_lockout_minutes),
        now=ctx.now,
    ):
        _attempt(ctx, customer.id, method, AttemptOutcome.LOCKED)
        if ctx.call.claimed_by_caller_id:
            ctx.record("verification.locked")
            return Verdict.LOCKED
        # A keyed-in number gets no hint that it is registered, or locked.
        return _failed(ctx, customer.id, method, counted=False)
    key = settings.secret_key_bytes()
    if method is AttemptMethod.PIN:
        correct = matches(key, CUSTOMER_PIN, customer.id, secret, customer.pin_hash)
    else:
        correct = codes.use_code(ctx.session, customer.id, secret, key=key, now=ctx.now)
    if not correct:
        return _failed(ctx, customer.id, method)
    guard.clear(ctx.session, guard.customer(customer.id))
    _attempt(ctx, customer.id, method, AttemptOutcome.SUCCESS)
    ctx.call.verified = True
    ctx.call.customer_id = customer.id
    if ctx.call.language is None:
        ctx.call.language = customer.language
    ctx.record(
        "verification.verified",
        method=method.value,
        via="caller_id" if ctx.call.claimed_by_caller_id else "keyed_number",
    )
    return Verdict.VERIFIED


def ask_number(ctx: CallContext) -> Document:
    return _ask_number(ctx, [])


def ask_secret(ctx: CallContext) -> Document:
    return _ask_secret(ctx, [])


def _failed(
    ctx: CallContext, customer_id: str | None, method: AttemptMethod, *, counted: bool = True
) -> Step:
    if counted:
        _attempt(ctx, customer_id, method, AttemptOutcome.FAILURE)
    ctx.call.verification_failures += 1
    ctx.record("verification.failed", attempt=ctx.call.verification_failures)
    if ctx.call.verification_failures >= ctx.settings.verification_attempts_per_call:
        return Verdict.UNVERIFIED
    retry = [ctx.flow.prompts.not_matched]
    if ctx.call.claimed_by_caller_id:
        return _ask_secret(ctx, retry)
    # A keyed-in number starts over from the number, so that a wrong number and
    # a wrong PIN sound exactly the same.
    ctx.call.claimed_customer_id = None
    return _ask_number(ctx, retry)


def _no_input(ctx: CallContext) -> Verdict | None:
    """Silence uses up one of the call's attempts (it is no guess, so no lockout count)."""
    ctx.call.verification_failures += 1
    ctx.record("verification.no_input", attempt=ctx.call.verification_failures)
    if ctx.call.verification_failures >= ctx.settings.verification_attempts_per_call:
        return Verdict.UNVERIFIED
    return None


def _ask_number(ctx: CallContext, preface: list[Text]) -> Document:
    ctx.call.stage = CallStage.NUMBER
    return ctx.voice.ask([*preface, ctx.flow.prompts.ask_number], webhook_url("verify.number"))


def _ask_secret(ctx: CallContext, preface: list[Text]) -> Document:
    ctx.call.stage = CallStage.SECRET
    prompts = ctx.flow.prompts
    question = prompts.ask_pin_or_code
    if ctx.call.claimed_by_caller_id:
        customer = ctx.customer(ctx.call.claimed_customer_id)
        question = prompts.ask_pin if customer and customer.pin_hash else prompts.ask_sms_code
    return ctx.voice.ask([*preface, question], webhook_url("verify.secret"))


def _send_code(ctx: CallContext, customer: Customer) -> None:
    language = ctx.call.language or customer.language
    codes.send_code(
        ctx.session,
        ctx.twilio,
        customer,
        ctx.flow.prompts.sms_code[language],
        key=ctx.settings.secret_key_bytes(),
        now=ctx.now,
    )
    ctx.record("verification.sms_sent")


def _attempt(
    ctx: CallContext, customer_id: str | None, method: AttemptMethod, outcome: AttemptOutcome
) -> None:
    ctx.session.add(
        VerificationAttempt(
            call_id=ctx.call.id, customer_id=customer_id, method=method, outcome=outcome
        )
    )
