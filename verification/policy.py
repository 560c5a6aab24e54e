"""What verification does next (SPEC §5), decided from plain values: who the caller
claims to be, this call's failures so far, whether the customer is locked. Pure: the
steps in verification.steps do the database work and carry these decisions out.

What a caller hears never tells whether a number is registered, has a PIN or is
locked; only a caller whose own caller ID is a locked customer's phone is told.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from flowfile.texts import Prompts
from flowfile.vocabulary import Text


class Verdict(enum.Enum):
    VERIFIED = "verified"
    UNVERIFIED = "unverified"  # the attempts of this call are used up
    LOCKED = "locked"  # the caller-ID customer is locked out
    SMS_FAILED = "sms_failed"  # the caller-ID customer needs a code we could not send
    AGENT = "agent"  # the caller asked for an agent instead (0 on its own)


class Claim(enum.Enum):
    """Who the caller claims to be, as far as the questions depend on it."""

    NOBODY = "nobody"  # nothing claimed yet: the number is asked for
    KEYED_IN = "keyed_in"  # a keyed-in number, registered or not: it sounds the same
    CALLER_ID_PIN = "caller_id_pin"  # the caller ID's customer, who has a phone PIN
    CALLER_ID_CODE = "caller_id_code"  # the caller ID's customer without one: an SMS code


@dataclass(frozen=True)
class AskNumber:
    """The registered number and #; a number keyed in before no longer counts."""

    lines: tuple[Text, ...]


@dataclass(frozen=True)
class AskSecret:
    """The PIN or the SMS code, and #."""

    lines: tuple[Text, ...]


Ask = AskNumber | AskSecret


@dataclass(frozen=True)
class SendCode:
    """Text a fresh code to the claimed customer, then ``then``; ``unsent`` when no
    text could go out."""

    then: AskSecret
    unsent: AskSecret | Verdict


@dataclass(frozen=True)
class Failed:
    """A wrong number, PIN or code: ``failures`` in this call now, then ``then``."""

    failures: int
    then: Ask | Verdict


@dataclass(frozen=True)
class NoInput:
    """Silence: it costs one of the call's attempts too (it is no guess, so the
    lockout does not count it)."""

    failures: int
    then: Ask | Verdict


Decision = AskNumber | AskSecret | SendCode | Failed | NoInput | Verdict


def wants_agent(entered: str, agent_key: str) -> bool:
    """The agent key on its own, at the number or the PIN (SPEC §5): no number, PIN or
    code is one digit long, so it is never a guess, and it sounds the same for all."""
    return entered == agent_key


def ask(prompts: Prompts, claim: Claim, preface: tuple[Text, ...] = ()) -> Ask:
    """The question for ``claim``: the number while nothing is claimed, else the secret."""
    if claim is Claim.NOBODY:
        return AskNumber((*preface, prompts.ask_number))
    return ask_secret(prompts, claim, preface)


def ask_secret(prompts: Prompts, claim: Claim, preface: tuple[Text, ...] = ()) -> AskSecret:
    if claim is Claim.CALLER_ID_PIN:
        return AskSecret((*preface, prompts.ask_pin))
    if claim is Claim.CALLER_ID_CODE:
        return AskSecret((*preface, prompts.ask_sms_code))
    # After a keyed-in number: the same words whether it is registered, with a PIN, or not.
    return AskSecret((*preface, prompts.ask_pin_or_code))


def begin(prompts: Prompts, claim: Claim, *, locked: bool) -> Decision:
    """After the language: the caller ID's customer is asked for their PIN, or texted
    a code (told if it cannot be sent); a locked one is told so; anyone else keys in
    the number."""
    if claim is Claim.NOBODY:
        return ask(prompts, claim)
    if locked:
        return Verdict.LOCKED
    if claim is Claim.CALLER_ID_CODE:
        return SendCode(ask_secret(prompts, claim), unsent=Verdict.SMS_FAILED)
    return ask(prompts, claim)


def after_number(prompts: Prompts, *, registered: bool, has_pin: bool) -> Decision:
    """A keyed-in number: a registered customer without a PIN is texted a code, and
    every caller hears the same question, whatever the number and whether a text went."""
    question = ask_secret(prompts, Claim.KEYED_IN)
    if registered and not has_pin:
        return SendCode(question, unsent=question)
    return question


def after_failure(prompts: Prompts, claim: Claim, *, failures: int, limit: int) -> Failed:
    """``failures`` before this one, ``limit`` per call."""
    failures += 1
    if failures >= limit:
        return Failed(failures, Verdict.UNVERIFIED)
    # A keyed-in number starts over from the number, so that a wrong number and a
    # wrong PIN sound exactly the same; a caller-ID claim is asked the secret again.
    again = Claim.NOBODY if claim is Claim.KEYED_IN else claim
    return Failed(failures, ask(prompts, again, (prompts.not_matched,)))


def after_lockout(prompts: Prompts, claim: Claim, *, failures: int, limit: int) -> Decision:
    """The customer turned out to be locked when the attempt was to be counted."""
    if claim is Claim.KEYED_IN:
        # A keyed-in number gets no hint that it is registered, or locked.
        return after_failure(prompts, claim, failures=failures, limit=limit)
    return Verdict.LOCKED


def after_silence(prompts: Prompts, claim: Claim, *, failures: int, limit: int) -> NoInput:
    """``failures`` before this silence, ``limit`` per call; the question again."""
    failures += 1
    if failures >= limit:
        return NoInput(failures, Verdict.UNVERIFIED)
    return NoInput(failures, ask(prompts, claim, (prompts.no_input,)))
