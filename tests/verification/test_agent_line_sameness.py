"""Until the PIN is checked, the agent line is the same for every caller ID (SPEC §5):
the same prompts, tries and hang-up, and the same hashing and database statements, so
an impostor learns nothing from it about which numbers are agents' phones."""

from __future__ import annotations

import math
import time

import pytest
from flask import Flask
from sqlalchemy.orm import Session

import verification.agents
from models import VerificationGuard
from telephony.simulator import Leg
from tests.demo import DEMO
from tests.sql import statements_sent

pytestmark = pytest.mark.usefixtures("demo")

SARAH = next(agent for agent in DEMO["agents"] if agent["id"] == "A03")  # English
STRANGER = "+8613012345678"  # nobody's phone
TIMED_TRIES = 100  # per caller: about 5 s on SQLite, 7 s on PostgreSQL
# |z| beyond 4.5 happens by chance about once in 150,000 runs; a path that skips the
# lock's three statements for strangers gives |z| far above it.
Z_BOUND = 4.5


def tries(phone, caller: str, *pins: str) -> Leg:  # noqa: ANN001
    """One call to the agent line from ``caller``, keying ``pins`` in turn ("" is silence)."""
    call = phone(caller).dial("/agents/incoming")
    for pin in pins:
        call.press(pin) if pin else call.silence()
    return call


def test_an_agents_phone_and_a_strangers_hear_the_same_until_the_pin_is_checked(
    phone,  # noqa: ANN001
) -> None:
    sarah = tries(phone, SARAH["phone"], "1111", "", "2222")
    stranger = tries(phone, STRANGER, "1111", "", "2222")
    assert sarah.documents == stranger.documents  # word for word, verb for verb
    assert stranger.hung_up and sarah.hung_up
    first = sarah.documents[0]
    # Before the PIN nobody is known: each language in its own voice, the default first.
    assert first.index("请输入坐席密码") < first.index("Please enter your agent PIN")
    assert "We could not confirm that you are an agent" in sarah.documents[-1]


def test_a_wrong_pin_does_the_same_work_for_an_agents_phone_and_a_strangers(
    app: Flask,
    phone,  # noqa: ANN001
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hashed: list[str] = []
    compare = verification.agents.matches

    def counted(key, purpose, owner, entered, stored):  # noqa: ANN001, ANN202
        hashed.append(entered)
        return compare(key, purpose, owner, entered, stored)

    monkeypatch.setattr(verification.agents, "matches", counted)
    work: dict[str, tuple[list[str], list[str]]] = {}
    for caller in (SARAH["phone"], STRANGER):
        hashed.clear()
        with statements_sent(app.extensions["db"].engine) as sent:
            # Six wrong PINs over two calls: the fifth locks, the sixth finds the lock.
            tries(phone, caller, "1111", "2222", "3333")
            tries(phone, caller, "4444", "5555", "6666")
        work[caller] = (sent, list(hashed))
    assert work[SARAH["phone"]] == work[STRANGER]
    assert work[STRANGER][1] == ["1111", "2222", "3333", "4444", "5555", "6666"]
    db.rollback()
    guards = db.query(VerificationGuard).all()
    assert len(guards) == 2 and all(guard.locked_until is not None for guard in guards)
    # The stranger's count is kept under a keyed hash: the number is not in the database.
    assert not any(STRANGER.lstrip("+") in guard.subject for guard in guards)


def rank_sum_z(first: list[float], second: list[float]) -> float:
    """Mann–Whitney's rank-sum statistic as a z-score: near 0 when both samples come
    from one distribution, whatever its shape; large when one tends to be slower."""
    ordered = sorted([(value, 0) for value in first] + [(value, 1) for value in second])
    rank_sum = sum(rank for rank, (_, side) in enumerate(ordered, 1) if side == 0)
    n, m = len(first), len(second)
    u = rank_sum - n * (n + 1) / 2
    return (u - n * m / 2) / math.sqrt(n * m * (n + m + 1) / 12)


def test_a_wrong_pin_takes_as_long_from_an_agents_phone_as_from_a_strangers(
    phone,  # noqa: ANN001
) -> None:
    """Interleaved tries, one wrong PIN per call, from Sarah's phone and a stranger's
    (both locked after the fifth, as an attacker would find them): the two answer
    times are one distribution. A bound on a statistic, not on a time."""
    took: dict[str, list[float]] = {SARAH["phone"]: [], STRANGER: []}
    for round_ in range(TIMED_TRIES):
        callers = [SARAH["phone"], STRANGER][:: 1 if round_ % 2 else -1]
        for caller in callers:
            call = phone(caller).dial("/agents/incoming")
            started = time.perf_counter()
            call.press(f"{1000 + round_}")
            took[caller].append(time.perf_counter() - started)
    assert abs(rank_sum_z(took[SARAH["phone"]], took[STRANGER])) < Z_BOUND
