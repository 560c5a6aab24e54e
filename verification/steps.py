"""The verification steps of a call (SPEC §5), each returning what to play or a verdict.

verification.policy decides; the steps here read and write the database (the claim,
the lockout guard, SMS codes, attempts) and carry its decisions out. The call flow
(callflows) decides what follows a verdict.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TypeAlias

from sqlalchemy import select

from calls.context import CallContext
from calls.twiml import Document
from models import Customer, VerificationAttempt
from models.calls import CallStage
from models.verification import AttemptMethod, AttemptOutcome
from telephony.numbers import keyed_in_number, mask
from telephony.sms import SmsNotSent
from telephony.urls import webhook_url
from verification import codes, guard, policy
from verification.policy import (
    AskNumber,
    AskSecret,
    Claim,
    Decision,
    Failed,
    NoInput,
    SendCode,
    Verdict,
)
from verification.secrets import CUSTOMER_PIN, matches

log = logging.getLogger(__name__)

Step: TypeAlias = Document | Verdict


def begin(ctx: CallContext) -> Step:
    """Ask for the PIN (or SMS code) of the caller-ID customer, else for a number."""
    customer = ctx.customer(ctx.call.claimed_customer_id) if ctx.call.claimed_by_caller_id else None
    if customer is None:
        return _carry_out(ctx, policy.begin(ctx.flow.prompts, Claim.NOBODY, locked=False))
    locked = guard.is_locked(ctx.session, guard.customer(customer.id), ctx.now)
    return _carry_out(ctx, policy.begin(ctx.flow.prompts, _claim(ctx), locked=locked))


def submit_number(ctx: CallContext, digits: str) -> Step:
    prompts = ctx.flow.prompts
    if not digits:
        return _carry_out(ctx, policy.after_silence(prompts, Claim.NOBODY, **_attempts(ctx)))
    if _wants_agent(ctx, digits):
        return Verdict.AGENT
    number = keyed_in_number(digits.rstrip("#"), ctx.settings.default_region)
    customer = None
    if number is not None:
        customer = ctx.session.scalars(select(Customer).where(Customer.phone == number)).first()
    ctx.call.claimed_customer_id = customer.id if customer else None
    ctx.call.claimed_by_caller_id = False
    registered = customer is not None
    ctx.record("verification.number_entered", registered=registered)
    has_pin = customer is not None and customer.pin_hash is not None
    return _carry_out(ctx, policy.after_number(prompts, registered=registered, has_pin=has_pin))


def submit_secret(ctx: CallContext, digits: str) -> Step:
    prompts = ctx.flow.prompts
    claim = _claim(ctx)
    if not digits:
        return _carry_out(ctx, policy.after_silence(prompts, claim, **_attempts(ctx)))
    if _wants_agent(ctx, digits):
        return Verdict.AGENT
    secret = digits.rstrip("#")
    customer = ctx.customer(ctx.call.claimed_customer_id)
    method = (
        AttemptMethod.SMS_CODE
        if customer is not None and customer.pin_hash is None
        else AttemptMethod.PIN
    )
    settings = ctx.settings
    if customer is None:
        # Hash anyway, so an unregistered number costs the same work as a wrong PIN.
        matches(settings.secret_key_bytes(), CUSTOMER_PIN, "", secret, None)
        _attempt(ctx, None, method, AttemptOutcome.FAILURE)
        return _carry_out(ctx, policy.after_failure(prompts, claim, **_attempts(ctx)))
    if not guard.reserve_attempt(
        ctx.session,
        guard.customer(customer.id),
        limit=settings.verification_lockout_failures,
        lock_for=timedelta(minutes=settings.verification_lockout_minutes),
        now=ctx.now,
    ):
        _attempt(ctx, customer.id, method, AttemptOutcome.LOCKED)
        return _carry_out(ctx, policy.after_lockout(prompts, claim, **_attempts(ctx)))
    key = settings.secret_key_bytes()
    if method is AttemptMethod.PIN:
        correct = matches(key, CUSTOMER_PIN, customer.id, secret, customer.pin_hash)
    else:
        correct = codes.use_code(ctx.session, customer.id, secret, key=key, now=ctx.now)
    if not correct:
        _attempt(ctx, customer.id, method, AttemptOutcome.FAILURE)
        return _carry_out(ctx, policy.after_failure(prompts, claim, **_attempts(ctx)))
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
    return _ask(ctx, policy.ask(ctx.flow.prompts, Claim.NOBODY))


def ask_secret(ctx: CallContext) -> Document:
    return _ask(ctx, policy.ask_secret(ctx.flow.prompts, _claim(ctx)))


def _wants_agent(ctx: CallContext, digits: str) -> bool:
    if not policy.wants_agent(digits.rstrip("#"), ctx.flow.keys.agent):
        return False
    ctx.record("verification.agent_asked", stage=ctx.call.stage)
    return True


def _claim(ctx: CallContext) -> Claim:
    """The claim of a call that has a number: its caller ID's, or a keyed-in one (whose
    customer is not even looked up, so that silence costs the same either way)."""
    if not ctx.call.claimed_by_caller_id:
        return Claim.KEYED_IN
    # A lookup, not a write: flushing the call here would cost this request an extra
    # UPDATE of it (and of its version).
    with ctx.session.no_autoflush:
        customer = ctx.customer(ctx.call.claimed_customer_id)
    has_pin = customer is not None and customer.pin_hash is not None
    return Claim.CALLER_ID_PIN if has_pin else Claim.CALLER_ID_CODE


def _attempts(ctx: CallContext) -> dict[str, int]:
    return {
        "failures": ctx.call.verification_failures,
        "limit": ctx.settings.verification_attempts_per_call,
    }


def _carry_out(ctx: CallContext, decision: Decision) -> Step:
    """Text a code, count a failure or a silence, ask, or hand on a verdict."""
    if isinstance(decision, SendCode):
        return _carry_out(ctx, decision.then if _texted(ctx) else decision.unsent)
    if isinstance(decision, Failed | NoInput):
        ctx.call.verification_failures = decision.failures
        kind = "verification.failed" if isinstance(decision, Failed) else "verification.no_input"
        ctx.record(kind, attempt=decision.failures)
        return _carry_out(ctx, decision.then)
    if isinstance(decision, Verdict):
        if decision is Verdict.LOCKED:
            ctx.record("verification.locked")
        return decision
    return _ask(ctx, decision)


def _ask(ctx: CallContext, question: AskNumber | AskSecret) -> Document:
    if isinstance(question, AskNumber):
        ctx.call.claimed_customer_id = None  # starting over: the number keyed before is gone
        ctx.call.stage = CallStage.NUMBER
        return ctx.voice.ask(question.lines, webhook_url("verify.number"))
    ctx.call.stage = CallStage.SECRET
    return ctx.voice.ask(question.lines, webhook_url("verify.secret"))


def _texted(ctx: CallContext) -> bool:
    """Text a fresh code to the claimed customer; False (logged) when none went out."""
    customer = ctx.customer(ctx.call.claimed_customer_id)
    if customer is None:
        raise LookupError(f"an SMS code for call {ctx.call.id}, which claims no customer")
    try:
        codes.send_code(
            ctx.session,
            ctx.send_sms,
            customer,
            ctx.flow.prompts.sms_code[ctx.call.language or customer.language],
            key=ctx.settings.secret_key_bytes(),
            now=ctx.now,
        )
    except SmsNotSent as exc:
        log.error("SMS code for %s not sent: %s", mask(customer.phone), exc)
        ctx.record("verification.sms_failed")
        return False
    ctx.record("verification.sms_sent")
    return True


def _attempt(
    ctx: CallContext, customer_id: str | None, method: AttemptMethod, outcome: AttemptOutcome
) -> None:
    ctx.session.add(
        VerificationAttempt(
            call_id=ctx.call.id,
            customer_id=customer_id,
            method=method,
            outcome=outcome,
            at=ctx.now,
        )
    )
