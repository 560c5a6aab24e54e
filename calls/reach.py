"""Where an agent is reached, and which agent a call Hotline placed has reached.

An agent's ``endpoint`` (a phone number, ``client:`` or ``sip:``; README "Callers in
mainland China") is where Hotline rings them; without one, their ``phone``. The phone
number alone identifies an agent who calls the agent line.
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from models import Agent
from telephony.endpoints import Endpoint, Phone, Sip, parse_endpoint


def agent_endpoint(agent: Agent) -> Endpoint:
    """Where ``agent`` is rung. Stored as ``telephony.endpoints`` writes them (phone
    numbers with their +), so this parses them back; ValueError for anything else."""
    return parse_endpoint(agent.endpoint or agent.phone, None)


def calling_agent(session: Session, phone: str | None) -> Agent | None:
    """The agent whose phone number calls the agent line, if any."""
    return session.scalar(select(Agent).where(Agent.phone == phone)) if phone else None


def rung_agent(session: Session, to: str) -> Agent | None:
    """The agent whose endpoint a call placed by Hotline went to (its ``To``). A SIP
    URI is matched by its user@host (``Endpoint.key``), however it is decorated."""
    try:
        endpoint = parse_endpoint(to, None)
    except ValueError:
        return None
    if isinstance(endpoint, Sip):
        sip_agents = session.scalars(select(Agent).where(Agent.endpoint.startswith("sip:")))
        return next((agent for agent in sip_agents if reach_key(agent) == endpoint.key), None)
    reached = Agent.endpoint == str(endpoint)
    if isinstance(endpoint, Phone):
        reached = or_(reached, and_(Agent.endpoint.is_(None), Agent.phone == endpoint.number))
    return session.scalar(select(Agent).where(reached))


def reach_key(agent: Agent) -> str | None:
    """The key (``Endpoint.key``) of where ``agent`` is rung; None if it is unreadable."""
    try:
        return agent_endpoint(agent).key
    except ValueError:
        return None
