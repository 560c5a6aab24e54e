"""Staff credentials under the same lockout as customers' PINs (SPEC §5): the agent
PIN on the agent line, the desk password (its own count) and an operator's /admin
password: N failures in a row, on any server, lock it for the lockout's time, even
with the right one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Agent, Operator
from settings import Settings
from verification import guard
from verification.passwords import password_matches
from verification.secrets import AGENT_PIN, matches


def check_agent_pin(
    session: Session, settings: Settings, agent: Agent | None, entered: str, now: datetime
) -> bool:
    """True once the PIN matches an agent who is not locked out; every guess counts."""
    key = settings.secret_key_bytes()
    if agent is None or not entered:
        # Hash anyway, so an unknown phone costs the same work as a wrong PIN.
        matches(key, AGENT_PIN, "", entered, None)
        return False
    owner, stored = agent.id, agent.pin_hash
    check = lambda: matches(key, AGENT_PIN, owner, entered, stored)  # noqa: E731
    return _guarded(session, settings, guard.agent(owner), now, check)


def check_desk_password(
    session: Session, settings: Settings, agent: Agent | None, entered: str, now: datetime
) -> bool:
    """True once the password matches an agent who is not locked out of the desk."""
    if agent is None:
        password_matches(None, entered)  # the same work as a wrong password
        return False
    stored = agent.password_hash
    check = lambda: password_matches(stored, entered)  # noqa: E731
    return _guarded(session, settings, guard.desk(agent.id), now, check)


def check_operator_password(
    session: Session, settings: Settings, name: str, entered: str, now: datetime
) -> Operator | None:
    """The operator signing in as ``name``, once the password matches and they are not
    locked out."""
    found = session.scalars(select(Operator).where(Operator.name == name)).one_or_none()
    if found is None:
        password_matches(None, entered)  # the same work as a wrong password
        return None
    stored = found.password_hash
    check = lambda: password_matches(stored, entered)  # noqa: E731
    return found if _guarded(session, settings, guard.operator(name), now, check) else None


def _guarded(
    session: Session, settings: Settings, subject: str, now: datetime, check: Callable[[], bool]
) -> bool:
    """Every guess counts before it is checked (race-safe across servers); a right
    one clears the count."""
    if not guard.reserve_attempt(
        session,
        subject,
        limit=settings.verification_lockout_failures,
        lock_for=timedelta(minutes=settings.verification_lockout_minutes),
        now=now,
    ):
        return False
    if not check():
        return False
    guard.clear(session, subject)
    return True
