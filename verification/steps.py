"""The verification steps of a call (SPEC §5), each returning what to play or a verdict.

verification.policy decides; the steps here read and write the database (the claim,
the lockout guard, SMS codes, attempts) and carry its decisions out. The call flow
(callflows) decides what follows a verdict.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeAlias

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm.attributes import flag_modified

from calls import later
from calls.context import CallContext
from calls.twiml import Document
from models import Call, CallEvent, Customer, OneTimeCode, VerificationAttempt
from models.calls import SMS_SENT, CallStage
from models.verification import AttemptMethod, AttemptOutcome
from telephony.numbers import keyed_in_number, mask
from telephony.sms import SmsNotSent
from telephony.urls import webhook_url
from verification import codes, guard, policy
from verification.policy import AskNumber, AskSecret, Decision, Failed, NoInput, SendCode, Verdict
from verification.secrets import CLAIMED_NUMBER, CUSTOMER_PIN, keyed_hash, matches

log = logging.getLogger(__name__)

Step: TypeAlias = Document | Verdict
# What the PIN step checks an attempt against, in one round trip: the claimed
# customer's id and PIN hash (NULLs for a number that is nobody's), the number claimed
# last on the call (its event's data, see submit_number), and the customer's live SMS
# codes, a row each (one row of NULLs for none). Built once, as calls.context's
# CALL_BY_SID is.
_LAST_CLAIM = (
    select(CallEvent.data)
    .where(CallEvent.call_id == Call.id, CallEvent.kind == "verification.number_entered")
    .order_by(CallEvent.id.desc())
    .limit(1)
    .scalar_subquery()
)
_CLAIMED = (
    select(Customer.id, Customer.pin_hash, _LAST_CLAIM, OneTimeCode.id, OneTimeCode.code_hash)
    .select_from(Call)
    .outerjoin(Customer, Customer.id == bindparam("claimed"))
    .outerjoin(OneTimeCode, codes.live(Customer.id, bindparam("now")))
    .where(Call.id == bindparam("call_id"))
)


def begin(ctx: CallContext) -> Step:
    """After the language: the number, whoever calls."""
    return _carry_out(ctx, policy.begin(ctx.flow.prompts))


def submit_number(ctx: CallContext, digits: str) -> Step:
    """The number keyed in, or # alone for the caller ID: the same lookup and writes
    whatever the number (SPEC §5)."""
    prompts = ctx.flow.prompts
    if not digits:
        return _carry_out(ctx, policy.after_silence(prompts, at_number=True, **_attempts(ctx)))
    if _wants_agent(ctx, digits):
        return Verdict.AGENT
    keyed = digits.rstrip("#")
    number = keyed_in_number(keyed, ctx.settings.default_region) if keyed else ctx.call.caller
    # The id alone, in one row found or not (an aggregate over no rows is a row of
    # NULLs): no customer object to build, no row more to fetch, for a registered number.
    by_phone = select(func.max(Customer.id)).where(Customer.phone == (number or ""))
    claimed = ctx.session.scalar(by_phone)
    ctx.call.claimed_customer_id = claimed
    flag_modified(ctx.call, "claimed_customer_id")  # written either way: the same UPDATE
    ctx.call.claimed_by_caller_id = not keyed
    ctx.record(
        "verification.number_entered",
        registered=claimed is not None,
        this_phone=not keyed,
        # Whose failures the lockout counts when the number is nobody's (guard.number).
        claim=keyed_hash(ctx.settings.secret_key_bytes(), CLAIMED_NUMBER, "", number or ""),
    )
    return _carry_out(ctx, policy.after_number(prompts))


def submit_secret(ctx: CallContext, digits: str) -> Step:
    """A PIN or a code texted before, or * for a code. A number that is nobody's takes
    the same path as a customer's (a lockout guard of its own, the same hashing and
    queries), and a locked customer the same as a wrong PIN: nothing tells them apart."""
    prompts = ctx.flow.prompts
    if not digits:
        return _carry_out(ctx, policy.after_silence(prompts, at_number=False, **_attempts(ctx)))
    if _wants_agent(ctx, digits):
        return Verdict.AGENT
    secret = digits.rstrip("#")
    if policy.wants_code(secret):
        return _carry_out(ctx, policy.after_code_key(prompts))
    settings = ctx.settings
    key = settings.secret_key_bytes()
    claimed = _claimed(ctx)
    customer_id = claimed.customer_id
    owner = customer_id or ""
    subject = guard.customer(owner) if customer_id else guard.number(claimed.claim)
    # A PIN, or a code texted before; a customer without a PIN can only have a code.
    method = (
        AttemptMethod.SMS_CODE if customer_id and claimed.pin_hash is None else AttemptMethod.PIN
    )
    # Checked before the attempt counts, whatever the lock (the same work either way);
    # only an attempt the lock lets count acts on it.
    pin_ok = matches(key, CUSTOMER_PIN, owner, secret, claimed.pin_hash)
    code_id = codes.matching_code(owner, secret, claimed.codes, key=key)
    reserved = guard.reserve_attempt(
        ctx.session,
        subject,
        limit=settings.verification_lockout_failures,
        lock_for=timedelta(minutes=settings.verification_lockout_minutes),
        now=ctx.now,
        right=pin_ok,  # a right PIN ends the run of failures in the same statement
    )
    if not reserved:
        _attempt(ctx, customer_id, method, AttemptOutcome.LOCKED)
        # For operators "locked", not "failed"; the caller hears a failure either way.
        return _carry_out(ctx, policy.after_failure(prompts, **_attempts(ctx)), locked=True)
    if pin_ok:
        method = AttemptMethod.PIN
    elif code_id is not None and codes.use_code(ctx.session, owner, code_id, now=ctx.now):
        method = AttemptMethod.SMS_CODE
        guard.clear(ctx.session, subject)
    else:
        _attempt(ctx, customer_id, method, AttemptOutcome.FAILURE)
        return _carry_out(ctx, policy.after_failure(prompts, **_attempts(ctx)))
    if customer_id is None:  # no code or PIN matches for nobody: use_code found none
        raise LookupError(f"call {ctx.call.id} verified as nobody")
    _attempt(ctx, customer_id, method, AttemptOutcome.SUCCESS)
    ctx.call.verified = True
    ctx.call.customer_id = customer_id
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


def _carry_out(ctx: CallContext, decision: Decision, *, locked: bool = False) -> Step:
    """Text a code (after the answer), count a failure or a silence, ask, or hand on a
    verdict. One event per failure, ``verification.locked`` when the lock refused it."""
    if isinstance(decision, SendCode):
        later.after_response(ctx.call.id, _text_code)
        return _carry_out(ctx, decision.then)
    if isinstance(decision, Failed | NoInput):
        ctx.call.verification_failures = decision.failures
        kind = "verification.failed" if isinstance(decision, Failed) else "verification.no_input"
        ctx.record("verification.locked" if locked else kind, attempt=decision.failures)
        return _carry_out(ctx, decision.then)
    if isinstance(decision, Verdict):
        return decision
    return _ask(ctx, decision)


def _ask(ctx: CallContext, question: AskNumber | AskSecret) -> Document:
    if isinstance(question, AskNumber):
        ctx.call.claimed_customer_id = None  # starting over: the number claimed before is gone
        flag_modified(ctx.call, "claimed_customer_id")  # the same UPDATE, claimed or not
        ctx.call.stage = CallStage.NUMBER
        return ctx.voice.ask(question.lines, webhook_url("verify.number"), finish_key_alone=True)
    ctx.call.stage = CallStage.SECRET
    return ctx.voice.ask(question.lines, webhook_url("verify.secret"))


def _text_code(ctx: CallContext) -> None:
    """Text a code to the claimed customer if codes.withheld finds no reason not to;
    the call's history says which (the caller hears the same either way). Run after the
    answer (calls.later): the events name the call by id, leaving its row (and its
    version, which the call's next webhook checks) alone."""
    customer = ctx.customer(ctx.call.claimed_customer_id)
    limits = codes.Limits(
        per_customer=ctx.settings.sms_codes_per_customer_per_day,
        per_caller=ctx.settings.sms_codes_per_caller_per_day,
    )
    reason = codes.withheld(ctx.session, customer, ctx.call.caller, limits, ctx.now)
    if reason is not None or customer is None:
        _note(ctx, "verification.sms_withheld", reason=reason.value if reason else None)
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
        _note(ctx, "verification.sms_failed")
        return
    _note(ctx, SMS_SENT)


def _note(ctx: CallContext, kind: str, **data: Any) -> None:
    ctx.session.add(CallEvent(call_id=ctx.call.id, kind=kind, data=data, at=ctx.now))


@dataclass(frozen=True)
class _Claimed:
    customer_id: str | None  # None for a number that is nobody's
    pin_hash: str | None
    claim: str  # the keyed hash of the number claimed last (see submit_number)
    codes: list[tuple[int, str]]  # the customer's live SMS codes: ids and hashes


def _claimed(ctx: CallContext) -> _Claimed:
    """What the PIN step checks an attempt against, in one statement whoever the
    number is (a customer's or nobody's, with codes or none): the same query, and one
    row or more, either way."""
    rows = ctx.session.execute(
        _CLAIMED,
        {"claimed": ctx.call.claimed_customer_id or "", "call_id": ctx.call.id, "now": ctx.now},
    ).all()
    customer_id, pin_hash, entered, _, _ = rows[0]
    return _Claimed(
        customer_id,
        pin_hash,
        str((entered or {}).get("claim", "")),
        [(code_id, code_hash) for *_, code_id, code_hash in rows if code_id is not None],
    )


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
