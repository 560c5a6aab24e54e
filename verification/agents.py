"""Agents' PINs on the agent line, under the same lockout as customers' (SPEC §5):
N wrong PINs in a row, across calls, lock the agent's phone verification."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from models import Agent
from settings import Settings
from verification import guard
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
    subject = guard.agent(agent.id)
    if not guard.reserve_attempt(
        session,
        subject,
        limit=settings.verification_lockout_failures,
        lock_for=timedelta(minutes=settings.verification_lockout_minutes),
        now=now,
    ):
        return False
    if not matches(key, AGENT_PIN, agent.id, entered, agent.pin_hash):
        return False
    guard.clear(session, subject)
    return True
