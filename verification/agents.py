"""Staff credentials under the same lockout as customers' PINs (SPEC §5): the agent
PIN on the agent line, the desk password (its own count) and an operator's /admin
password: N failures in a row, on any server, lock it for the lockout's time, even
with the right one."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Agent, Operator
from settings import Settings
from verification import guard
from verification.passwords import password_matches
from verification.secrets import AGENT_PIN, keyed_hash, matches

# The purpose of the keyed hash of a number that is no agent's, calling the agent line.
AGENT_LINE_CALLER = "agent-line-caller"


def check_agent_pin(
    session: Session,
    settings: Settings,
    agent: Agent | None,
    caller: str,
    entered: str,
    now: datetime,
) -> bool:
    """True once the PIN matches an agent who is not locked out; every keyed guess
    counts. A ``caller`` number that is no agent's goes the same way, hash, statements
    and all, under a lock of its own (``guard.agent_line_stranger``) that no PIN opens:
    nothing tells a stranger's phone from an agent's until the PIN matches."""
    key = settings.secret_key_bytes()
    # The number is hashed for an agent too: the same work whoever calls.
    digest = keyed_hash(key, AGENT_LINE_CALLER, "", caller).rpartition("$")[2]
    if agent is not None:
        subject, owner, stored = guard.agent(agent.id), agent.id, agent.pin_hash
    else:
        subject, owner, stored = guard.agent_line_stranger(digest), "", None
    counted = bool(entered) and _reserve(session, settings, subject, now)
    # Hashed whether counted or not (silence, a lock): the same work every time.
    if not matches(key, AGENT_PIN, owner, entered, stored if counted else None):
        return False
    guard.clear(session, subject)
    return True


def check_desk_password(
    session: Session, settings: Settings, agent: Agent | None, entered: str, now: datetime
) -> bool:
    """True once the password matches an agent who is not locked out of the desk."""
    if agent is None:
        password_matches(None, entered)  # the same work as a wrong password
        return False
    return _password_guarded(
        session, settings, guard.desk(agent.id), now, agent.password_hash, entered
    )


def check_operator_password(
    session: Session, settings: Settings, name: str, entered: str, now: datetime
) -> Operator | None:
    """The operator signing in as ``name``, once the password matches and they are not
    locked out."""
    found = session.scalars(select(Operator).where(Operator.name == name)).one_or_none()
    if found is None:
        password_matches(None, entered)  # the same work as a wrong password
        return None
    subject = guard.operator(name)
    matched = _password_guarded(session, settings, subject, now, found.password_hash, entered)
    return found if matched else None


def _password_guarded(
    session: Session,
    settings: Settings,
    subject: str,
    now: datetime,
    stored: str | None,
    entered: str,
) -> bool:
    """Every guess counts before it is checked (race-safe across servers); a right one
    clears the count. A guess the lock refuses costs the same Argon2 work, checked
    against nothing, so that the lock cannot be heard in the answer's time."""
    counted = _reserve(session, settings, subject, now)
    if not password_matches(stored if counted else None, entered) or not counted:
        return False
    guard.clear(session, subject)
    return True


def _reserve(session: Session, settings: Settings, subject: str, now: datetime) -> bool:
    """Count one guess at ``subject`` in advance; False while it is locked."""
    return guard.reserve_attempt(
        session,
        subject,
        limit=settings.verification_lockout_failures,
        lock_for=timedelta(minutes=settings.verification_lockout_minutes),
        now=now,
    )
