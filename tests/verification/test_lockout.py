"""Five failures in a row, across calls, lock a customer's phone verification (SPEC §5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import VerificationAttempt, VerificationGuard
from telephony.simulator import Leg
from tests.concurrently import press_at_once
from tests.conftest import OPEN_HOURS
from tests.demo import customer, national

pytestmark = pytest.mark.usefixtures("demo")

ZH = customer(language="zh")
SUBJECT = f"customer:{ZH['id']}"


def guard(db: Session) -> VerificationGuard | None:
    db.rollback()
    return db.get(VerificationGuard, SUBJECT)


def attempts(db: Session, outcome: str) -> int:
    db.rollback()
    rows = db.scalars(
        select(VerificationAttempt).where(
            VerificationAttempt.customer_id == ZH["id"], VerificationAttempt.outcome == outcome
        )
    )
    return len(rows.all())


def at_pin_prompt(phone) -> Leg:  # noqa: ANN001
    return phone(ZH["phone"]).dial().press("1").press("#")


def guess(call: Leg, *pins: str) -> Leg:
    """PINs one after another: a wrong one starts over from the number (# again)."""
    for n, pin in enumerate(pins):
        if n:
            call.press("#")
        call.press(pin)
    return call


def test_five_failures_across_calls_lock_then_the_right_pin_is_refused(phone, db) -> None:
    guess(at_pin_prompt(phone), "0000", "1111", "2222")
    second = guess(at_pin_prompt(phone), "3333", "4444", ZH["pin"])  # right, but too late
    # The third failure of the call: the offer of an agent, as for anyone (SPEC §5).
    assert "我们未能核实您的身份" in second.text
    assert attempts(db, "failure") == 5 and attempts(db, "success") == 0
    assert attempts(db, "locked") == 1
    lock = guard(db)
    assert lock is not None and lock.locked_until is not None
    assert lock.locked_until > OPEN_HOURS + timedelta(minutes=29)


def test_a_locked_caller_is_not_told_and_is_offered_an_agent_like_anyone(phone, db) -> None:
    guess(at_pin_prompt(phone), "5", "1", "2")
    guess(at_pin_prompt(phone), "3", "4", ZH["pin"])
    call = guess(at_pin_prompt(phone), ZH["pin"], "1", "2")
    assert "我们未能核实您的身份" in call.text and "人工客服" in call.text
    call.press("0")
    assert call.queue == "hotline-general"
    assert attempts(db, "success") == 0 and attempts(db, "locked") == 4  # the PIN too


def test_a_locked_customer_keyed_in_elsewhere_learns_nothing(phone, db) -> None:
    db.add(
        VerificationGuard(
            subject=SUBJECT,
            consecutive_failures=5,
            locked_until=OPEN_HOURS + timedelta(minutes=10),
        )
    )
    db.commit()
    call = phone("anonymous").dial().press("1").press(national(ZH["phone"])).press(ZH["pin"])
    # The same words as any wrong number or PIN: nothing says the number is registered.
    assert "不符" in call.text and "锁定" not in call.text


def test_the_lock_lifts_after_its_time(phone, db: Session) -> None:
    db.add(
        VerificationGuard(
            subject=SUBJECT,
            consecutive_failures=5,
            locked_until=OPEN_HOURS - timedelta(seconds=1),
        )
    )
    db.commit()
    call = guess(at_pin_prompt(phone), ZH["pin"])
    assert "身份验证成功" in call.text
    lock = guard(db)
    assert lock is not None and lock.consecutive_failures == 0 and lock.locked_until is None


def test_a_success_starts_the_count_again(phone, db: Session) -> None:
    guess(at_pin_prompt(phone), "0000", "1111")
    guess(at_pin_prompt(phone), "2222", ZH["pin"])
    guess(at_pin_prompt(phone), "3333", "4444", "5555")
    lock = guard(db)
    assert lock is not None and lock.consecutive_failures == 3 and lock.locked_until is None


def test_a_run_over_a_lowered_limit_locks_for_one_period_not_for_good(
    app: Flask, phone, runner: FlaskCliRunner, db: Session
) -> None:
    guess(at_pin_prompt(phone), "0000", "1111", "2222")
    guess(at_pin_prompt(phone), "3333").hang_up()  # four in a row: under five, no lock
    settings = app.extensions["settings"]
    app.extensions["settings"] = settings.model_copy(update={"verification_lockout_failures": 3})
    # Four is over the new limit: locked from this attempt on, for one lock period.
    assert "身份验证成功" not in guess(at_pin_prompt(phone), ZH["pin"]).text
    lock = guard(db)
    assert lock is not None and lock.locked_until == OPEN_HOURS + timedelta(minutes=30)
    checked = runner.invoke(args=["check-data"])
    assert checked.exit_code == 0, checked.output
    app.extensions["clock"] = lambda: OPEN_HOURS + timedelta(minutes=30)
    assert "身份验证成功" in guess(at_pin_prompt(phone), ZH["pin"]).text


def test_concurrent_wrong_pins_never_get_more_than_five_tries(phone, db: Session) -> None:
    calls = [at_pin_prompt(phone) for _ in range(10)]
    press_at_once(calls, [f"{9000 + i}" for i in range(len(calls))])
    assert attempts(db, "failure") == 5
    assert attempts(db, "locked") == 5
    lock = guard(db)
    assert lock is not None and lock.locked_until is not None
    # Every caller heard the same answer, locked out or not.
    assert {call.text for call in calls} == {calls[0].text} and "不符" in calls[0].text
