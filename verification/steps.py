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
from verification.policy import AskNumber, AskSecret, Decision, Failed, NoInput, SendCode, Verdict
from verification.secrets import CUSTOMER_PIN, matches

log = logging.getLogger(__name__)

Step: TypeAlias = Document | Verdict


def begin(ctx: CallContext) -> Step:
    """After the language: the number, whoever calls."""
    return _carry_out(ctx, policy.begin(ctx.flow.prompts))


def submit_number(ctx: CallContext, digits: str) -> Step:
    """The number keyed in, or # alone for the caller ID: the same lookup either way."""
    prompts = ctx.flow.prompts
    if not digits:
        return _carry_out(ctx, policy.after_silence(prompts, at_number=True, **_attempts(ctx)))
    if _wants_agent(ctx, digits):
        return Verdict.AGENT
    keyed = digits.rstrip("#")
    number = keyed_in_number(keyed, ctx.settings.default_region) if keyed else ctx.call.caller
    customer = ctx.session.scalars(select(Customer).where(Customer.phone == (number or ""))).first()
    ctx.call.claimed_customer_id = customer.id if customer else None
    ctx.call.claimed_by_caller_id = not keyed
    ctx.record("verification.number_entered", registered=customer is not None, this_phone=not keyed)
    return _carry_out(ctx, policy.after_number(prompts))


def submit_secret(ctx: CallContext, digits: str) -> Step:
    prompts = ctx.flow.prompts
    if not digits:
        return _carry_out(ctx, policy.after_silence(prompts, at_number=False, **_attempts(ctx)))
    if _wants_agent(ctx, digits):
        return Verdict.AGENT
    secret = digits.rstrip("#")
    if policy.wants_code(secret):
        return _carry_out(ctx, policy.after_code_key(prompts))
    customer = ctx.customer(ctx.call.claimed_customer_id)
    settings = ctx.settings
    key = settings.secret_key_bytes()
    if customer is None:
        # Hash anyway, so an unregistered number costs the same work as a wrong PIN.
        matches(key, CUSTOMER_PIN, "", secret, None)
        _attempt(ctx, None, AttemptMethod.PIN, AttemptOutcome.FAILURE)
        return _carry_out(ctx, policy.after_failure(prompts, **_attempts(ctx)))
    # A PIN, or a code texted before; a customer without a PIN can only have a code.
    method = AttemptMethod.PIN if customer.pin_hash is not None else AttemptMethod.SMS_CODE
    if not guard.reserve_attempt(
        ctx.session,
        guard.customer(customer.id),
        limit=settings.verification_lockout_failures,
        lock_for=timedelta(minutes=settings.verification_lockout_minutes),
        now=ctx.now,
    ):
        _attempt(ctx, customer.id, method, AttemptOutcome.LOCKED)
        ctx.record("verification.locked")  # for operators; the caller hears a failure
        return _carry_out(ctx, policy.after_failure(prompts, **_attempts(ctx)))
    if matches(key, CUSTOMER_PIN, customer.id, secret, customer.pin_hash):
        method = AttemptMethod.PIN
    elif codes.use_code(ctx.session, customer.id, secret, key=key, now=ctx.now):
        method = AttemptMethod.SMS_CODE
    else:
        _attempt(ctx, customer.id, method, AttemptOutcome.FAILURE)
        return _carry_out(ctx, policy.after_failure(prompts, **_attempts(ctx)))
    guard.clear(ctx.session, guard.customer(customer.id))
    _attempt(ctx, customer.id, method, AttemptOutcome.SUCCESS)
    ctx.call.verified = True
    ctx.call.customer_id = customer.id
    ctx.record(
        "verification.verified",
        method=method.value,
        via="caller_id" if ctx.call.claimed_by_caller_id else "keyed_number",
    )
    return Verdict.VERIFIED


def ask_number(ctx: CallContext) -> Document:
    return _ask(ctx, policy.ask_number(ctx.flow.prompts))


def ask_secret(ctx: CallContext) -> Document:
    return _ask(ctx, policy.ask_secret(ctx.flow.prompts))


def _wants_agent(ctx: CallContext, digits: str) -> bool:
    if not policy.wants_agent(digits.rstrip("#"), ctx.flow.keys.agent):
        return False
    ctx.record("verification.agent_asked", stage=ctx.call.stage)
    return True


def _attempts(ctx: CallContext) -> dict[str, int]:
    return {
        "failures": ctx.call.verification_failures,
        "limit": ctx.settings.verification_attempts_per_call,
    }


def _carry_out(ctx: CallContext, decision: Decision) -> Step:
    """Text a code, count a failure or a silence, ask, or hand on a verdict."""
    if isinstance(decision, SendCode):
        _text_code(ctx)
        return _carry_out(ctx, decision.then)
    if isinstance(decision, Failed | NoInput):
        ctx.call.verification_failures = decision.failures
        kind = "verification.failed" if isinstance(decision, Failed) else "verification.no_input"
        ctx.record(kind, attempt=decision.failures)
        return _carry_out(ctx, decision.then)
    if isinstance(decision, Verdict):
        return decision
    return _ask(ctx, decision)


def _ask(ctx: CallContext, question: AskNumber | AskSecret) -> Document:
    if isinstance(question, AskNumber):
        ctx.call.claimed_customer_id = None  # starting over: the number claimed before is gone
        ctx.call.stage = CallStage.NUMBER
        return ctx.voice.ask(question.lines, webhook_url("verify.number"), finish_key_alone=True)
    ctx.call.stage = CallStage.SECRET
    return ctx.voice.ask(question.lines, webhook_url("verify.secret"))


def _text_code(ctx: CallContext) -> None:
    """Text a code to the claimed customer if codes.withheld finds no reason not to;
    the call's history says which (the caller hears the same either way)."""
    customer = ctx.customer(ctx.call.claimed_customer_id)
    limits = codes.Limits(
        per_customer=ctx.settings.sms_codes_per_customer_per_day,
        per_caller=ctx.settings.sms_codes_per_caller_per_day,
    )
    reason = codes.withheld(ctx.session, customer, ctx.call.caller, limits, ctx.now)
    if reason is not None or customer is None:
        ctx.record("verification.sms_withheld", reason=reason.value if reason else None)
        return
    try:
        codes.send_code(
            ctx.session,
            ctx.send_sms,
            customer,
            ctx.flow.prompts.sms_code[ctx.language],
            key=ctx.settings.secret_key_bytes(),
            now=ctx.now,
        )
    except SmsNotSent as exc:
        log.error("SMS code for %s not sent: %s", mask(customer.phone), exc)
        ctx.record("verification.sms_failed")
        return
    ctx.record(codes.SENT_EVENT)


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
