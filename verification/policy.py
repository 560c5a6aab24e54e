"""What verification does next (SPEC §5), decided from plain values: which question is
open and this call's failures so far. Pure: the steps in verification.steps do the
database work and carry these decisions out.

Nothing here depends on who the caller is: every caller hears the same questions in the
same order, whatever the caller ID and whether the number given is registered, has a
PIN or is locked, so that a spoofed caller ID learns nothing about who is a customer.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from flowfile.texts import Prompts
from flowfile.vocabulary import Text

CODE_KEY = "*"  # at the PIN: a one-time code by SMS instead


class Verdict(enum.Enum):
    VERIFIED = "verified"
    UNVERIFIED = "unverified"  # the attempts of this call are used up
    AGENT = "agent"  # the caller asked for an agent instead (0 on its own)


@dataclass(frozen=True)
class AskNumber:
    """The registered number and #, or # alone for the caller ID; a number claimed
    before no longer counts."""

    lines: tuple[Text, ...]


@dataclass(frozen=True)
class AskSecret:
    """The PIN (or a code texted before) and #, or * for a code."""

    lines: tuple[Text, ...]


Ask = AskNumber | AskSecret


@dataclass(frozen=True)
class SendCode:
    """Text a code to the claimed number if it is a registered, unlocked customer's
    within the limits, then ``then``: the same words whether or not a text went."""

    then: AskSecret


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


def wants_code(entered: str) -> bool:
    return entered == CODE_KEY


def ask_number(prompts: Prompts, preface: tuple[Text, ...] = ()) -> AskNumber:
    return AskNumber((*preface, prompts.ask_number))


def ask_secret(prompts: Prompts, preface: tuple[Text, ...] = ()) -> AskSecret:
    return AskSecret((*preface, prompts.ask_pin))


def begin(prompts: Prompts) -> AskNumber:
    """After the language, every caller is asked for the number: the caller ID only
    counts once the caller has said it is theirs (#)."""
    return ask_number(prompts)


def after_number(prompts: Prompts) -> AskSecret:
    """Any number, registered or not, with a PIN or not, locked or not: the PIN next."""
    return ask_secret(prompts)


def after_code_key(prompts: Prompts) -> SendCode:
    """* at the PIN: every caller hears that a code has gone if the number is registered."""
    return SendCode(AskSecret((prompts.code_sent,)))


def after_failure(prompts: Prompts, *, failures: int, limit: int) -> Failed:
    """``failures`` before this one, ``limit`` per call. A wrong number, a wrong PIN or
    code and a locked customer all start over from the number, in the same words."""
    failures += 1
    if failures >= limit:
        return Failed(failures, Verdict.UNVERIFIED)
    return Failed(failures, ask_number(prompts, (prompts.not_matched,)))


def after_silence(prompts: Prompts, *, at_number: bool, failures: int, limit: int) -> NoInput:
    """``failures`` before this silence, ``limit`` per call; the same question again."""
    failures += 1
    if failures >= limit:
        return NoInput(failures, Verdict.UNVERIFIED)
    preface = (prompts.no_input,)
    again = ask_number(prompts, preface) if at_number else ask_secret(prompts, preface)
    return NoInput(failures, again)
