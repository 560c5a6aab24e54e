"""No timing signal (SPEC §5, issue 11 item 2): the number step and the PIN step take the
same path and the same writes whatever the number, so their answer times come from one
distribution. Several hundred interleaved tries per step; the bound is statistical (the
chance that a try of one kind is slower than a try of another stays near a coin toss),
never a time."""

from __future__ import annotations

import gc
import random
from collections.abc import Callable
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import delete
from sqlalchemy.orm import Session

from models import OneTimeCode, VerificationGuard
from settings import Settings
from telephony.simulator import Leg
from tests.conftest import OPEN_HOURS
from tests.demo import customer, national

pytestmark = pytest.mark.usefixtures("demo")

WITH_PIN = customer(language="en")
NO_PIN = customer(pin=False)
LOCKED = customer(language="zh")
UNKNOWN = "+8613012345678"
TRIES = 100  # per kind
# How far from 0.5 the chance that one kind's try is the slower may be: 0.2 is about five
# standard deviations of that estimate at 100 tries each (about 0.04) when the two are
# alike (0.15 flaked under CI's load), and far below what one extra query or an API call
# inside the answer gives (a 4 ms difference gives 0.8).
BOUND = 0.2


def superiority(slower: list[float], faster: list[float]) -> float:
    """The chance that a try drawn from ``slower`` took longer than one from ``faster``
    (ties count half): Mann-Whitney's U over the number of pairs."""
    wins = sum((a > b) + 0.5 * (a == b) for a in slower for b in faster)
    return wins / (len(slower) * len(faster))


def answer_seconds(webhook: str) -> float:
    """The time this process has spent answering ``webhook``, as the app measures it
    (calls.telemetry): from the request's start to its answer, without the simulator's
    work or what runs after the answer (calls.later)."""
    total = REGISTRY.get_sample_value("hotline_webhook_duration_seconds_sum", {"webhook": webhook})
    return total or 0.0


def timed(
    webhook: str, kinds: dict[str, Callable[[], tuple[Leg, str]]], reset: Callable[[], None]
) -> dict[str, list[float]]:
    """Time one answer per try, the kinds interleaved in a shuffled order each round."""
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    order = list(kinds)
    shuffle = random.Random(11).shuffle
    for _ in range(TRIES):
        shuffle(order)
        for kind in order:
            call, keys = kinds[kind]()
            gc.disable()
            try:
                before = answer_seconds(webhook)
                call.press(keys)
                times[kind].append(answer_seconds(webhook) - before)
            finally:
                gc.enable()
            call.hang_up()
            reset()
    return times


def assert_alike(times: dict[str, list[float]]) -> None:
    kinds = list(times)
    for n, first in enumerate(kinds):
        for second in kinds[n + 1 :]:
            chance = superiority(times[first], times[second])
            assert abs(chance - 0.5) < BOUND, f"{first} vs {second}: {chance:.2f}"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # No daily cap in the way: every try of a kind that texts, texts.
    return settings.model_copy(
        update={"sms_codes_per_customer_per_day": 100, "sms_codes_per_caller_per_day": 1000}
    )


@pytest.fixture
def locked(db: Session) -> Callable[[], None]:
    """Keeps LOCKED locked, and everything else fresh between tries: five wrong PINs at
    one number lock it (the try would be a locked one), and a code texted is in flight
    (the next would text nobody)."""

    def reset() -> None:
        db.execute(delete(VerificationGuard))
        db.execute(delete(OneTimeCode))
        db.add(
            VerificationGuard(
                subject=f"customer:{LOCKED['id']}",
                consecutive_failures=5,
                locked_until=OPEN_HOURS + timedelta(minutes=30),
            )
        )
        db.commit()

    reset()
    return reset


def test_the_number_step_takes_as_long_for_any_number(phone, locked) -> None:  # noqa: ANN001
    def keying(number: str) -> Callable[[], tuple[Leg, str]]:
        return lambda: (phone("anonymous").dial().press("2"), national(number))

    times = timed(
        "verify.number",
        {
            "with a PIN": keying(WITH_PIN["phone"]),
            "without a PIN": keying(NO_PIN["phone"]),
            "locked": keying(LOCKED["phone"]),
            "unknown": keying(UNKNOWN),
        },
        locked,
    )
    assert_alike(times)


def test_the_pin_step_takes_as_long_for_any_number(phone, locked) -> None:  # noqa: ANN001
    def guessing(number: str) -> Callable[[], tuple[Leg, str]]:
        return lambda: (phone("anonymous").dial().press("2").press(national(number)), "2468")

    times = timed(
        "verify.secret",
        {
            "registered": guessing(WITH_PIN["phone"]),
            "locked": guessing(LOCKED["phone"]),
            "unknown": guessing(UNKNOWN),
        },
        locked,
    )
    assert_alike(times)


def test_star_takes_as_long_whether_a_code_is_texted_or_not(  # noqa: ANN001
    phone, locked, twilio_api
) -> None:
    def asking(number: str) -> Callable[[], tuple[Leg, str]]:
        return lambda: (phone("anonymous").dial().press("2").press(national(number)), "*")

    texted, unknown = asking(NO_PIN["phone"]), asking(UNKNOWN)
    times = timed("verify.secret", {"texted": texted, "unknown": unknown}, locked)
    assert len(twilio_api.messages()) == TRIES  # each try of the texted kind texted
    assert_alike(times)
