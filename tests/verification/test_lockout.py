"""Five failures in a row, across calls, lock a customer's phone verification (SPEC §5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
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
    return phone(ZH["phone"]).dial().press("1")


def test_five_failures_across_calls_lock_then_the_right_pin_is_refused(phone, db) -> None:
    first = at_pin_prompt(phone)
    for wrong in ("0000", "1111", "2222"):
        first.press(wrong)
    second = at_pin_prompt(phone)
    second.press("3333").press("4444")
    second.press(ZH["pin"])  # right, but too late
    assert "电话验证已暂时锁定" in second.text
    assert attempts(db, "failure") == 5 and attempts(db, "success") == 0
    lock = guard(db)
    assert lock is not None and lock.locked_until is not None
    assert lock.locked_until > OPEN_HOURS + timedelta(minutes=29)


def test_a_locked_caller_is_told_at_once_and_offered_an_agent(phone, db) -> None:
    phone(ZH["phone"]).dial().press("1").press("5").press("1").press("2")
    at_pin_prompt(phone).press("3").press("4")
    call = phone(ZH["phone"]).dial().press("1")
    assert "电话验证已暂时锁定" in call.text and "人工客服" in call.text
    call.press("0")
    assert call.queue == "hotline-general"


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
    call = at_pin_prompt(phone).press(ZH["pin"])
    assert "身份验证成功" in call.text
    lock = guard(db)
    assert lock is not None and lock.consecutive_failures == 0 and lock.locked_until is None


def test_a_success_starts_the_count_again(phone, db: Session) -> None:
    call = at_pin_prompt(phone)
    call.press("0000").press("1111")
    at_pin_prompt(phone).press("2222").press(ZH["pin"])
    again = at_pin_prompt(phone)
    again.press("3333").press("4444").press("5555")
    lock = guard(db)
    assert lock is not None and lock.consecutive_failures == 3 and lock.locked_until is None


def test_concurrent_wrong_pins_never_get_more_than_five_tries(phone, db: Session) -> None:
    calls = [at_pin_prompt(phone) for _ in range(10)]
    press_at_once(calls, [f"{9000 + i}" for i in range(len(calls))])
    assert attempts(db, "failure") == 5
    assert attempts(db, "locked") == 5
    lock = guard(db)
    assert lock is not None and lock.locked_until is not None
    # Every caller heard a proper answer: a retry prompt, or the lock.
    for call in calls:
        assert "不符" in call.text or "锁定" in call.text
    assert "锁定" in at_pin_prompt(phone).text
